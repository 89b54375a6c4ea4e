"""The outbound allow-list: hosts an admin allowed despite the private-address guard."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from modelyard.errors import InvalidRequest, NotFound
from modelyard.security.outbound import OutboundGuard, Resolver, normalise_host, system_resolver
from modelyard.store import Database
from modelyard.store.tables import OutboundAllow

__all__ = ["OutboundAllowList"]

# A host name or an IP literal: no scheme, path, port, user info or whitespace.
_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9._:-]{1,253})$")


class OutboundAllowList:
    def __init__(self, db: Database, *, cache_ttl_s: float = 2.0) -> None:
        self._db = db
        self._ttl = cache_ttl_s
        # Checked on every new upstream connection; another process's change shows within the TTL.
        self._cache: tuple[float, frozenset[str]] | None = None

    def guard(self, resolver: Resolver = system_resolver) -> OutboundGuard:
        return OutboundGuard(self.is_allowed, resolver)

    def is_allowed(self, host: str) -> bool:
        cached = self._cache
        if cached is None or cached[0] <= time.monotonic():
            cached = (time.monotonic() + self._ttl, frozenset(e.host for e in self.list()))
            self._cache = cached
        return host in cached[1]

    def list(self) -> list[OutboundAllow]:
        with self._db.session() as session:
            return list(session.scalars(select(OutboundAllow).order_by(OutboundAllow.host)))

    def allow(self, host: str, *, created_by: str | None = None) -> OutboundAllow:
        """Allow ``host`` (idempotent: allowing it again keeps the first entry)."""
        normal = _valid_host(host)
        with self._db.session() as session:
            entry = session.get(OutboundAllow, normal)
            if entry is None:
                entry = OutboundAllow(host=normal, created_by=created_by)
                session.add(entry)
        self._cache = None
        return entry

    def remove(self, host: str) -> None:
        normal = normalise_host(host)
        with self._db.session() as session:
            entry = session.get(OutboundAllow, normal)
            if entry is None:
                raise NotFound(f"'{normal}' is not on the outbound allow-list", param="host")
            session.delete(entry)
        self._cache = None


def _valid_host(host: str) -> str:
    normal = normalise_host(host)
    if not _HOST.match(normal) or normal.count(":") == 1:
        raise InvalidRequest(
            "host must be a bare host name or IP address (no scheme, port or path)", param="host"
        )
    return normal
