"""The fine-tuning job as the worker runs it: validate, train (resuming), publish once.

Publishing is one transaction: the model enters the catalog, the training is billed
(a usage event whose ``ref_id`` is the job id, unique) and the job turns ``succeeded``,
all or nothing, each written through its own service (catalog, usage). A worker killed
at any point leaves either a job to resume or a finished job, never a second model or a
second bill.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from modelyard.audit import AuditRecord
from modelyard.catalog.kinds import BASE_TAG
from modelyard.finetune.checkpoints import prune_checkpoints
from modelyard.finetune.service import JOB_KIND, add_event, add_phase
from modelyard.jobs.context import JobContext
from modelyard.jobs.kinds import JobKind
from modelyard.jobs.lifecycle import Lifecycle, StopReason, safe_message
from modelyard.jobs.states import JobStatus
from modelyard.store.tables import FineTuningCheckpoint, FineTuningJob, ModelRecord, Tenant, utcnow
from modelyard.usage import UsageRecord, training_cost

__all__ = ["FINE_TUNE_JOB", "fine_tuned_record", "model_name", "publish", "run_fine_tune"]

log = logging.getLogger(__name__)
# What the trainer does for each reason to stop: a pause checkpoints, a cancel does not.
_TRAINER_STOP = {
    StopReason.LOST: "cancel",  # another worker owns the job now; stop without publishing
    StopReason.SHUTDOWN: "pause",  # checkpoint now; the job goes back to the queue
    StopReason.CANCELLED: "cancel",
    StopReason.PAUSED: "pause",
}


class _Hooks:
    """Connects the trainer to the job: events, checkpoints, and stop requests."""

    def __init__(self, context: JobContext, lifecycle: Lifecycle) -> None:
        self._context = context
        self._job_id = context.job_id
        self._lifecycle = lifecycle

    def on_event(self, event: dict[str, Any]) -> None:
        message = _describe(event)
        with self._context.db.session() as session:
            add_event(session, self._job_id, message, type="metrics", data=event)
            eta = event.get("eta_s")
            if eta is not None:
                job = session.get(FineTuningJob, self._job_id)
                job.estimated_finish = utcnow() + timedelta(seconds=float(eta))

    def on_phase(self, phase: str) -> None:
        with self._context.db.session() as session:
            add_phase(session, self._job_id, phase)

    def on_checkpoint(self, step: int, path: Path, metrics: dict[str, Any]) -> None:
        checkpoint_id = f"ftckpt-{self._job_id.removeprefix('ftjob-')[:16]}-{step}"
        removed = prune_checkpoints(path.parent, keep=self._context.settings.keep_checkpoints)
        with self._context.db.session() as session:
            if session.get(FineTuningCheckpoint, checkpoint_id) is None:
                session.add(
                    FineTuningCheckpoint(
                        id=checkpoint_id, job_id=self._job_id, step=step, metrics=_plain(metrics)
                    )
                )
                add_event(session, self._job_id, f"Checkpoint saved at step {step}", data={"step": step})
            if removed:
                # The list shows what can still be used: the rows go with their folders.
                session.execute(
                    delete(FineTuningCheckpoint).where(
                        FineTuningCheckpoint.job_id == self._job_id, FineTuningCheckpoint.step.in_(removed)
                    )
                )

    def should_stop(self) -> str | None:
        reason = self._lifecycle.stop_reason()
        return _TRAINER_STOP[reason] if reason is not None else None


def _describe(event: dict[str, Any]) -> str:
    parts = [f"Step {event.get('step')}/{event.get('total_steps', '?')}"]
    for key, label in (("train_loss", "training loss"), ("val_loss", "validation loss")):
        if event.get(key) is not None:
            parts.append(f"{label}={float(event[key]):.4f}")
    if event.get("resumed_from_step") is not None:
        return f"Resumed from checkpoint at step {event['resumed_from_step']}"
    return ", ".join(parts)


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, int | float) else v) for k, v in metrics.items()}


def run_fine_tune(context: JobContext) -> None:
    from modelyard.finetune.pipeline import prepare, train_job

    lifecycle = Lifecycle(context)
    if not lifecycle.runnable():
        return
    with context.db.session() as session:
        job = session.get(FineTuningJob, context.job_id)
    try:
        prepared = prepare(context, job)
    except Exception as exc:  # noqa: BLE001 - reported to the user as the job's error
        lifecycle.fail("invalid_training_file", safe_message(exc, "the training files could not be read"))
        return
    validated = lifecycle.move(JobStatus.QUEUED, f"Files validated: {prepared.summary}")
    if not validated and job.status == JobStatus.VALIDATING_FILES:
        context.queue.finish(job.id)  # cancelled (or failed) while its files were read
        return
    if not lifecycle.move(JobStatus.RUNNING, "Fine-tuning started", started_at=job.started_at or utcnow()):
        lifecycle.hand_back()
        return
    try:
        result = train_job(context, job, prepared, _Hooks(context, lifecycle))
    except Exception as exc:  # noqa: BLE001
        log.exception("training %s failed", job.id)
        lifecycle.fail("training_failed", safe_message(exc, "training failed with an internal error"))
        return
    _after_training(context, lifecycle, job, result)


def _after_training(context: JobContext, lifecycle: Lifecycle, job: FineTuningJob, result: Any) -> None:
    if context.lost.is_set():
        return  # the job belongs to another worker now
    if result.status == "succeeded":
        with context.db.session() as session:
            add_phase(session, job.id, "publishing")
        publish(context, job, result)
        context.queue.finish(job.id)
    elif result.status == "paused":
        lifecycle.hand_back()
    else:
        context.queue.finish(job.id)


def model_name(job: FineTuningJob, tenant_name: str) -> str:
    return f"ft:{job.model}:{tenant_name}:{job.suffix or ''}:{job.id.removeprefix('ftjob-')[:8]}"


def publish(context: JobContext, job: FineTuningJob, result: Any) -> str | None:
    """Catalog entry + bill + status in one transaction, exactly once; then the audit entry.

    Returns the new model's name, or None when there was nothing to publish (cancelled
    meanwhile, or published by an earlier attempt).
    """
    services = context.services
    with context.db.session() as session:
        current = session.get(FineTuningJob, job.id, with_for_update=True)
        if current.status != JobStatus.RUNNING:
            return None
        base = session.get(ModelRecord, job.model)
        name = model_name(job, session.get(Tenant, job.tenant_id).name)
        services.catalog.add_in(session, fine_tuned_record(name, job, base, result.adapter_dir))
        services.usage.record_in(session, _training_bill(job, current, base, result), ref_id=job.id)
        current.status, current.fine_tuned_model = JobStatus.SUCCEEDED, name
        current.trained_tokens, current.finished_at = result.trained_tokens, utcnow()
        add_event(session, job.id, f"New fine-tuned model created: {name}")
        add_event(session, job.id, "The job has successfully completed")
    # A new model in the catalog is an administrative change, made here and not over
    # HTTP. Queued after the publishing transaction (the worker flushes it when the job
    # ends): a crash between the two loses this entry, never the model or the bill.
    services.audit.record(
        AuditRecord(
            kind="admin",
            action="publish_fine_tuned_model",
            tenant_id=job.tenant_id,
            key_id=job.key_id,
            model=name,
            detail={"job": job.id, "base_model": job.model},
        )
    )
    return name


def _training_bill(job: FineTuningJob, current: FineTuningJob, base: ModelRecord, result: Any) -> UsageRecord:
    # Wall time across every attempt (a resumed job's earlier attempts included).
    wall_ms = (utcnow() - (current.started_at or utcnow())).total_seconds() * 1000
    return UsageRecord(
        tenant_id=job.tenant_id,
        key_id=job.key_id,
        model=job.model,
        endpoint="fine_tuning",
        prompt_tokens=result.trained_tokens,
        completion_tokens=0,
        latency_ms=wall_ms,
        status_code=200,
        cost=training_cost(result.trained_tokens, base.price_training_per_1k),
    )


def fine_tuned_record(
    name: str, job: FineTuningJob, base: ModelRecord, adapter_dir: Path, *, step: int | None = None
) -> ModelRecord:
    return ModelRecord(
        id=name,
        owner_tenant_id=job.tenant_id,
        backend=base.backend,
        task="chat",
        provider=base.provider,
        source={**base.source, "adapter": str(adapter_dir), "base_model": base.id},
        parameters=base.parameters,
        context_length=base.context_length,
        licence=base.licence,
        price_input_per_1k=base.price_input_per_1k,
        price_output_per_1k=base.price_output_per_1k,
        price_training_per_1k=base.price_training_per_1k,
        # Not "base-model": a fine-tune answers the task it learned (the card's kind follows).
        tags=[*(tag for tag in base.tags if tag != BASE_TAG), "fine-tuned"],
        description=f"LoRA fine-tune of {base.id} by job {job.id}"
        + (f", checkpoint at step {step}" if step is not None else ""),
        status="ready",
        builtin=False,
        lineage={
            "base_model": base.id,
            "job": job.id,
            "training_file": job.training_file,
            "validation_file": job.validation_file,
            "hyperparameters": dict(job.hyperparameters),
            "lora": dict(job.method),
            "seed": job.seed,
            **({"checkpoint_step": step} if step is not None else {}),
        },
    )


FINE_TUNE_JOB = JobKind(name=JOB_KIND, table=FineTuningJob, add_event=add_event, run=run_fine_tune)
