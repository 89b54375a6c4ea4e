"""Dependencies that make a route signature read like a sentence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from modelyard.catalog import CatalogService
from modelyard.errors import AuthenticationFailed, LoopDetected, PermissionDenied
from modelyard.gateway.service import GatewayService
from modelyard.security.hop import HOP_HEADER, is_own_hop
from modelyard.services import Services
from modelyard.tenancy import SCOPES, Principal, TenancyService

__all__ = [
    "AdminDep",
    "AuthenticatedRouter",
    "CatalogDep",
    "GatewayDep",
    "PrincipalDep",
    "ScopeGuard",
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
    if is_own_hop(request.headers.get(HOP_HEADER), services.pool.context.hop_marker):
        # One of our provider calls came back: serving it would call the provider again.
        raise LoopDetected("this request was sent by this gateway to a provider and came back to it")
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


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ScopeGuard:
    """Checks the caller's key against its router's scope, and read-only keys against the method.

    ``scope`` None admits any valid key (who-am-I, the schema). The guard is a callable
    object, not a closure, so tests can read each route's scope off its dependencies.
    """

    def __init__(self, scope: str | None) -> None:
        if scope is not None and scope not in SCOPES:
            raise ValueError(f"unknown scope '{scope}'; add it to modelyard.tenancy.roles.SCOPES")
        self.scope = scope

    async def __call__(self, request: Request, principal: PrincipalDep) -> Principal:
        if principal.read_only and request.method not in _READ_METHODS:
            raise PermissionDenied("this key is read-only: it may only read (GET)", code="read_only_key")
        if self.scope is not None and not principal.has_scope(self.scope):
            raise PermissionDenied(f"this key does not have the '{self.scope}' scope", code="missing_scope")
        return principal


def AuthenticatedRouter(*, scope: str | None, **kwargs: Any) -> APIRouter:  # noqa: N802 - a router kind
    """A router whose every route requires a valid key holding ``scope``.

    ``scope`` is required (None must be written out), so no route can forget it.
    """
    dependencies = [Depends(ScopeGuard(scope)), *kwargs.pop("dependencies", [])]
    return APIRouter(dependencies=dependencies, **kwargs)
