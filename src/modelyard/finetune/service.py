"""Fine-tuning jobs as the API sees them: create, read, and steer (cancel/pause/resume)."""

from __future__ import annotations

import math
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select

from modelyard.catalog import CatalogService
from modelyard.errors import Conflict, InvalidRequest, NotFound, QuotaExceeded
from modelyard.files import FilesService
from modelyard.finetune.checkpoints import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from modelyard.finetune.protocol import CreateJobIn
from modelyard.finetune.spec import planned_epochs
from modelyard.jobs import JobQueue
from modelyard.jobs.states import ACTIVE, TERMINAL, JobStatus, check_transition
from modelyard.quotas.service import QuotaService, job_session
from modelyard.store import Database
from modelyard.store.tables import (
    FineTuningCheckpoint,
    FineTuningEvent,
    FineTuningJob,
    ModelRecord,
    utcnow,
)
from modelyard.tenancy import Principal
from modelyard.usage import training_cost

__all__ = ["JOB_KIND", "PHASES", "FineTuningService", "add_event", "add_phase"]

JOB_KIND = "fine_tune"
# What a job is doing, in order, each written as an event when it begins (``data.phase``):
# before the first step a job spends minutes loading and tokenizing, and says so.
PHASES = ("queued", "loading_base", "tokenizing", "training", "saving", "publishing")
_PHASE_MESSAGES = {
    "queued": "Waiting for a worker",
    "loading_base": "Loading the base model",
    "tokenizing": "Tokenizing the training data",
    "training": "Training",
    "saving": "Saving the adapter",
    "publishing": "Publishing the model",
}
_TUNABLE_BACKENDS = frozenset({"transformers"})
ADAPTER_FILES = (ADAPTER_WEIGHTS, ADAPTER_CONFIG)


def add_event(
    session: Any,
    job_id: str,
    message: str,
    *,
    level: str = "info",
    type: str = "message",
    data: dict[str, Any] | None = None,
) -> None:  # noqa: A002
    session.add(FineTuningEvent(job_id=job_id, level=level, type=type, message=message, data=data))


