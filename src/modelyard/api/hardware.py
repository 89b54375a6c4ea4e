"""What this machine is and which number formats it runs, and the platform at a glance
(platform admin keys only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import APIRouter

from modelyard import __version__
from modelyard.api.deps import AdminDep, AuthenticatedRouter, ServicesDep
from modelyard.catalog.service import model_state
from modelyard.hardware import available_cores
from modelyard.overview import PlatformOverview
from modelyard.quotas.limits import period_bounds

__all__ = ["router"]

router: APIRouter = AuthenticatedRouter(scope="admin", prefix="/v1/admin", tags=["admin"])


@router.get("/system")
async def system_info(_admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    """CPU, threads and the number formats chosen for serving and training, with the
    figures measured; asking measures the machine if nothing has yet (about a second)."""
    settings = services.settings
    formats = services.pool.context.number_formats
    if "auto" in (settings.torch_dtype, settings.train_dtype):
        await anyio.to_thread.run_sync(formats.choice)
    report = formats.report()
    return {
        "object": "system",
        "version": __version__,
        "cores_available": available_cores(),
        "torch_threads": settings.torch_threads or available_cores(),
        "worker_nice": settings.worker_nice,
        "configured": {"torch_dtype": settings.torch_dtype, "train_dtype": settings.train_dtype},
        "serving_dtype": formats.serve_dtype(settings.torch_dtype) if report else settings.torch_dtype,
        "evaluation_dtype": formats.batch_dtype(settings.torch_dtype) if report else settings.torch_dtype,
        "training_dtype": formats.train_dtype(settings.train_dtype) if report else settings.train_dtype,
        "number_formats": report,
    }


@router.get("/overview")
def overview(admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    """What an admin lands on: tenants (live keys, this month's usage), providers with
    their models, how many models are not ready here, and whether the audit chain holds."""
    since, _ = period_bounds("month", datetime.now(UTC))
    facts = PlatformOverview(services.db)
    records = services.catalog.list_visible(admin)
    readiness = services.pool.readiness
    states = [model_state(r, readiness).status for r in records]
    chain = services.audit.verify()
    return {
        "object": "admin.overview",
        "month_start": int(since.timestamp()),
        "tenants": facts.tenants(since),
        "providers": facts.providers(),
        "models": {status: states.count(status) for status in ("importing", "loading", "ready", "failed")},
        "audit": {"object": "audit.verification", **chain.to_dict()},
    }
