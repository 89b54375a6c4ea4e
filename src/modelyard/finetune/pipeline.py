"""From a job row to a training run: read the files, find the base weights, train."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidRequest
from modelyard.jobs.context import JobContext
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

    spec = ModelSpec(id=record.id, backend=record.backend, task=record.task, source=dict(record.source))
    return resolve_folder(spec, context.services.pool.context)


def prepare(context: JobContext, job: FineTuningJob) -> Prepared:
    """Blocking. Raises ``ModelyardError`` with a user-facing message when it cannot train."""
    files = context.services.files
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
        dtype=_train_dtype(context.settings, context.settings.jobs_dir / job.id),
    )


def _train_dtype(settings: Any, work_dir: Path) -> str:
    """The configured format; for "auto" the one a resumed job's checkpoints were trained
    in (its checkpoints only resume in it), else the one measured faster for training here."""
    from modelyard.finetune import checkpoints as ckpt
    from modelyard.hardware import NumberFormats, apply_threads

    apply_threads(settings.torch_threads)
    if settings.train_dtype != "auto":
        return str(settings.train_dtype)
    latest = ckpt.latest_checkpoint(work_dir / "checkpoints")
    if latest is not None:
        recorded = ckpt.read_json(latest.path / ckpt.STATE_FILE).get("dtype")
        if recorded in ("float32", "bfloat16"):
            return str(recorded)
    return NumberFormats.from_settings(settings).train_dtype("auto")


def _with_checkpoints(spec: Any, every: int) -> Any:
    from dataclasses import replace

    return replace(spec, checkpoint_every_steps=every)