def add_phase(session: Any, job_id: str, phase: str) -> None:
    """A phase event: an OpenAI ``message`` event whose ``data.phase`` names the phase."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}")
    add_event(session, job_id, f"Phase: {_PHASE_MESSAGES[phase]}", data={"phase": phase})


def _phase_from_status(job: FineTuningJob) -> str | None:
    """The phase a job's status alone tells; a running job's comes from its events."""
    if job.status in (JobStatus.VALIDATING_FILES, JobStatus.QUEUED):
        return "queued"
    return None


class FineTuningService:
    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        catalog: CatalogService,
        files: FilesService,
        quotas: QuotaService | None = None,
    ) -> None:
        self._db = db
        self._queue = queue
        self._catalog = catalog
        self._files = files
        self._quotas = quotas

    def create(self, body: CreateJobIn, principal: Principal) -> FineTuningJob:
        base = self.tunable_base(body.model, principal)
        self.require_file(body.training_file, principal, "training_file")
        if body.validation_file:
            self.require_file(body.validation_file, principal, "validation_file")
        self._check_budget(base, body, principal)
        job = FineTuningJob(
            id=f"ftjob-{secrets.token_hex(12)}",
            tenant_id=principal.tenant_id,
            key_id=principal.key_id,
            model=body.model,
            training_file=body.training_file,
            validation_file=body.validation_file,
            suffix=body.suffix,
            seed=body.seed if body.seed is not None else secrets.randbelow(2**31),
            hyperparameters=body.resolved_hyperparameters(),
            method=body.lora(),
            status=JobStatus.VALIDATING_FILES,
        )
        # The job cap is checked in the transaction that inserts the job (429 when full).
        with job_session(self._db, self._quotas, principal) as session:
            session.add(job)
            session.flush()
            add_event(session, job.id, f"Created fine-tuning job {job.id}")
            add_phase(session, job.id, "queued")
            # In the same transaction: a crash cannot leave a job that never runs.
            self._queue.enqueue(job.id, kind=JOB_KIND, tenant_id=principal.tenant_id, session=session)
        return job

    def tunable_base(self, model: str, principal: Principal) -> ModelRecord:
        """The visible base model ``model``, if it can be fine-tuned here; else a 400."""
        base = self._catalog.get_visible(model, principal)
        if base.backend not in _TUNABLE_BACKENDS or base.task != "chat" or "adapter" in base.source:
            raise InvalidRequest(
                f"model '{model}' cannot be fine-tuned here; pick a local base model",
                param="model",
                code="model_not_tunable",
            )
        if base.source.get("prompt_format") == "chat_template":
            # Training renders our default format; serving would use the model's template.
            raise InvalidRequest(
                f"model '{model}' is served with its own chat template; "
                "fine-tuning such models is not supported yet",
                param="model",
                code="model_not_tunable",
            )
        return base

    def _check_budget(self, base: ModelRecord, body: CreateJobIn, principal: Principal) -> None:
        """A job whose estimated bill is more than what is left of the budget never starts."""
        left = self._quotas.budget_left(principal) if self._quotas and base.price_training_per_1k else None
        if left is None:
            return
        training = self._files.get(principal, body.training_file)
        epochs = planned_epochs(body.resolved_hyperparameters()["n_epochs"], training.examples)
        tokens = int(training.stats.get("estimated_training_tokens", 0)) * epochs
        cost = training_cost(tokens, base.price_training_per_1k)
        if cost > left.amount:
            raise QuotaExceeded(
                f"this job's estimated training cost ({cost:g} for about {tokens} trained tokens) is "
                f"more than what is left of the {left.subject}'s spend budget this period ({left.amount:g})",
                code="spend_quota_exceeded",
                headers={"Retry-After": str(max(1, math.ceil(left.resets_in_s)))},
            )

    def require_file(self, file_id: str, principal: Principal, param: str) -> None:
        try:
            record = self._files.get(principal, file_id)
        except NotFound as exc:
            raise NotFound(exc.message, param=param, code=exc.code) from exc
        if record.purpose != "fine-tune":
            raise InvalidRequest(
                f"file '{file_id}' was uploaded with purpose '{record.purpose}', not 'fine-tune'", param=param
            )

    # -- reading -------------------------------------------------------------
    def get(self, job_id: str, principal: Principal) -> FineTuningJob:
        with self._db.session() as session:
            job = session.get(FineTuningJob, job_id)
        if job is None or job.tenant_id != principal.tenant_id:
            raise NotFound(f"fine-tuning job '{job_id}' not found", param="fine_tuning_job_id")
        return job

    def adapter(self, job_id: str, principal: Principal) -> tuple[str, list[Path]]:
        """The published adapter's model id and files, for the tenant that trained it only.

        Only the LoRA weights a tenant trained leave the platform; a base model's or a
        provider's weights are never served, and no route names where files live.
        """
        job = self.get(job_id, principal)
        if job.status != "succeeded" or not job.fine_tuned_model:
            raise Conflict(f"fine-tuning job '{job_id}' has no published adapter (status {job.status})")
        record = self._catalog.get_visible(job.fine_tuned_model, principal)
        folder = Path(record.source["adapter"])
        files = [folder / name for name in ADAPTER_FILES if (folder / name).is_file()]
        if len(files) != len(ADAPTER_FILES):
            raise NotFound(f"the adapter of '{job.fine_tuned_model}' is no longer stored")
        return job.fine_tuned_model, files

    def list(
        self, principal: Principal, *, after: str | None, limit: int
    ) -> tuple[list[FineTuningJob], bool]:
        query = select(FineTuningJob).where(FineTuningJob.tenant_id == principal.tenant_id)
        if after:
            query = query.where(FineTuningJob.created_at < self.get(after, principal).created_at)
        query = query.order_by(FineTuningJob.created_at.desc()).limit(limit + 1)
        with self._db.session() as session:
            rows = list(session.scalars(query))
        return rows[:limit], len(rows) > limit

    def events(
        self, job_id: str, principal: Principal, *, after: str | None, limit: int
    ) -> tuple[list[FineTuningEvent], bool]:
        self.get(job_id, principal)
        query = select(FineTuningEvent).where(FineTuningEvent.job_id == job_id)
        if after:
            query = query.where(FineTuningEvent.id < _event_number(after))
        query = query.order_by(FineTuningEvent.id.desc()).limit(limit + 1)
        with self._db.session() as session:
            rows = list(session.scalars(query))
        return rows[:limit], len(rows) > limit

    def phase(self, job: FineTuningJob) -> str | None:
        """What an active job is doing now, from its latest phase event; None once it has
        stopped (paused or finished: its status says all)."""
        return self.phases([job])[job.id]

    def phases(self, jobs: list[FineTuningJob]) -> dict[str, str | None]:
        """``phase`` of each job, with one query for all the running ones (a job list)."""
        found: dict[str, str | None] = {job.id: _phase_from_status(job) for job in jobs}
        running = [job.id for job in jobs if job.status == JobStatus.RUNNING]
        if not running:
            return found
        query = (
            select(FineTuningEvent.job_id, FineTuningEvent.data)
            .where(FineTuningEvent.job_id.in_(running), FineTuningEvent.message.startswith("Phase: "))
            .order_by(FineTuningEvent.id.desc())
        )
        with self._db.session() as session:
            rows = session.execute(query).all()
        latest: dict[str, Any] = {}
        for job_id, data in rows:  # newest first: the first seen per job is its latest
            latest.setdefault(job_id, (data or {}).get("phase"))
        for job_id in running:
            found[job_id] = latest.get(job_id) if latest.get(job_id) in PHASES else "loading_base"
        return found

    def checkpoints(
        self, job_id: str, principal: Principal, *, limit: int
    ) -> tuple[FineTuningJob, list[FineTuningCheckpoint], bool]:
        job = self.get(job_id, principal)
        query = (
            select(FineTuningCheckpoint)
            .where(FineTuningCheckpoint.job_id == job_id)
            .order_by(FineTuningCheckpoint.step.desc())
            .limit(limit + 1)
        )
        with self._db.session() as session:
            rows = list(session.scalars(query))
        return job, rows[:limit], len(rows) > limit

    def existing_models(self, names: list[str]) -> set[str]:
        """Which of ``names`` are models in the catalog (published checkpoints)."""
        if not names:
            return set()
        with self._db.session() as session:
            return set(session.scalars(select(ModelRecord.id).where(ModelRecord.id.in_(names))))

    # -- steering ------------------------------------------------------------
    def cancel(self, job_id: str, principal: Principal) -> FineTuningJob:
        self.get(job_id, principal)
        with self._db.session() as session:
            job = session.get(FineTuningJob, job_id, with_for_update=True)
            if job.status == "cancelled":
                return job  # idempotent
            check_transition(job.status, "cancelled")
            job.status, job.finished_at = "cancelled", utcnow()
            add_event(session, job_id, "Job cancelled")
        # A running worker notices the status and stops; otherwise nothing holds the job.
        if self._queue.state(job_id) != "running":
            self._queue.finish(job_id)
        return job

    def pause(self, job_id: str, principal: Principal) -> FineTuningJob:
        self.get(job_id, principal)
        with self._db.session() as session:
            job = session.get(FineTuningJob, job_id, with_for_update=True)
            if job.status == "paused":
                return job
            check_transition(job.status, "paused")
            job.status = "paused"
            add_event(session, job_id, "Pause requested; training stops at the next checkpoint")
        if self._queue.state(job_id) == "queued":
            self._queue.hold(job_id)
        return job

    def resume(self, job_id: str, principal: Principal) -> FineTuningJob:
        self.get(job_id, principal)
        with self._db.session() as session:
            job = session.get(FineTuningJob, job_id, with_for_update=True)
            if job.status in ACTIVE:
                return job
            check_transition(job.status, "queued")
            job.status = "queued"
            add_event(session, job_id, "Job resumed")
            add_phase(session, job_id, "queued")
        self._queue.enqueue(job_id, kind=JOB_KIND, tenant_id=principal.tenant_id)
        return job

    def is_terminal(self, job: FineTuningJob) -> bool:
        return job.status in TERMINAL


def _event_number(event_id: str) -> int:
    try:
        number = int(event_id.removeprefix("ftevent-"))
    except ValueError as exc:
        raise InvalidRequest("'after' must be an event id", param="after") from exc
    if not 0 <= number < 2**63:  # past what the id column (and the database driver) holds
        raise InvalidRequest("'after' must be an event id", param="after")
    return number
