"""Wire models and shapes of OpenAI's fine-tuning API (plus our LoRA block)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.store.tables import FineTuningCheckpoint, FineTuningEvent, FineTuningJob, unix_seconds

__all__ = ["CreateJobIn", "checkpoint_object", "event_object", "job_object"]

Auto = Literal["auto"]


class HyperparametersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_epochs: Annotated[int, Field(ge=1, le=50)] | Auto = "auto"
    batch_size: Annotated[int, Field(ge=1, le=256)] | Auto = "auto"
    learning_rate_multiplier: Annotated[float, Field(gt=0, le=100)] | Auto = "auto"


class LoraIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int | None = Field(default=None, ge=1, le=256)
    alpha: float | None = Field(default=None, gt=0)
    dropout: float | None = Field(default=None, ge=0, lt=1)
    target_modules: list[str] | None = Field(default=None, max_length=32)
    max_seq_length: int | None = Field(default=None, ge=16, le=32768)


class SupervisedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hyperparameters: HyperparametersIn = Field(default_factory=HyperparametersIn)


class MethodIn(BaseModel):
    """OpenAI's ``method`` block; ``lora`` is our own advanced section."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["supervised"] = "supervised"
    supervised: SupervisedIn | None = None
    lora: LoraIn = Field(default_factory=LoraIn)


class CreateJobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    training_file: str = Field(min_length=1, max_length=40)
    validation_file: str | None = Field(default=None, max_length=40)
    suffix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    hyperparameters: HyperparametersIn | None = None
    method: MethodIn | None = None
    integrations: list[Any] | None = Field(default=None, max_length=0)
    metadata: dict[str, str] | None = None

    def resolved_hyperparameters(self) -> dict[str, Any]:
        from_method = (
            self.method.supervised.hyperparameters if self.method and self.method.supervised else None
        )
        chosen = from_method or self.hyperparameters or HyperparametersIn()
        return chosen.model_dump()

    def lora(self) -> dict[str, Any]:
        block = self.method.lora if self.method else LoraIn()
        return block.model_dump(exclude_none=True)


def job_object(job: FineTuningJob) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job",
        "id": job.id,
        "model": job.model,
        "created_at": unix_seconds(job.created_at),
        "finished_at": unix_seconds(job.finished_at),
        "fine_tuned_model": job.fine_tuned_model,
        "organization_id": job.tenant_id,
        "result_files": [],
        "status": job.status,
        "validation_file": job.validation_file,
        "training_file": job.training_file,
        "hyperparameters": dict(job.hyperparameters),
        "trained_tokens": job.trained_tokens,
        "error": job.error,
        "seed": job.seed,
        "estimated_finish": unix_seconds(job.estimated_finish),
        "integrations": [],
        "suffix": job.suffix,
        "method": {
            "type": "supervised",
            "supervised": {"hyperparameters": dict(job.hyperparameters)},
            "lora": dict(job.method),
        },
    }


def event_object(event: FineTuningEvent) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.event",
        "id": f"ftevent-{event.id}",
        "created_at": unix_seconds(event.created_at),
        "level": event.level,
        "message": event.message,
        "data": event.data,
        "type": event.type,
    }


def checkpoint_object(
    checkpoint: FineTuningCheckpoint, job: FineTuningJob, name: str, published: bool
) -> dict[str, Any]:
    """``name`` is the model the checkpoint is (or would be) published as; ``published``
    whether it is (our addition, for the publish button)."""
    return {
        "object": "fine_tuning.job.checkpoint",
        "id": checkpoint.id,
        "created_at": unix_seconds(checkpoint.created_at),
        "fine_tuned_model_checkpoint": name,
        "step_number": checkpoint.step,
        "metrics": dict(checkpoint.metrics),
        "fine_tuning_job_id": job.id,
        "published": published,
    }
