"""Dependencies that make a route signature read like a sentence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from modelyard.catalog import CatalogService
from modelyard.errors import AuthenticationFailed, PermissionDenied
from modelyard.gateway.service import GatewayService
from modelyard.services import Services
from modelyard.tenancy import Principal, TenancyService

__all__ = [
    "AdminDep",
    "AuthenticatedRouter",
    "CatalogDep",
    "GatewayDep",
    "PrincipalDep",
    "ServicesDep",
    "TenancyDep",
    "authenticate",
]


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in a
# thread pool, and a thread hop per dependency per request is most of the gateway's cost.
async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def authenticate(request: Request, services: ServicesDep) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationFailed(
            "missing API key: send 'Authorization: Bearer <key>'", code="missing_api_key"
        )
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthenticationFailed("malformed Authorization header: use 'Bearer <key>'")
    principal = services.tenancy.authenticate(key.strip())
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]


async def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.is_admin:
        raise PermissionDenied("this route needs a platform admin key")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


async def _gateway(services: ServicesDep) -> GatewayService:
    return services.gateway


async def _catalog(services: ServicesDep) -> CatalogService:
    return services.catalog


async def _tenancy(services: ServicesDep) -> TenancyService:
    return services.tenancy


GatewayDep = Annotated[GatewayService, Depends(_gateway)]
CatalogDep = Annotated[CatalogService, Depends(_catalog)]
TenancyDep = Annotated[TenancyService, Depends(_tenancy)]


def AuthenticatedRouter(**kwargs: Any) -> APIRouter:  # noqa: N802 - reads as a router kind
    """A router whose every route requires a valid key, whatever its own signature says."""
    dependencies = [Depends(authenticate), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, **kwargs)
