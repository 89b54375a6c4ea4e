"""From a job row to a training run: read the files, find the base weights, train."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidRequest
from modelyard.files import FilesService
from modelyard.jobs.worker import JobContext
from modelyard.prompting import Message
from modelyard.store.tables import FineTuningJob, ModelRecord

__all__ = ["Prepared", "prepare", "train_job"]


@dataclass(frozen=True, slots=True)
class Prepared:
    base_dir: Path
    train: list[list[Message]]
    validation: list[list[Message]] | None
    summary: str


def _base_folder(context: JobContext, record: ModelRecord) -> Path:
    from modelyard.backends.base import ModelSpec
    from modelyard.backends.transformers.loading import resolve_folder
    from modelyard.services import backend_context

    spec = ModelSpec(id=record.id, backend=record.backend, task=record.task, source=dict(record.source))
    return resolve_folder(spec, backend_context(context.settings))


def prepare(context: JobContext, job: FineTuningJob) -> Prepared:
    """Blocking. Raises ``ModelyardError`` with a user-facing message when it cannot train."""
    files = FilesService.from_settings(context.db, context.settings)
    train = files.examples(job.tenant_id, job.training_file)
    validation = files.examples(job.tenant_id, job.validation_file) if job.validation_file else None
    if not train:
        raise InvalidRequest("the training file has no usable examples", param="training_file")
    with context.db.session() as session:
        base = session.get(ModelRecord, job.model)
    if base is None:
        raise InvalidRequest(f"the base model '{job.model}' was removed", param="model")
    summary = f"{len(train)} training examples" + (
        f", {len(validation)} validation examples" if validation else ""
    )
    return Prepared(_base_folder(context, base), train, validation, summary)


def train_job(context: JobContext, job: FineTuningJob, prepared: Prepared, hooks: Any) -> Any:
    from modelyard.finetune.runner import train
    from modelyard.finetune.spec import TrainSpec, resolve

    spec = TrainSpec.from_request(hyperparameters=job.hyperparameters, lora=job.method, seed=job.seed)
    resolved = resolve(_with_checkpoints(spec, context.settings.checkpoint_every_steps), len(prepared.train))
    return train(
        resolved,
        base_model_dir=prepared.base_dir,
        train=prepared.train,
        validation=prepared.validation,
        work_dir=context.settings.jobs_dir / job.id,
        hooks=hooks,
        dtype=context.settings.train_dtype,
    )


def _with_checkpoints(spec: Any, every: int) -> Any:
    from dataclasses import replace

    return replace(spec, checkpoint_every_steps=every)
