"""Publishing a chosen checkpoint of a finished job as a model of its tenant.

A job that succeeded published its last step already; this publishes any checkpoint
still stored (an earlier step that validated better, or the last one of a job that was
cancelled or failed) under ``<the job's model name>:ckpt-step-<step>``, once.

Billing: training is billed once per job (a usage event whose ``ref_id`` is the job id).
A succeeded job was billed when it finished, so publishing its checkpoints costs
nothing more. A cancelled or failed job was not billed; its first publish bills its
training up to its latest stored checkpoint (every step any of its checkpoints holds),
in the same transaction as the new model, and later publishes of the same job bill
nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from modelyard.audit import AuditRecord
from modelyard.errors import Conflict, InvalidRequest
from modelyard.finetune import checkpoints as ckpt
from modelyard.finetune.job import fine_tuned_record, model_name
from modelyard.finetune.service import add_event
from modelyard.jobs.states import TERMINAL
from modelyard.store.tables import FineTuningCheckpoint, FineTuningJob, ModelRecord, UsageEvent
from modelyard.tenancy import Principal
from modelyard.usage import UsageRecord, training_cost

if TYPE_CHECKING:
    from modelyard.services import Services

__all__ = ["checkpoint_model_name", "publish_checkpoint"]

_PUBLISHED = "published"


def checkpoint_model_name(job: FineTuningJob, tenant_name: str, step: int) -> str:
    return f"{model_name(job, tenant_name)}:ckpt-step-{step}"


def publish_checkpoint(services: Services, job_id: str, step: int, principal: Principal) -> str:
    """Publish the checkpoint of ``step``; returns the new model's name.

    404 for a job of another tenant; 409 while the job runs, for a checkpoint already
    published or no longer stored; 400 for a step with no checkpoint.
    """
    job = services.fine_tuning.get(job_id, principal)
    if job.status not in TERMINAL:
        raise Conflict(
            f"fine-tuning job '{job_id}' is {job.status}; publish a checkpoint once it has "
            "finished or been cancelled",
            code="job_not_finished",
        )
    steps = _stored_steps(services, job_id)
    if step not in steps:
        where = f"its checkpoints are at steps {', '.join(map(str, steps))}" if steps else "it has none"
        raise InvalidRequest(
            f"fine-tuning job '{job_id}' has no checkpoint at step {step}; {where}",
            param="step",
            code="checkpoint_not_found",
        )
    name = checkpoint_model_name(job, principal.tenant_name, step)
    with services.db.session() as session:
        if session.get(ModelRecord, name) is not None:
            raise Conflict(
                f"the checkpoint at step {step} is already published as '{name}'",
                code="checkpoint_already_published",
            )
    work_dir = services.settings.jobs_dir / job.id
    source = ckpt.checkpoint_dir(work_dir / "checkpoints", step)
    if not all((source / f).is_file() for f in (ckpt.ADAPTER_WEIGHTS, ckpt.ADAPTER_CONFIG)):
        raise Conflict(f"the checkpoint at step {step} is no longer stored", code="checkpoint_not_stored")
    # A copy of the adapter alone: the checkpoint folder may be pruned, the model must stay.
    adapter = ckpt.write_atomically(work_dir / _PUBLISHED / source.name, lambda d: _copy_adapter(source, d))

    with services.db.session() as session:
        current = session.get(FineTuningJob, job.id, with_for_update=True)
        base = session.get(ModelRecord, job.model)
        if base is None:
            raise Conflict(f"the base model '{job.model}' was removed", code="base_model_removed")
        # add_in raises Conflict if a concurrent publish took the name first.
        services.catalog.add_in(session, fine_tuned_record(name, current, base, adapter, step=step))
        billed = session.scalar(select(UsageEvent.id).where(UsageEvent.ref_id == job.id)) is not None
        if not billed:
            tokens = _trained_tokens(work_dir)
            services.usage.record_in(session, _bill(current, base, tokens), ref_id=job.id)
        add_event(session, job.id, f"Checkpoint at step {step} published as {name}", data={"step": step})
    services.audit.record(
        AuditRecord(
            kind="admin",
            action="publish_fine_tuned_model",
            tenant_id=job.tenant_id,
            key_id=principal.key_id,
            model=name,
            detail={"job": job.id, "base_model": job.model, "checkpoint_step": step, "billed": not billed},
        )
    )
    return name


def _stored_steps(services: Services, job_id: str) -> list[int]:
    query = (
        select(FineTuningCheckpoint.step)
        .where(FineTuningCheckpoint.job_id == job_id)
        .order_by(FineTuningCheckpoint.step)
    )
    with services.db.session() as session:
        return list(session.scalars(query))


def _copy_adapter(source: Path, folder: Path) -> None:
    for name in (ckpt.ADAPTER_WEIGHTS, ckpt.ADAPTER_CONFIG):
        shutil.copyfile(source / name, folder / name)


def _trained_tokens(work_dir: Path) -> int:
    """Tokens trained up to the latest stored checkpoint (its state file counts them)."""
    latest = ckpt.latest_checkpoint(work_dir / "checkpoints")
    if latest is None:
        return 0
    progress: dict[str, Any] = ckpt.read_json(latest.path / ckpt.STATE_FILE).get("progress", {})
    return int(progress.get("trained_tokens", 0))


def _bill(job: FineTuningJob, base: ModelRecord, tokens: int) -> UsageRecord:
    wall_ms = (
        (job.finished_at - job.started_at).total_seconds() * 1000
        if job.finished_at and job.started_at
        else 0.0
    )
    return UsageRecord(
        tenant_id=job.tenant_id,
        key_id=job.key_id,
        model=job.model,
        endpoint="fine_tuning",
        prompt_tokens=tokens,
        completion_tokens=0,
        latency_ms=wall_ms,
        status_code=200,
        cost=training_cost(tokens, base.price_training_per_1k),
    )
