"""The service container built once per process and shared by routes and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from modelyard.audit import AuditService
from modelyard.audit.keys import ensure_audit_key
from modelyard.backends.base import BackendContext
from modelyard.backends.pool import BackendPool
from modelyard.catalog import CatalogService
from modelyard.catalog.secrets import SecretBox, load_or_create_key
from modelyard.config import Settings
from modelyard.evals.service import EvaluationService
from modelyard.files import FilesService
from modelyard.finetune.service import FineTuningService
from modelyard.gateway.calls import CallPath
from modelyard.gateway.service import GatewayService
from modelyard.hardware import NumberFormats
from modelyard.home import ensure_home
from modelyard.jobs import JobQueue
from modelyard.quotas import Limiter, QuotaGuard, QuotaService, build_limiter
from modelyard.security import ListenAddress, OutboundAllowList, OutboundGuard, hop_marker
from modelyard.store import Database
from modelyard.tenancy import TenancyService
from modelyard.usage import UsageRecorder, UsageReports

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    settings: Settings
    db: Database
    tenancy: TenancyService
    catalog: CatalogService
    pool: BackendPool
    usage: UsageRecorder
    gateway: GatewayService
    queue: JobQueue
    fine_tuning: FineTuningService
    files: FilesService
    evaluations: EvaluationService
    audit: AuditService
    outbound: OutboundAllowList
    quotas: QuotaService
    limiter: Limiter
    quota_guard: QuotaGuard
    reports: UsageReports

    async def start(self) -> None:
        await self.usage.start()
        await self.audit.start()

    async def stop(self) -> None:
        await stop_shared(self.usage, self.audit, self.limiter, self.pool, self.db)


async def stop_shared(
    usage: UsageRecorder, audit: AuditService, limiter: Limiter, pool: BackendPool, db: Database
) -> None:
    """What the web process and the job worker both hold: flush the writers, then let go."""
    try:
        await usage.stop()
        await audit.stop()
        await limiter.close()
        await pool.close()
    finally:
        db.dispose()


def backend_context(
    settings: Settings, outbound: OutboundGuard | None = None, *, workload: str = "interactive"
) -> BackendContext:
    return BackendContext(
        models_dir=settings.resolved_models_dir,
        torch_dtype=settings.torch_dtype,
        torch_threads=settings.torch_threads,
        upstream_timeout_s=settings.upstream_timeout_s,
        upstream_connect_timeout_s=settings.upstream_connect_timeout_s,
        outbound=outbound,
        hop_marker=hop_marker(load_or_create_key(settings.secret_key, settings.secret_key_file)),
        # Measures nothing until a local model loads with torch_dtype "auto".
        number_formats=NumberFormats.from_settings(settings),
        workload=workload,
    )


def outbound_allowlist(settings: Settings, db: Database) -> OutboundAllowList:
    """The allow-list, with the gateway's own listen address refused whatever it holds."""
    return OutboundAllowList(db, listen=ListenAddress(settings.host, settings.port))


def build_services(settings: Settings) -> Services:
    """Open the store (migrating it), and wire every service; loads no model."""
    ensure_home(settings.home)
    db = Database(settings.resolved_database_url)
    db.migrate()
    secrets = SecretBox(load_or_create_key(settings.secret_key, settings.secret_key_file))
    allowlist = outbound_allowlist(settings, db)
    outbound_guard = allowlist.guard()
    catalog = CatalogService(db, secrets, outbound=outbound_guard)
    if settings.builtin_models:
        catalog.ensure_builtins()
    pool = BackendPool(backend_context(settings, outbound_guard), max_loaded=settings.max_loaded_models)
    usage = UsageRecorder(db, flush_interval_s=settings.usage_flush_interval_s)
    queue = JobQueue(db, lease_s=settings.job_lease_s)
    quotas = QuotaService(db, cache_ttl_s=settings.quota_cache_ttl_s)
    limiter = build_limiter(settings)
    quota_guard = QuotaGuard(
        quotas,
        limiter,
        default_max_tokens=settings.max_request_tokens,
        # Longer than a usage row takes to be written and its sum re-read (see guard.py).
        linger_s=settings.usage_flush_interval_s + settings.quota_cache_ttl_s + 5.0,
    )
    files = FilesService.from_settings(db, settings, catalog, quotas)
    return Services(
        settings=settings,
        db=db,
        tenancy=TenancyService(db, cache_ttl_s=settings.key_cache_ttl_s),
        catalog=catalog,
        pool=pool,
        usage=usage,
        # One call path for every call made for a tenant (HTTP, evaluations, the judge).
        gateway=GatewayService(
            CallPath(catalog, pool, usage, quota_guard, ready_wait_s=settings.model_ready_wait_s)
        ),
        queue=queue,
        fine_tuning=FineTuningService(db, queue, catalog, files, quotas),
        files=files,
        evaluations=EvaluationService(db, queue, catalog, files, quotas),
        quotas=quotas,
        limiter=limiter,
        quota_guard=quota_guard,
        reports=UsageReports(db),
        audit=AuditService(
            db, ensure_audit_key(settings, db), flush_interval_s=settings.audit_flush_interval_s
        ),
        outbound=allowlist,
    )
