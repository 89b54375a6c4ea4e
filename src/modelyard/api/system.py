"""Health (the one unauthenticated route) and the OpenAPI schema (authenticated)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from modelyard import __version__
from modelyard.api.deps import AuthenticatedRouter

__all__ = ["public_router", "router"]

public_router = APIRouter(tags=["system"])
# Any valid key may read the schema: it describes the API, not anyone's data.
router: APIRouter = AuthenticatedRouter(scope=None, tags=["system"])


@public_router.get("/health")
def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict[str, Any]:
    return request.app.openapi()
