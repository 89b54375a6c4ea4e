"""Quotas over HTTP: admins set them per tenant and per key; a caller reads its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from modelyard.api.deps import AdminDep, AuthenticatedRouter, PrincipalDep, ServicesDep
from modelyard.audit.context import concerning
from modelyard.quotas.protocol import QuotaIn, caller_quota_object, quota_object

__all__ = ["admin_router", "router"]

router: APIRouter = AuthenticatedRouter(scope="usage", prefix="/v1/quotas", tags=["quotas"])
admin_router: APIRouter = AuthenticatedRouter(scope="admin", prefix="/v1/admin/quotas", tags=["admin"])


@router.get("")
async def my_quota(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    quotas = services.quotas.for_caller(principal)
    return caller_quota_object(principal, quotas, await services.quota_guard.usage_now(principal))


@admin_router.get("/tenants/{tenant_name}")
def get_tenant_quota(tenant_name: str, _admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    return quota_object(services.quotas.get_tenant_quota(tenant_name))


@admin_router.put("/tenants/{tenant_name}")
def set_tenant_quota(
    tenant_name: str, body: QuotaIn, _admin: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    stored = services.quotas.set_tenant_quota(tenant_name, body.to_limits())
    concerning(stored.tenant_id)
    return quota_object(stored)


@admin_router.get("/keys/{key_id}")
def get_key_quota(key_id: str, _admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    return quota_object(services.quotas.get_key_quota(key_id))


@admin_router.put("/keys/{key_id}")
def set_key_quota(key_id: str, body: QuotaIn, _admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    stored = services.quotas.set_key_quota(key_id, body.to_limits())
    concerning(stored.tenant_id)
    return quota_object(stored)
