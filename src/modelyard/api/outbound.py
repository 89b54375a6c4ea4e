"""The outbound allow-list over HTTP (platform admin keys only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from modelyard.api.deps import AdminDep, AuthenticatedRouter, ServicesDep
from modelyard.audit.context import annotate
from modelyard.security import OutboundAllowList
from modelyard.store.tables import OutboundAllow, unix_seconds

__all__ = ["router"]

router: APIRouter = AuthenticatedRouter(scope="admin", prefix="/v1/admin/outbound-allowlist", tags=["admin"])


async def _allowlist(services: ServicesDep) -> OutboundAllowList:
    return services.outbound


AllowListDep = Annotated[OutboundAllowList, Depends(_allowlist)]
HostPath = Annotated[str, Path(min_length=1, max_length=300)]


class HostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # host, host:port or http(s)://host[:port]; a bare host allows ports 80 and 443 only.
    host: str = Field(min_length=1, max_length=300)


def _entry(entry: OutboundAllow) -> dict[str, Any]:
    return {
        "object": "outbound_allow",
        "host": entry.entry,
        "scheme": entry.scheme,
        "port": entry.port,
        "created_by": entry.created_by,
        "created_at": unix_seconds(entry.created_at),
    }


@router.get("")
def list_outbound_hosts(_admin: AdminDep, allowlist: AllowListDep) -> dict[str, Any]:
    return {"object": "list", "data": [_entry(e) for e in allowlist.list()]}


@router.post("", status_code=201)
def allow_outbound_host(body: HostIn, admin: AdminDep, allowlist: AllowListDep) -> dict[str, Any]:
    entry = allowlist.allow(body.host, created_by=admin.key_id)
    annotate(host=entry.entry)
    return _entry(entry)


# ``:path``: an entry spelt with its scheme holds slashes.
@router.delete("/{host:path}", status_code=204)
def remove_outbound_host(host: HostPath, _admin: AdminDep, allowlist: AllowListDep) -> Response:
    allowlist.remove(host)
    return Response(status_code=204)
