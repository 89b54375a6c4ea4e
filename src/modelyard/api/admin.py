"""Tenant and key administration (platform admin keys only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from modelyard.api.deps import AdminDep, AuthenticatedRouter, TenancyDep
from modelyard.audit.context import annotate, concerning
from modelyard.store import Tenant
from modelyard.store.tables import unix_seconds
from modelyard.tenancy.protocol import KeyIn, RotateIn, issued_object, key_object

__all__ = ["router"]

router: APIRouter = AuthenticatedRouter(scope="admin", prefix="/v1/admin", tags=["admin"])


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=63)


def _tenant(tenant: Tenant) -> dict[str, Any]:
    return {
        "object": "tenant",
        "id": tenant.id,
        "name": tenant.name,
        "created_at": unix_seconds(tenant.created_at),
    }


@router.post("/tenants", status_code=201)
def create_tenant(body: TenantIn, _admin: AdminDep, tenancy: TenancyDep) -> dict[str, Any]:
    tenant, issued = tenancy.create_tenant(body.name)
    annotate(tenant=tenant.name, tenant_id=tenant.id, key_id=issued.id)
    concerning(tenant.id)
    return {**_tenant(tenant), "key": issued_object(issued)}


@router.get("/tenants")
def list_tenants(_admin: AdminDep, tenancy: TenancyDep) -> dict[str, Any]:
    return {"object": "list", "data": [_tenant(t) for t in tenancy.list_tenants()]}


@router.post("/tenants/{name}/keys", status_code=201)
def create_key(name: str, body: KeyIn, admin: AdminDep, tenancy: TenancyDep) -> dict[str, Any]:
    issued = tenancy.create_key(tenant=name, spec=body.to_spec(), granted_by=admin)
    annotate(key_id=issued.id, role=issued.role)
    concerning(issued.row.tenant_id)
    return issued_object(issued)


@router.get("/tenants/{name}/keys")
def list_keys(name: str, _admin: AdminDep, tenancy: TenancyDep) -> dict[str, Any]:
    return {"object": "list", "data": [key_object(k) for k in tenancy.list_keys(name)]}


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, admin: AdminDep, tenancy: TenancyDep) -> Response:
    concerning(tenancy.revoke_key(key_id, granted_by=admin).tenant_id)
    return Response(status_code=204)


@router.post("/keys/{key_id}/rotate", status_code=201)
def rotate_key(
    key_id: str, admin: AdminDep, tenancy: TenancyDep, body: RotateIn | None = None
) -> dict[str, Any]:
    grace_s = body.grace_s if body else 0
    issued = tenancy.rotate_key(key_id, granted_by=admin, grace_s=grace_s)
    annotate(grace_s=grace_s)
    concerning(issued.row.tenant_id)
    return issued_object(issued)
