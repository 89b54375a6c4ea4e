"""Backends register a factory under a name; the catalog names the backend per model."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from modelyard.backends.base import BackendContext, EmbeddingBackend, ModelSpec, TextBackend
from modelyard.errors import InvalidRequest

__all__ = ["BUILTIN_BACKEND_MODULES", "Backend", "BackendFactory", "create_backend", "register_backend", "registered_backends"]

Backend = TextBackend | EmbeddingBackend
BackendFactory = Callable[[ModelSpec, BackendContext], Backend]

# Imported on first use so that the registry fills itself without importing torch early.
BUILTIN_BACKEND_MODULES = (
    "modelyard.backends.transformers",
    "modelyard.backends.sentence_transformers",
    "modelyard.backends.openai_compatible",
)
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    def decorator(factory: BackendFactory) -> BackendFactory:
        if name in _FACTORIES:
            raise ValueError(f"backend '{name}' is already registered")
        _FACTORIES[name] = factory
        return factory

    return decorator


def _load_builtins() -> None:
    for module in BUILTIN_BACKEND_MODULES:
        import_module(module)


def registered_backends() -> list[str]:
    _load_builtins()
    return sorted(_FACTORIES)


def create_backend(spec: ModelSpec, context: BackendContext) -> Backend:
    _load_builtins()
    factory = _FACTORIES.get(spec.backend)
    if factory is None:
        raise InvalidRequest(f"unknown backend '{spec.backend}'", param="backend")
    return factory(spec, context)
