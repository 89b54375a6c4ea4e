"""The fine-tuning job as the worker runs it: validate, train (resuming), publish once.

Publishing is one transaction: the model enters the catalog, the training is billed
(a usage event whose ``ref_id`` is the job id, unique) and the job turns ``succeeded``,
all or nothing. A worker killed at any point leaves either a job to resume or a finished
job, never a second model or a second bill.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from modelyard.finetune.checkpoints import prune_checkpoints
from modelyard.finetune.service import JOB_KIND, add_event
from modelyard.finetune.states import TERMINAL, check_transition
from modelyard.jobs.worker import JobContext, register_job_kind
from modelyard.store.tables import FineTuningCheckpoint, FineTuningJob, ModelRecord, UsageEvent, utcnow
from modelyard.usage import training_cost

__all__ = ["run_fine_tune"]

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class _Hooks:
    """Connects the trainer to the job: events, checkpoints, and stop requests."""

    def __init__(self, context: JobContext, job_id: str) -> None:
        self._context = context
        self._job_id = job_id
        self._last_status_check = 0.0
        self._status = "running"

    def on_event(self, event: dict[str, Any]) -> None:
        message = _describe(event)
        with self._context.db.session() as session:
            add_event(session, self._job_id, message, type="metrics", data=event)
            eta = event.get("eta_s")
            if eta is not None:
                job = session.get(FineTuningJob, self._job_id)
                job.estimated_finish = utcnow() + timedelta(seconds=float(eta))

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
        if self._context.lost.is_set():
            return "cancel"  # another worker owns the job now; stop without publishing
        if self._context.shutdown.is_set():
            return "pause"  # checkpoint now; the job goes back to the queue for the next worker
        now = time.monotonic()
        if now - self._last_status_check >= 0.5:
            self._last_status_check = now
            with self._context.db.session() as session:
                self._status = session.get(FineTuningJob, self._job_id).status
        return {"cancelled": "cancel", "paused": "pause", "failed": "cancel"}.get(self._status)


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


def _set_status(
    context: JobContext, job_id: str, target: str, message: str, **fields: Any
) -> FineTuningJob | None:
    """Move the job if it still may; returns None when someone else moved it first."""
    with context.db.session() as session:
        job = session.get(FineTuningJob, job_id, with_for_update=True)
        if job.status == target:
            return job
        try:
            check_transition(job.status, target)
        except Exception:  # noqa: BLE001 - e.g. cancelled meanwhile: the user's word wins
            return None
        job.status = target
        for name, value in fields.items():
            setattr(job, name, value)
        add_event(session, job_id, message, level="error" if target == "failed" else "info")
        return job


@register_job_kind(JOB_KIND)
def run_fine_tune(context: JobContext) -> None:
    from modelyard.finetune.pipeline import prepare, train_job

    job_id = context.lease.job_id
    with context.db.session() as session:
        job = session.get(FineTuningJob, job_id)
    if job is None or job.status in TERMINAL:
        context.queue.finish(job_id)
        return
    if job.status == "paused":
        context.queue.hold(job_id)
        return
    if context.lease.attempt > MAX_ATTEMPTS:
        _fail(context, job_id, "worker_crashed", f"the worker stopped {MAX_ATTEMPTS} times on this job")
        return
    try:
        prepared = prepare(context, job)
    except Exception as exc:  # noqa: BLE001 - reported to the user as the job's error
        _fail(context, job_id, "invalid_training_file", _safe_message(exc))
        return
    if (
        _set_status(context, job_id, "queued", f"Files validated: {prepared.summary}") is None
        and job.status == "validating_files"
    ):
        context.queue.finish(job_id)
        return
    started = _set_status(
        context, job_id, "running", "Fine-tuning started", started_at=job.started_at or utcnow()
    )
    if started is None:
        _release(context, job_id)
        return
    try:
        result = train_job(context, job, prepared, _Hooks(context, job_id))
    except Exception as exc:  # noqa: BLE001
        log.exception("training %s failed", job_id)
        _fail(context, job_id, "training_failed", _safe_message(exc))
        return
    _after_training(context, job, result)


def _after_training(context: JobContext, job: FineTuningJob, result: Any) -> None:
    if context.lost.is_set():
        return  # the job belongs to another worker now
    if result.status == "succeeded":
        publish(context, job, result)
        context.queue.finish(job.id)
    elif result.status == "paused":
        _release(context, job.id)
    else:
        context.queue.finish(job.id)


def _release(context: JobContext, job_id: str) -> None:
    """After a pause: hold the job, unless it was resumed while it was stopping."""
    with context.db.session() as session:
        status = session.get(FineTuningJob, job_id).status
    if status == "paused":
        context.queue.hold(job_id)
    elif status in TERMINAL:
        context.queue.finish(job_id)
    else:
        context.queue.hold(job_id)
        context.queue.enqueue(job_id, kind=JOB_KIND, tenant_id=context.lease.tenant_id)


def _fail(context: JobContext, job_id: str, code: str, message: str) -> None:
    _set_status(
        context,
        job_id,
        "failed",
        f"Job failed: {message}",
        error={"code": code, "message": message, "param": None},
        finished_at=utcnow(),
    )
    context.queue.finish(job_id)


def _safe_message(exc: Exception) -> str:
    # Our own errors are written for users; anything else may hold paths or internals.
    from modelyard.errors import ModelyardError

    return exc.message if isinstance(exc, ModelyardError) else "training failed with an internal error"


def model_name(job: FineTuningJob, tenant_name: str) -> str:
    return f"ft:{job.model}:{tenant_name}:{job.suffix or ''}:{job.id.removeprefix('ftjob-')[:8]}"


def publish(context: JobContext, job: FineTuningJob, result: Any) -> None:
    """Catalog entry + bill + status, in one transaction, exactly once."""
    from modelyard.store.tables import Tenant

    with context.db.session() as session:
        current = session.get(FineTuningJob, job.id, with_for_update=True)
        if current.status != "running":
            return  # cancelled meanwhile, or published by an earlier attempt
        base = session.get(ModelRecord, job.model)
        tenant = session.get(Tenant, job.tenant_id)
        name = model_name(job, tenant.name)
        # Wall time across every attempt (a resumed job's earlier attempts included).
        wall_ms = (utcnow() - (current.started_at or utcnow())).total_seconds() * 1000
        session.add(_fine_tuned_record(name, job, base, result))
        session.add(
            UsageEvent(
                tenant_id=job.tenant_id,
                key_id=job.key_id,
                model=job.model,
                endpoint="fine_tuning",
                prompt_tokens=result.trained_tokens,
                completion_tokens=0,
                latency_ms=wall_ms,
                status_code=200,
                cost=training_cost(result.trained_tokens, base.price_training_per_1k),
                ref_id=job.id,
            )
        )
        current.status, current.fine_tuned_model = "succeeded", name
        current.trained_tokens, current.finished_at = result.trained_tokens, utcnow()
        add_event(session, job.id, f"New fine-tuned model created: {name}")
        add_event(session, job.id, "The job has successfully completed")
    _audit_publish(context, job, name)


def _audit_publish(context: JobContext, job: FineTuningJob, name: str) -> None:
    """A new model in the catalog is an administrative change, made here and not over HTTP.

    Written after the publishing transaction: a crash between the two loses this entry,
    never the model or the bill.
    """
    from modelyard.audit.log import AuditLog, AuditRecord

    detail = {"job": job.id, "base_model": job.model}
    record = AuditRecord(
        kind="admin",
        action="publish_fine_tuned_model",
        tenant_id=job.tenant_id,
        key_id=job.key_id,
        model=name,
        detail=detail,
    )
    AuditLog(context.db).append([record])


def _fine_tuned_record(name: str, job: FineTuningJob, base: ModelRecord, result: Any) -> ModelRecord:
    return ModelRecord(
        id=name,
        owner_tenant_id=job.tenant_id,
        backend=base.backend,
        task="chat",
        provider=base.provider,
        source={**base.source, "adapter": str(result.adapter_dir), "base_model": base.id},
        parameters=base.parameters,
        context_length=base.context_length,
        licence=base.licence,
        price_input_per_1k=base.price_input_per_1k,
        price_output_per_1k=base.price_output_per_1k,
        price_training_per_1k=base.price_training_per_1k,
        tags=[*base.tags, "fine-tuned"],
        description=f"LoRA fine-tune of {base.id} by job {job.id}",
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
        },
    )
