"""Tenant and key administration (platform admin keys only)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from modelyard.api.deps import AdminDep, AuthenticatedRouter, TenancyDep
from modelyard.store import ApiKey, Tenant
from modelyard.store.tables import unix_seconds
from modelyard.tenancy.service import IssuedKey

__all__ = ["router"]

router: APIRouter = AuthenticatedRouter(prefix="/v1/admin", tags=["admin"])


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=63)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["member", "admin"] = "member"
    name: str = Field(default="", max_length=128)


def _tenant(tenant: Tenant) -> dict[str, Any]:
    return {
        "object": "tenant",
        "id": tenant.id,
        "name": tenant.name,
        "created_at": unix_seconds(tenant.created_at),
    }


def _key(key: ApiKey) -> dict[str, Any]:
    return {
        "object": "api_key",
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "created_at": unix_seconds(key.created_at),
        "revoked_at": unix_seconds(key.revoked_at),
    }


def _issued(issued: IssuedKey) -> dict[str, Any]:
    # The plaintext key is returned exactly once, here.
    return {
        "object": "api_key",
        "id": issued.id,
        "tenant": issued.tenant,
        "role": issued.role,
        "key": issued.key,
    }


@router.post("/tenants", status_code=201)
def create_tenant(body: TenantIn, _admin: AdminDep, tenancy: TenancyDep) -> dict[str, Any]:
    tenant, issued = tenancy.create_tenant(body.name)
    return {**_tenant(tenant), "key": _issued(issued)}


@router.get("/tenants")
def list_tenants(_admin: AdminDep, tenancy: TenancyDep) -> dict[str, Any]:
    return {"object": "list", "data": [_tenant(t) for t in tenancy.list_tenants()]}


@router.post("/tenants/{name}/keys", status_code=201)
def create_key(name: str, body: KeyIn, _admin: AdminDep, tenancy: TenancyDep) -> dict[str, Any]:
    return _issued(tenancy.create_key(tenant=name, role=body.role, name=body.name))


@router.get("/tenants/{name}/keys")
def list_keys(name: str, _admin: AdminDep, tenancy: TenancyDep) -> dict[str, Any]:
    return {"object": "list", "data": [_key(k) for k in tenancy.list_keys(name)]}


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, _admin: AdminDep, tenancy: TenancyDep) -> Response:
    tenancy.revoke_key(key_id)
    return Response(status_code=204)
