"""The model plaza over HTTP: list, inspect, register and remove models."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from modelyard.api.deps import AuthenticatedRouter, CatalogDep, PrincipalDep, ServicesDep
from modelyard.catalog.schemas import LocalModelIn, ModelObject, RemoteModelIn
from modelyard.catalog.service import model_state, to_model_object
from modelyard.services import Services
from modelyard.store import ModelRecord

__all__ = ["router"]

router: APIRouter = AuthenticatedRouter(scope="models", prefix="/v1/models", tags=["models"])

ModelIn = Annotated[LocalModelIn | RemoteModelIn, Body(discriminator="kind")]


@router.get("")
def list_models(principal: PrincipalDep, services: ServicesDep, published: bool = False) -> dict[str, Any]:
    """``?published=true``: only the models the caller's tenant published (providers)."""
    records = services.catalog.list_visible(principal, published_only=published)
    data = [card.model_dump() for card in _cards(records, services)]
    return {"object": "list", "data": data}


@router.get("/{model_id:path}")
def get_model(model_id: str, principal: PrincipalDep, services: ServicesDep) -> ModelObject:
    return _cards([services.catalog.get_visible(model_id, principal)], services)[0]


def _cards(records: list[ModelRecord], services: Services) -> list[ModelObject]:
    """Cards with this server's readiness of each model and a fine-tune's evaluations."""
    readiness = services.pool.readiness
    used = services.catalog.evaluations_using(records)
    return [to_model_object(r, model_state(r, readiness), used.get(r.id)) for r in records]


@router.post("", status_code=201)
def register_model(body: ModelIn, principal: PrincipalDep, catalog: CatalogDep) -> ModelObject:
    if isinstance(body, LocalModelIn):
        return to_model_object(catalog.register_local(body, principal))
    return to_model_object(catalog.register_remote(body, principal))


@router.delete("/{model_id:path}", status_code=204)
async def delete_model(model_id: str, principal: PrincipalDep, services: ServicesDep) -> Response:
    services.catalog.delete(model_id, principal)
    await services.pool.evict(model_id)
    return Response(status_code=204)
