"""The audit log over HTTP: the platform's whole log (admin) and a tenant's own entries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from modelyard.api.deps import AdminDep, AuthenticatedRouter, PrincipalDep, ServicesDep
from modelyard.audit import AuditFilter, AuditService, ChainHead
from modelyard.audit.log import Polling
from modelyard.errors import InvalidRequest
from modelyard.store.tables import AuditEntry, unix_seconds

__all__ = ["admin_router", "router"]

# The platform-wide log is the admin scope's; a tenant's own entries are the audit scope's.
admin_router: APIRouter = AuthenticatedRouter(scope="admin", tags=["audit"])
router: APIRouter = AuthenticatedRouter(scope="audit", tags=["audit"])
# Roles that see their whole tenant's entries; other keys see only their own.
_TENANT_WIDE_ROLES = frozenset({"admin", "tenant_admin"})


async def _audit(services: ServicesDep) -> AuditService:
    return services.audit


AuditDep = Annotated[AuditService, Depends(_audit)]
Limit = Annotated[int, Query(ge=1, le=500)]
# Bounded to a 64-bit integer: the databases' own limit, past which a query fails.
Before = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="Continue below this seq (newest first).")
]
HeadSeq = Annotated[int | None, Query(ge=1, le=2**63 - 1, description="The seq of a head exported earlier.")]
HeadHash = Annotated[
    str | None, Query(pattern="^[0-9a-f]{64}$", description="The hash of a head exported earlier.")
]
Kind = Annotated[Literal["request", "admin"] | None, Query()]
Text = Annotated[str | None, Query(max_length=200)]
PollingQuery = Annotated[
    Polling,
    Query(
        description="The console's own polling reads: include them (default), exclude them, "
        "or only them. A filter: the entries stay in the log and its chain."
    ),
]


def _tokens(entry: AuditEntry, count: int) -> int | None:
    # A call that used no model counted no tokens: "none", not a count of zero.
    return None if entry.model is None and not count else count


def _entry(entry: AuditEntry, names: dict[str, str]) -> dict[str, Any]:
    resource = entry.resource or None
    return {
        "object": "audit.entry",
        "seq": entry.seq,
        "created_at": unix_seconds(entry.created_at),
        "kind": entry.kind,
        "tenant_id": entry.tenant_id,
        "key_id": entry.key_id,
        "key_name": names.get(entry.key_id or ""),
        "role": entry.role,
        "method": entry.method,
        "route": entry.route,
        "model": entry.model,
        "status_code": entry.status_code,
        "prompt_tokens": _tokens(entry, entry.prompt_tokens),
        "completion_tokens": _tokens(entry, entry.completion_tokens),
        "latency_ms": entry.latency_ms,
        "action": entry.action,
        "detail": entry.detail,
        "resource": resource,
        # A key the call acted on (``/v1/keys/{key_id}``), by name.
        "resource_name": names.get(resource.get("key_id", "")) if resource else None,
        "poll": bool(entry.poll),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _page(
    audit: AuditService, entries: list[AuditEntry], limit: int, *, tenant_id: str | None = None
) -> dict[str, Any]:
    ids = [e.key_id for e in entries if e.key_id]
    ids += [str(e.resource["key_id"]) for e in entries if e.resource and "key_id" in e.resource]
    names = audit.key_names(ids, tenant_id=tenant_id)
    return {
        "object": "list",
        "data": [_entry(e, names) for e in entries],
        "has_more": len(entries) == limit,
        "last_seq": entries[-1].seq if entries else None,
    }


@admin_router.get("/v1/admin/audit")
def list_audit(
    _admin: AdminDep,
    audit: AuditDep,
    tenant_id: Text = None,
    key_id: Text = None,
    kind: Kind = None,
    action: Text = None,
    model: Text = None,
    polling: PollingQuery = "include",
    before: Before = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    where = AuditFilter(
        tenant_id=tenant_id,
        key_id=key_id,
        kind=kind,
        action=action,
        model=model,
        polling=polling,
        before=before,
        limit=limit,
    )
    return _page(audit, audit.list(where), limit)


@admin_router.get("/v1/admin/audit/verify")
def verify_audit(
    _admin: AdminDep, audit: AuditDep, head_seq: HeadSeq = None, head_hash: HeadHash = None
) -> dict[str, Any]:
    """With an exported head (``head_seq`` and ``head_hash``), a cut-off tail fails too."""
    if (head_seq is None) != (head_hash is None):
        raise InvalidRequest("give both head_seq and head_hash, or neither", param="head_hash")
    expected = ChainHead(head_seq, head_hash) if head_seq is not None and head_hash is not None else None
    return {"object": "audit.verification", **audit.verify(expected).to_dict()}


@admin_router.get("/v1/admin/audit/head")
def audit_head(_admin: AdminDep, audit: AuditDep) -> dict[str, Any]:
    """The newest entry's seq and hash, to keep outside the database and compare later."""
    head = audit.head()
    return {"object": "audit.head", **(head.to_dict() if head else {"seq": 0, "hash": None})}


@router.get("/v1/audit")
def list_own_audit(
    principal: PrincipalDep,
    audit: AuditDep,
    kind: Kind = None,
    model: Text = None,
    polling: PollingQuery = "include",
    before: Before = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    own_key = None if principal.role in _TENANT_WIDE_ROLES else principal.key_id
    where = AuditFilter(
        tenant_id=principal.tenant_id,
        key_id=own_key,
        kind=kind,
        model=model,
        polling=polling,
        before=before,
        limit=limit,
    )
    return _page(audit, audit.list(where), limit, tenant_id=principal.tenant_id)
