"""The plain data an evaluation produces: what the runner writes and the report reads.

Kept free of the database and of HTTP so that metrics, the report and the HTML page can be
built and tested from these dataclasses alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["EvalItem", "EvalOutput", "EvalResults", "ModelInfo", "Rating", "Score"]


@dataclass(frozen=True, slots=True)
class EvalItem:
    index: int
    prompt: str  # the conversation as text (for the report), never sent anywhere
    messages: list[dict[str, str]]  # what the models are asked (without the reference answer)
    reference: str | None  # None for judge-only grading


@dataclass(frozen=True, slots=True)
class Score:
    """One metric's verdict on one output. ``value`` None means ungraded (and why)."""

    value: float | None
    detail: str | None = None


@dataclass(slots=True)
class EvalOutput:
    item: int
    model: str
    output: str | None  # None when the call failed
    error: str | None = None
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    scores: dict[str, Score] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    provider: str
    price_input_per_1k: float
    price_output_per_1k: float


@dataclass(frozen=True, slots=True)
class Rating:
    """A person's verdict: an A/B preference (``winner`` in a/b/tie) or a score of one model."""

    item: int
    model_a: str
    model_b: str | None = None
    winner: str | None = None  # "a" | "b" | "tie"
    score: float | None = None


@dataclass(slots=True)
class EvalResults:
    id: str
    name: str
    created_at: int
    models: list[ModelInfo]
    metrics: list[dict[str, Any]]  # [{"name": "exact_match", ...options}]
    items: list[EvalItem]
    outputs: list[EvalOutput]
    ratings: list[Rating] = field(default_factory=list)
    tolerance_points: float = 2.0  # "cheapest within N points of the best"
    primary_metric: str | None = None  # defaults to the first metric
