"""Metrics register their class under a name; an evaluation names them with options.

A spec is ``{"name": "exact_match", **options}``. ``build_metrics`` validates every spec with
the metric's own config class, so a typo in an option is refused when the evaluation is
created, not discovered after every model has answered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any, TypeVar

from pydantic import ValidationError

from modelyard.errors import InvalidRequest
from modelyard.evals.metrics.base import Metric

__all__ = [
    "BUILTIN_METRIC_MODULES",
    "available_metrics",
    "build_metrics",
    "register_metric",
    "registered_metrics",
]

MetricClass = TypeVar("MetricClass", bound=type[Metric[Any]])

# Imported when this module is, so the built-in names are taken before any plug-in can claim
# them. These modules are cheap: rouge_score, sacrebleu and numpy load inside the metric.
BUILTIN_METRIC_MODULES = (
    "modelyard.evals.metrics.matching",
    "modelyard.evals.metrics.structured",
    "modelyard.evals.metrics.overlap",
    "modelyard.evals.metrics.embedding",
    "modelyard.evals.metrics.judge",
)
_METRICS: dict[str, type[Metric[Any]]] = {}


def register_metric(name: str) -> Callable[[MetricClass], MetricClass]:
    """Class decorator: make ``cls`` available to evaluations as ``name``."""

    def decorator(cls: MetricClass) -> MetricClass:
        if name in _METRICS:
            raise ValueError(f"metric '{name}' is already registered")
        cls.name = name
        _METRICS[name] = cls
        return cls

    return decorator


def registered_metrics() -> list[str]:
    return sorted(_METRICS)


def available_metrics() -> list[dict[str, Any]]:
    """Every metric with its options as JSON schema, for the API and the console."""
    return [_describe(name, _METRICS[name]) for name in sorted(_METRICS)]


def _describe(name: str, cls: type[Metric[Any]]) -> dict[str, Any]:
    doc = (cls.__doc__ or "").strip()
    return {
        "name": name,
        "description": doc.split("\n\n")[0].replace("\n", " "),
        "requires_reference": cls.requires_reference,
        "options": cls.config_class.model_json_schema(),
    }


def build_metrics(specs: Sequence[Mapping[str, Any]]) -> list[Metric[Any]]:
    """One configured metric per spec; a bad spec raises ``InvalidRequest`` naming its field."""
    return [_build(index, spec) for index, spec in enumerate(specs)]


def _build(index: int, spec: Mapping[str, Any]) -> Metric[Any]:
    where = f"metrics.{index}"
    if not isinstance(spec, Mapping):
        raise InvalidRequest("each metric must be an object with a 'name'", param=where)
    name = spec.get("name")
    cls = _METRICS.get(name) if isinstance(name, str) else None
    if cls is None:
        known = ", ".join(registered_metrics())
        raise InvalidRequest(f"unknown metric {name!r}; available: {known}", param=f"{where}.name")
    options = {key: value for key, value in spec.items() if key != "name"}
    try:
        config = cls.config_class.model_validate(options)
    except ValidationError as exc:
        raise _invalid_option(name, where, exc) from None
    return cls(config)


def _invalid_option(name: str, where: str, exc: ValidationError) -> InvalidRequest:
    # One error per request (the envelope has one ``param``): the first is enough to fix.
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    label = f"option '{field}'" if field else "options"
    return InvalidRequest(f"metric '{name}' {label}: {message}", param=f"{where}.{field}" if field else where)


def _import_builtins() -> None:
    for module in BUILTIN_METRIC_MODULES:
        import_module(module)


_import_builtins()
