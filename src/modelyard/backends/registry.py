"""Backends register a factory under a name; the catalog names the backend per model."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from modelyard.backends.base import BackendContext, EmbeddingBackend, ModelSpec, TextBackend
from modelyard.errors import InvalidRequest

__all__ = [
    "BUILTIN_BACKEND_MODULES",
    "Backend",
    "BackendFactory",
    "create_backend",
    "register_backend",
    "registered_backends",
]

Backend = TextBackend | EmbeddingBackend
BackendFactory = Callable[[ModelSpec, BackendContext], Backend]

# A built-in backend's module is imported the first time a model needs it, so that a
# gateway serving only remote models never imports torch.
BUILTIN_BACKEND_MODULES = {
    "transformers": "modelyard.backends.transformers",
    "sentence-transformers": "modelyard.backends.sentence_transformers",
    "openai-compatible": "modelyard.backends.openai_compatible",
}
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    def decorator(factory: BackendFactory) -> BackendFactory:
        if name in _FACTORIES:
            raise ValueError(f"backend '{name}' is already registered")
        _FACTORIES[name] = factory
        return factory

    return decorator


def registered_backends() -> list[str]:
    return sorted(set(_FACTORIES) | set(BUILTIN_BACKEND_MODULES))


def create_backend(spec: ModelSpec, context: BackendContext) -> Backend:
    if spec.backend not in _FACTORIES and spec.backend in BUILTIN_BACKEND_MODULES:
        import_module(BUILTIN_BACKEND_MODULES[spec.backend])
    factory = _FACTORIES.get(spec.backend)
    if factory is None:
        raise InvalidRequest(f"unknown backend '{spec.backend}'", param="backend")
    return factory(spec, context)
