"""Evaluations over HTTP: create, follow, cancel, rate, and the report (JSON or HTML)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse

from modelyard.api.deps import AuthenticatedRouter, PrincipalDep, ServicesDep
from modelyard.evals.protocol import CreateEvaluationIn, RatingIn, evaluation_object, event_object
from modelyard.evals.service import EvaluationService

__all__ = ["router"]

router: APIRouter = AuthenticatedRouter(scope="evaluations", prefix="/v1/evaluations", tags=["evaluations"])


async def _service(services: ServicesDep) -> EvaluationService:
    return services.evaluations


EvaluationsDep = Annotated[EvaluationService, Depends(_service)]


@router.post("", status_code=200)
def create_evaluation(
    body: CreateEvaluationIn, principal: PrincipalDep, evals: EvaluationsDep
) -> dict[str, Any]:
    return evaluation_object(evals.create(body, principal))


@router.get("")
def list_evaluations(
    principal: PrincipalDep, evals: EvaluationsDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> dict[str, Any]:
    return {"object": "list", "data": [evaluation_object(e) for e in evals.list(principal, limit=limit)]}


@router.get("/metrics")
def list_metrics(_principal: PrincipalDep) -> dict[str, Any]:
    from modelyard.evals.metrics import available_metrics

    return {"object": "list", "data": available_metrics()}


@router.get("/{evaluation_id}")
def get_evaluation(evaluation_id: str, principal: PrincipalDep, evals: EvaluationsDep) -> dict[str, Any]:
    return evaluation_object(evals.get(evaluation_id, principal))


@router.post("/{evaluation_id}/cancel")
def cancel_evaluation(evaluation_id: str, principal: PrincipalDep, evals: EvaluationsDep) -> dict[str, Any]:
    return evaluation_object(evals.cancel(evaluation_id, principal))


@router.get("/{evaluation_id}/events")
def list_events(
    evaluation_id: str,
    principal: PrincipalDep,
    evals: EvaluationsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [event_object(e) for e in evals.events(evaluation_id, principal, limit=limit)],
    }


@router.post("/{evaluation_id}/ratings", status_code=201)
def rate(
    evaluation_id: str, body: RatingIn, principal: PrincipalDep, evals: EvaluationsDep
) -> dict[str, Any]:
    rating = evals.rate(evaluation_id, body, principal)
    return {"object": "evaluation.rating", "id": rating.id, **body.model_dump()}


@router.get("/{evaluation_id}/report", response_model=None)
def report(
    evaluation_id: str,
    principal: PrincipalDep,
    evals: EvaluationsDep,
    format: Literal["json", "html"] = "json",  # noqa: A002 - the query parameter's public name
) -> JSONResponse | HTMLResponse:
    from modelyard.evals.html import render_html
    from modelyard.evals.report import build_report

    built = build_report(evals.results(evaluation_id, principal))
    if format == "html":
        return HTMLResponse(render_html(built))
    return JSONResponse(built)
