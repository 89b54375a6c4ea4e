"""Wire models and shapes of the evaluations API (our own resource)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelyard.store.tables import Evaluation, EvaluationEvent, unix_seconds

__all__ = ["CreateEvaluationIn", "GenerationIn", "RatingIn", "evaluation_object", "event_object"]


class GenerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(default=256, ge=1, le=4096)
    seed: int | None = None


class CreateEvaluationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    file: str = Field(min_length=1, max_length=40)
    models: list[str] = Field(min_length=1, max_length=8)
    metrics: list[dict[str, Any]] = Field(min_length=1, max_length=12)
    generation: GenerationIn = Field(default_factory=GenerationIn)
    tolerance_points: float = Field(default=2.0, ge=0.0, le=100.0)
    primary_metric: str | None = Field(default=None, max_length=60)
    concurrency: int = Field(default=8, ge=1, le=32)

    @model_validator(mode="after")
    def _distinct(self) -> CreateEvaluationIn:
        if len(set(self.models)) != len(self.models):
            raise ValueError("models must be distinct")
        return self


class RatingIn(BaseModel):
    """An A/B preference (model_b + winner) or a score of one answer (score)."""

    model_config = ConfigDict(extra="forbid")

    item: int = Field(ge=0)
    model_a: str = Field(min_length=1, max_length=200)
    model_b: str | None = Field(default=None, max_length=200)
    winner: Literal["a", "b", "tie"] | None = None
    score: float | None = Field(default=None, ge=0.0, le=10.0)

    @model_validator(mode="after")
    def _one_kind(self) -> RatingIn:
        if self.model_b is not None and self.winner is None:
            raise ValueError("an A/B rating needs 'winner' (a, b or tie)")
        if self.model_b is None and self.score is None:
            raise ValueError("rate one answer with 'score', or compare two with 'model_b' and 'winner'")
        return self


def evaluation_object(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "object": "evaluation",
        "id": evaluation.id,
        "name": evaluation.name,
        "status": evaluation.status,
        "file": evaluation.file_id,
        "models": list(evaluation.models),
        "metrics": list(evaluation.metrics),
        "generation": dict(evaluation.generation),
        "tolerance_points": evaluation.tolerance_points,
        "primary_metric": evaluation.primary_metric,
        "progress": dict(evaluation.progress),
        "error": evaluation.error,
        "created_at": unix_seconds(evaluation.created_at),
        "started_at": unix_seconds(evaluation.started_at),
        "finished_at": unix_seconds(evaluation.finished_at),
    }


def event_object(event: EvaluationEvent) -> dict[str, Any]:
    return {
        "object": "evaluation.event",
        "id": f"evalevent-{event.id}",
        "created_at": unix_seconds(event.created_at),
        "level": event.level,
        "message": event.message,
        "data": event.data,
    }
