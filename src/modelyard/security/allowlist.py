"""The outbound allow-list: destinations an admin allowed despite the private-address guard.

An entry names a host and, optionally, a scheme and a port::

    10.0.0.5               http or https, ports 80 and 443 only
    10.0.0.5:8000          http or https, port 8000
    http://10.0.0.5:8000   http only, port 8000 (https://h alone means port 443)

Allowing a host never opens its other ports: allowing ``127.0.0.1`` for a model server
must not let a provider reach Redis on 6379. The gateway's own listen address is refused.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import select

from modelyard.errors import InvalidRequest, NotFound
from modelyard.security.outbound import (
    ListenAddress,
    OutboundGuard,
    Resolver,
    default_port,
    literal_address,
    normalise_host,
    system_resolver,
)
from modelyard.store import Database
from modelyard.store.tables import OutboundAllow

__all__ = ["AllowEntry", "OutboundAllowList", "parse_entry"]

# A host name or an IP literal: no path, user info or whitespace.
_HOST = re.compile(r"^[a-z0-9._-]{1,253}$|^[0-9a-f:.]{2,45}$")
_ENTRY = re.compile(
    r"^(?:(?P<scheme>https?)://)?(?P<host>\[[0-9a-fA-F:.]+\]|[^:/\[\]]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)"
    r"(?::(?P<port>[0-9]{1,5}))?/?$"
)
_BARE_PORTS = frozenset({80, 443})
_SPELLING = "a host, host:port or http(s)://host[:port] (no path)"


@dataclass(frozen=True, slots=True)
class AllowEntry:
    """One allowed destination; ``None`` scheme: http or https; ``None`` port: 80 and 443."""

    host: str
    scheme: str | None = None
    port: int | None = None

    @property
    def name(self) -> str:
        """The canonical spelling: what an entry is listed and removed by."""
        if self.scheme is None and self.port is None:
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        prefix = f"{self.scheme}://" if self.scheme else ""
        return f"{prefix}{host}:{self.port}"

    def allows(self, scheme: str, host: str, port: int) -> bool:
        if host != self.host or (self.scheme is not None and scheme != self.scheme):
            return False
        return port in _BARE_PORTS if self.port is None else port == self.port


def parse_entry(text: str) -> AllowEntry:
    """``text`` as an allow-list entry; InvalidRequest when it is not one."""
    match = _ENTRY.match(text.strip().lower())
    host = normalise_host(match.group("host")) if match else ""
    if not match or not _HOST.match(host) or (":" in host and literal_address(host) is None):
        raise InvalidRequest(f"host must be {_SPELLING}", param="host")
    scheme, port = match.group("scheme"), match.group("port")
    number = int(port) if port else (default_port(scheme) if scheme else None)
    if number is not None and not 0 < number < 65536:
        raise InvalidRequest("port must be between 1 and 65535", param="host")
    return AllowEntry(host=host, scheme=scheme, port=number)


class OutboundAllowList:
    def __init__(
        self, db: Database, *, listen: ListenAddress | None = None, cache_ttl_s: float = 2.0
    ) -> None:
        self._db = db
        self._listen = listen
        self._ttl = cache_ttl_s
        # Checked on every new upstream connection; another process's change shows within the TTL.
        self._cache: tuple[float, tuple[AllowEntry, ...]] | None = None

    def guard(self, resolver: Resolver = system_resolver) -> OutboundGuard:
        return OutboundGuard(self.is_allowed, resolver, listen=self._listen)

    def is_allowed(self, scheme: str, host: str, port: int) -> bool:
        cached = self._cache
        if cached is None or cached[0] <= time.monotonic():
            cached = (time.monotonic() + self._ttl, tuple(_entry_of(e) for e in self.list()))
            self._cache = cached
        return any(entry.allows(scheme, host, port) for entry in cached[1])

    def list(self) -> list[OutboundAllow]:
        with self._db.session() as session:
            return list(session.scalars(select(OutboundAllow).order_by(OutboundAllow.entry)))

    def allow(self, text: str, *, created_by: str | None = None) -> OutboundAllow:
        """Allow the destination ``text`` names (idempotent: again keeps the first entry)."""
        entry = parse_entry(text)
        self._refuse_own(entry)
        with self._db.session() as session:
            row = session.get(OutboundAllow, entry.name)
            if row is None:
                row = OutboundAllow(
                    entry=entry.name,
                    scheme=entry.scheme,
                    host=entry.host,
                    port=entry.port,
                    created_by=created_by,
                )
                session.add(row)
        self._cache = None
        return row

    def remove(self, text: str) -> None:
        name = parse_entry(text).name
        with self._db.session() as session:
            row = session.get(OutboundAllow, name)
            if row is None:
                raise NotFound(f"'{name}' is not on the outbound allow-list", param="host")
            session.delete(row)
        self._cache = None

    def _refuse_own(self, entry: AllowEntry) -> None:
        address = literal_address(entry.host)
        if self._listen is None or address is None:
            return  # a name is checked against the listen address as each connection opens
        ports = _BARE_PORTS if entry.port is None else {entry.port}
        if any(self._listen.reaches(port, [address]) for port in ports):
            raise InvalidRequest(
                f"'{entry.name}' is the gateway's own address; it cannot be allowed", param="host"
            )


def _entry_of(row: OutboundAllow) -> AllowEntry:
    return AllowEntry(host=row.host, scheme=row.scheme, port=row.port)
