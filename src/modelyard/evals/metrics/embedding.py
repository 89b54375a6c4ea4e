"""Semantic similarity of output and reference, by the cosine of their embeddings."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import Field

from modelyard.evals.metrics.base import (
    NO_REFERENCE,
    Case,
    Metric,
    MetricConfig,
    MetricContext,
    describe_error,
)
from modelyard.evals.metrics.registry import register_metric
from modelyard.evals.results import Score

__all__ = ["EmbeddingSimilarity", "EmbeddingSimilarityConfig", "cosine"]


class EmbeddingSimilarityConfig(MetricConfig):
    model: str = Field(
        default="all-minilm-l6-v2", min_length=1, description="Catalog id of an embedding model."
    )


@register_metric("embedding_similarity")
class EmbeddingSimilarity(Metric[EmbeddingSimilarityConfig]):
    """Cosine similarity of output and reference embeddings, negatives counted as 0.

    All outputs and references go to the embedding model in one call. A negative cosine
    (unrelated or opposed texts) is reported as 0 so the metric stays a fraction like the others.
    """

    config_class = EmbeddingSimilarityConfig

    async def score(self, cases: Sequence[Case], context: MetricContext) -> list[Score]:
        graded = [index for index, (item, _) in enumerate(cases) if item.reference is not None]
        scores = [NO_REFERENCE] * len(cases)
        if not graded:
            return scores
        outputs = [cases[index][1] for index in graded]
        references = [cases[index][0].reference or "" for index in graded]
        verdicts = await self._similarities(outputs, references, context)
        for index, verdict in zip(graded, verdicts, strict=True):
            scores[index] = verdict
        return scores

    async def _similarities(
        self, outputs: list[str], references: list[str], context: MetricContext
    ) -> list[Score]:
        try:
            vectors = await context.embed(self.config.model, outputs + references)
        except Exception as exc:  # any failed call: every case ungraded, the evaluation goes on
            return [Score(None, f"ungraded: embedding failed: {describe_error(exc)}")] * len(outputs)
        if len(vectors) != 2 * len(outputs):
            why = f"ungraded: embedding returned {len(vectors)} vectors for {2 * len(outputs)} texts"
            return [Score(None, why)] * len(outputs)
        pairs = zip(vectors[: len(outputs)], vectors[len(outputs) :], strict=True)
        return [_similarity(output, reference) for output, reference in pairs]


def _similarity(a: Sequence[float], b: Sequence[float]) -> Score:
    value = cosine(a, b)
    if value is None:
        return Score(None, "ungraded: an embedding is empty, all zeros, not finite or of another size")
    return Score(max(0.0, min(1.0, value)))


def cosine(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Cosine similarity, or None when it is undefined."""
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    if len(a) != len(b) or not (math.isfinite(norm) and norm > 0.0):
        return None
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm
