"""What a job worker is made of: its services, built once, and the job kinds it runs.

The worker's counterpart of ``services.py``: no HTTP parts (tenancy, gateway, limiter),
no migrations (the server runs them), no built-in model import. Models loaded by one job
stay loaded for the next, and ``stop`` flushes metering and audit, then unloads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelyard.audit import AuditService
from modelyard.audit.keys import ensure_audit_key
from modelyard.backends.pool import BackendPool
from modelyard.catalog import CatalogService
from modelyard.catalog.secrets import SecretBox, load_or_create_key
from modelyard.config import Settings
from modelyard.files import FilesService
from modelyard.gateway.calls import CallPath
from modelyard.gateway.measured import MeasuredCaller
from modelyard.jobs.kinds import JobKinds
from modelyard.quotas import Limiter, QuotaGuard, QuotaService, build_limiter
from modelyard.services import backend_context, outbound_allowlist, stop_shared
from modelyard.store import Database
from modelyard.usage import UsageRecorder

__all__ = ["WorkerServices", "build_worker_services", "platform_job_kinds"]


@dataclass
class WorkerServices:
    settings: Settings
    db: Database
    catalog: CatalogService
    files: FilesService
    pool: BackendPool
    usage: UsageRecorder
    audit: AuditService
    quotas: QuotaService
    limiter: Limiter
    # The one call path (visibility, quotas, metering) as a job uses it: timed calls.
    caller: MeasuredCaller

    async def start(self) -> None:
        await self.usage.start()
        await self.audit.start()

    async def flush(self) -> None:
        await self.usage.flush()
        await self.audit.flush()

    async def stop(self) -> None:
        await stop_shared(self.usage, self.audit, self.limiter, self.pool, self.db)


def build_worker_services(settings: Settings, db: Database | None = None) -> WorkerServices:
    """Wire the worker's services on an already migrated store; loads no model."""
    db = db or Database(settings.resolved_database_url)
    secrets = SecretBox(load_or_create_key(settings.secret_key, settings.secret_key_file))
    outbound = outbound_allowlist(settings, db).guard()
    catalog = CatalogService(db, secrets, outbound=outbound)
    # The worker's models answer evaluation items sent together: "auto" picks for batches.
    context = backend_context(settings, outbound, workload="batch")
    pool = BackendPool(context, max_loaded=settings.max_loaded_models)
    usage = UsageRecorder(db, flush_interval_s=settings.usage_flush_interval_s)
    quotas = QuotaService(db, cache_ttl_s=settings.quota_cache_ttl_s)
    limiter = build_limiter(settings)
    guard = QuotaGuard(
        quotas,
        limiter,
        default_max_tokens=settings.max_request_tokens,
        # As in the server (see guard.py): longer than a usage row takes to be summed.
        linger_s=settings.usage_flush_interval_s + settings.quota_cache_ttl_s + 5.0,
    )
    return WorkerServices(
        settings=settings,
        db=db,
        catalog=catalog,
        files=FilesService.from_settings(db, settings, catalog, quotas),
        pool=pool,
        usage=usage,
        audit=AuditService(
            db, ensure_audit_key(settings, db), flush_interval_s=settings.audit_flush_interval_s
        ),
        quotas=quotas,
        limiter=limiter,
        caller=MeasuredCaller(CallPath(catalog, pool, usage, guard)),
    )


def platform_job_kinds() -> JobKinds:
    """Every job kind of the platform, registered at start-up (not as an import side effect)."""
    from modelyard.evals.job import EVALUATION_JOB
    from modelyard.finetune.job import FINE_TUNE_JOB

    return JobKinds([FINE_TUNE_JOB, EVALUATION_JOB])
