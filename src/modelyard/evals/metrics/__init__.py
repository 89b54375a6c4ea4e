"""Evaluation metrics: registered plug-ins that grade model outputs.

Usage::

    metrics = build_metrics([{"name": "exact_match", "normalize": ["strip", "lower"]}])
    scores = await metrics[0].score([(item, output), ...], MetricContext(judge=..., embed=...))

A new metric subclasses :class:`Metric` (or :class:`CaseMetric` for a pure per-output check),
declares a :class:`MetricConfig` subclass as ``config_class``, and is decorated with
``@register_metric("name")``.
"""

from modelyard.evals.metrics.base import (
    Case,
    CaseMetric,
    EmbedFn,
    JudgeFn,
    Metric,
    MetricConfig,
    MetricContext,
)
from modelyard.evals.metrics.overlap import corpus_bleu
from modelyard.evals.metrics.registry import (
    available_metrics,
    build_metrics,
    register_metric,
    registered_metrics,
)

__all__ = [
    "Case",
    "CaseMetric",
    "EmbedFn",
    "JudgeFn",
    "Metric",
    "MetricConfig",
    "MetricContext",
    "available_metrics",
    "build_metrics",
    "corpus_bleu",
    "register_metric",
    "registered_metrics",
]
