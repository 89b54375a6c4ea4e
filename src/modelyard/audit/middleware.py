"""Pure ASGI middleware that queues one audit entry per HTTP request.

It records who called (from the principal authentication left in ``scope["state"]``),
the route *template* (``/v1/files/{file_id}``, never the raw path or query string), the
route's path parameters (what the call acted on: a job id, a file id), whether it was a
read the console's own polling made, the status, the latency, and what handlers noted in
:mod:`modelyard.audit.context` (model, tokens, identifiers). It never reads a body. The
entry is queued after the response's last byte, so a streamed answer is recorded with its
final outcome.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard.audit.context import CURRENT, RequestFacts
from modelyard.audit.log import AuditRecord
from modelyard.store.tables import utcnow

__all__ = ["POLL_HEADER", "AuditMiddleware"]

_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Unauthenticated liveness probes and the console's static assets: polled or fetched by
# the thousand, they would bury the entries an auditor looks for.
_DEFAULT_SKIP = ("/health", "/console")
# The console marks the reads its polling repeats with this header. Only a read can be so
# marked (a change is never hidden from the default view), and the mark only filters views:
# the entry is in the log and its chain like any other.
POLL_HEADER = b"x-modelyard-poll"
_READS = frozenset({"GET", "HEAD"})
_MAX_PARAM = 200
# Routes under these prefixes manage the platform; a mutating call there is an admin action.
_DEFAULT_MANAGEMENT = ("/v1/admin", "/v1/models", "/v1/keys")


class AuditMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        skip_prefixes: tuple[str, ...] = _DEFAULT_SKIP,
        management_prefixes: tuple[str, ...] = _DEFAULT_MANAGEMENT,
    ) -> None:
        self.app = app
        self._skip = skip_prefixes
        self._management = management_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self._skip):
            await self.app(scope, receive, send)
            return
        started, created_at = time.perf_counter(), utcnow()
        facts: RequestFacts = {}
        token = CURRENT.set(facts)
        scope.setdefault("state", {})
        status: list[int] = []

        async def send_and_watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            CURRENT.reset(token)
            facts["latency_ms"] = (time.perf_counter() - started) * 1000
            # No response started: an unhandled error (500) or a caller who left first (499).
            self._queue(scope, facts, created_at, status[0] if status else 500)

    def _queue(self, scope: Scope, facts: RequestFacts, created_at: Any, http_status: int) -> None:
        services = getattr(getattr(scope.get("app"), "state", None), "services", None)
        audit = getattr(services, "audit", None)
        if audit is not None:
            audit.record(self._record(scope, facts, created_at, http_status))

    def _record(self, scope: Scope, facts: RequestFacts, created_at: Any, http_status: int) -> AuditRecord:
        principal = scope["state"].get("principal")
        route = scope.get("route")
        template = _template(scope, route)
        method: str = scope["method"]
        admin = method in _MUTATING and template is not None and template.startswith(self._management)
        # A stream that failed or was abandoned after its 200 header: record the outcome.
        status = facts.get("status", http_status) if http_status < 400 else http_status
        actor_tenant = getattr(principal, "tenant_id", None)
        subject_tenant = facts.get("subject_tenant_id", actor_tenant) if admin else actor_tenant
        if subject_tenant != actor_tenant:
            facts.setdefault("detail", {})["actor_tenant_id"] = actor_tenant
        return AuditRecord(
            kind="admin" if admin else "request",
            created_at=created_at,
            tenant_id=subject_tenant,
            key_id=getattr(principal, "key_id", None),
            role=getattr(principal, "role", None),
            method=method,
            route=template,
            model=facts.get("model"),
            status_code=status,
            prompt_tokens=facts.get("prompt_tokens", 0),
            completion_tokens=facts.get("completion_tokens", 0),
            latency_ms=facts["latency_ms"],
            action=getattr(route, "name", None) if admin else None,
            detail=_admin_detail(scope, facts) if admin else None,
            poll=method in _READS and _polled(scope),
            resource=_path_params(scope) or None,
        )


def _template(scope: Scope, route: Any) -> str | None:
    """The matched route's full path template. FastAPI 0.165 matches a route of a nested
    router by its path *within* that router; the full one is on its effective context."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    return getattr(context, "path_format", None) or getattr(route, "path_format", None)


def _path_params(scope: Scope) -> dict[str, Any]:
    # Identifiers from the path only: never a body or a query string. Cut to a bounded
    # length: a caller chooses the path, and an unknown id is still worth recording.
    params = scope.get("path_params", {}).items()
    return {k: v[:_MAX_PARAM] if isinstance(v, str) else v for k, v in params if isinstance(v, str | int)}


def _polled(scope: Scope) -> bool:
    return any(name == POLL_HEADER and value.strip() == b"1" for name, value in scope.get("headers", ()))


def _admin_detail(scope: Scope, facts: RequestFacts) -> dict[str, Any] | None:
    # Path parameters are the identifiers a management route acts on (a key id, a model id).
    detail = {**_path_params(scope), **facts.get("detail", {})}
    return detail or None
