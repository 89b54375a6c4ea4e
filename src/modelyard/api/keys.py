"""Who am I, and a tenant's own keys: list, create, rotate, revoke.

Everything here acts on the caller's own tenant; another tenant's key id reads as 404.
Platform admins manage other tenants' keys through /v1/admin.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from modelyard.api.deps import AuthenticatedRouter, PrincipalDep, TenancyDep
from modelyard.audit.context import annotate
from modelyard.tenancy.protocol import KeyIn, RotateIn, issued_object, key_object, principal_object

__all__ = ["me_router", "router"]

# Any valid key may ask who it is: a narrowed key must still be able to see its limits.
me_router: APIRouter = AuthenticatedRouter(scope=None, prefix="/v1", tags=["keys"])
router: APIRouter = AuthenticatedRouter(scope="keys", prefix="/v1/keys", tags=["keys"])


@me_router.get("/me")
def who_am_i(principal: PrincipalDep) -> dict[str, Any]:
    return principal_object(principal)


@router.get("")
def list_keys(principal: PrincipalDep, tenancy: TenancyDep) -> dict[str, Any]:
    rows = tenancy.list_keys(principal.tenant_name)
    return {"object": "list", "data": [key_object(row) for row in rows]}


@router.post("", status_code=201)
def create_key(body: KeyIn, principal: PrincipalDep, tenancy: TenancyDep) -> dict[str, Any]:
    issued = tenancy.create_key(tenant=principal.tenant_name, spec=body.to_spec(), granted_by=principal)
    return issued_object(issued)


@router.get("/{key_id}")
def get_key(key_id: str, principal: PrincipalDep, tenancy: TenancyDep) -> dict[str, Any]:
    return key_object(tenancy.get_key(key_id, tenant_id=principal.tenant_id))


@router.post("/{key_id}/rotate", status_code=201)
def rotate_key(
    key_id: str, principal: PrincipalDep, tenancy: TenancyDep, body: RotateIn | None = None
) -> dict[str, Any]:
    grace_s = body.grace_s if body else 0
    issued = tenancy.rotate_key(key_id, tenant_id=principal.tenant_id, granted_by=principal, grace_s=grace_s)
    annotate(grace_s=grace_s)
    return issued_object(issued)


@router.delete("/{key_id}", status_code=204)
def revoke_key(key_id: str, principal: PrincipalDep, tenancy: TenancyDep) -> Response:
    tenancy.revoke_key(key_id, tenant_id=principal.tenant_id, granted_by=principal)
    return Response(status_code=204)
