"""Usage reports over HTTP: a tenant's own usage, and a provider's view of its models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from modelyard.api.deps import AuthenticatedRouter, PrincipalDep, ServicesDep
from modelyard.errors import InvalidRequest, PermissionDenied
from modelyard.usage import GROUPS, PROVIDER_GROUPS, Report, report_csv

__all__ = ["provider_router", "router"]

router: APIRouter = AuthenticatedRouter(scope="usage", prefix="/v1/usage", tags=["usage"])
provider_router: APIRouter = AuthenticatedRouter(scope="usage", prefix="/v1/provider/usage", tags=["usage"])

Format = Literal["json", "csv"]
# The role another change introduces; checked by name here until roles carry scopes.
PROVIDER_ROLE = "provider"


def _range(start: date | None, end: date | None) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise InvalidRequest("start must not be after end", param="start")
    if end >= date.max:  # a report runs to the midnight after its last day
        raise InvalidRequest(f"end must be before {date.max.isoformat()}", param="end")
    return start, end


def _groups(group_by: str, allowed: tuple[str, ...] | list[str]) -> list[str]:
    names = [name.strip() for name in group_by.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or len(set(names)) != len(names):
        raise InvalidRequest(
            f"group_by takes distinct names among {', '.join(allowed)}",
            param="group_by",
            code="invalid_value",
        )
    return names


def _render(report: Report, fmt: Format, scope: dict[str, Any], filename: str) -> Response:
    if fmt == "csv":
        disposition = f'attachment; filename="{filename}-{report.start}-{report.end}.csv"'
        return Response(
            report_csv(report), media_type="text/csv", headers={"Content-Disposition": disposition}
        )
    rename = {"cost": report.cost_name}
    body = {
        "object": "usage.report",
        **scope,
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "group_by": list(report.group_by),
        "data": [{rename.get(k, k): v for k, v in row.items()} for row in report.rows],
        "totals": {rename.get(k, k): v for k, v in report.totals.items()},
    }
    return JSONResponse(body)


@router.get("", response_model=None)
def tenant_usage(
    principal: PrincipalDep,
    services: ServicesDep,
    start: date | None = None,
    end: date | None = None,
    group_by: str = "day",
    format: Format = "json",  # noqa: A002 - the query parameter's public name
    tenant: Annotated[str | None, Query(max_length=63)] = None,
) -> Response:
    """The caller's tenant; a platform admin may name another with ``tenant``."""
    name = principal.tenant_name
    tenant_id = principal.tenant_id
    if tenant is not None and tenant != principal.tenant_name:
        if not principal.is_admin:
            raise PermissionDenied(
                "only a platform admin key can read another tenant's usage", param="tenant"
            )
        name, tenant_id = tenant, services.tenancy.get_tenant(tenant).id
    first, last = _range(start, end)
    report = services.reports.tenant_report(
        tenant_id, start=first, end=last, group_by=_groups(group_by, list(GROUPS))
    )
    return _render(report, format, {"tenant": name}, f"usage-{name}")


@provider_router.get("", response_model=None)
def provider_usage(
    principal: PrincipalDep,
    services: ServicesDep,
    start: date | None = None,
    end: date | None = None,
    group_by: str = "day,model",
    format: Format = "json",  # noqa: A002
) -> Response:
    """Counts, tokens and revenue of the models the caller's tenant published; no consumers."""
    if principal.role != PROVIDER_ROLE:
        raise PermissionDenied("this route needs a provider key")
    first, last = _range(start, end)
    report = services.reports.provider_report(
        principal.tenant_id, start=first, end=last, group_by=_groups(group_by, PROVIDER_GROUPS)
    )
    return _render(
        report, format, {"provider": principal.tenant_name}, f"provider-usage-{principal.tenant_name}"
    )
