"""create_app(settings) -> FastAPI. The lifespan builds the services into app.state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from modelyard import __version__, console
from modelyard.api import (
    admin,
    audit,
    evals,
    files,
    fine_tuning,
    hardware,
    keys,
    models,
    outbound,
    quotas,
    system,
    usage,
)
from modelyard.api.body_limit import BodyLimitMiddleware
from modelyard.api.errors import install_error_handlers
from modelyard.api.json_text import LoneSurrogateGuard
from modelyard.audit.middleware import AuditMiddleware
from modelyard.config import Settings, apply_offline_environment
from modelyard.gateway import routes as gateway_routes
from modelyard.services import Services, build_services

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Pass ``services`` to share already-built ones (tests, CLI)."""
    apply_offline_environment()
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = services or build_services(settings)
        app.state.services = built
        await built.start()
        try:
            yield
        finally:
            await built.stop()

    app = FastAPI(
        title="modelyard",
        version=__version__,
        lifespan=lifespan,
        # Served by an authenticated route instead; no unauthenticated docs pages.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    # Inside the body limit, which bounds what it reads.
    app.add_middleware(LoneSurrogateGuard)
    # Inside the audit middleware, so a refused body is still an audited request.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        own_limit_paths=frozenset({"/v1/files"}),  # uploads: max_upload_bytes, checked as they arrive
    )
    app.add_middleware(AuditMiddleware)
    routers = (
        system.public_router,
        system.router,
        models.router,
        admin.router,
        hardware.router,
        keys.me_router,
        keys.router,
        gateway_routes.router,
        fine_tuning.router,
        files.router,
        evals.router,
        audit.admin_router,
        audit.router,
        outbound.router,
        quotas.router,
        quotas.admin_router,
        usage.router,
        usage.provider_router,
        console.router,
    )
    for router in routers:
        app.include_router(router)
    return app
