"""The audit log in the database: appends that keep one chain, reads, and verification."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Select, bindparam, insert, select, true, update

from modelyard.audit.chain import (
    GENESIS,
    ChainHead,
    ChainReport,
    ChainWalker,
    Hasher,
    keyed_hasher,
    legacy_entry_hash,
)
from modelyard.store import Database
from modelyard.store.database import without_nul
from modelyard.store.tables import ApiKey, AuditEntry, utcnow

__all__ = ["AuditFilter", "AuditLog", "AuditRecord", "Polling"]

# Names the audit chain among PostgreSQL advisory locks ("maud" in ASCII).
_LOCK_KEY = 0x6D617564
_TABLE = AuditEntry.__table__
_VERIFY_PAGE = 1000


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry before it joins the chain (no seq, no hashes yet)."""

    kind: str  # "request" or "admin"
    created_at: datetime = field(default_factory=utcnow)
    tenant_id: str | None = None
    key_id: str | None = None
    role: str | None = None
    method: str | None = None
    route: str | None = None
    model: str | None = None
    status_code: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    action: str | None = None
    detail: dict[str, Any] | None = None
    # A read made by the console's own polling (see modelyard.audit.middleware).
    poll: bool = False
    # The route's path parameters: the job, file or key the call acted on.
    resource: dict[str, Any] | None = None


# Which entries a listing shows by whether the console's polling made them.
Polling = Literal["include", "exclude", "only"]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    tenant_id: str | None = None
    key_id: str | None = None
    kind: str | None = None
    action: str | None = None
    model: str | None = None
    polling: Polling = "include"
    # Newest first; ``before`` is the seq to continue below (the last page's last seq).
    before: int | None = None
    limit: int = 100


class AuditLog:
    """The chain in ``db``, hashed under ``key`` (see :mod:`modelyard.audit.keys`)."""

    def __init__(self, db: Database, key: bytes) -> None:
        self._db = db
        self._hash: Hasher = keyed_hasher(key)

    def append(self, records: Sequence[AuditRecord]) -> list[int]:
        """Chain ``records`` onto the log in one transaction; returns their seqs."""
        if not records:
            return []
        with self._db.serialized(_LOCK_KEY) as connection:
            last = connection.execute(
                select(_TABLE.c.seq, _TABLE.c.hash).order_by(_TABLE.c.seq.desc()).limit(1)
            )
            row = last.first()
            seq, prev = (row.seq, row.hash) if row else (0, GENESIS)
            rows = []
            for record in records:
                seq += 1
                # Hashed as it will be stored: PostgreSQL cannot store a NUL a caller sent.
                latency = round(record.latency_ms, 3)
                fields = without_nul({**asdict(record), "seq": seq, "latency_ms": latency})
                digest = self._hash(fields, prev)
                rows.append({**fields, "prev_hash": prev, "hash": digest})
                prev = digest
            connection.execute(insert(_TABLE), rows)
        return [r["seq"] for r in rows]

    def list(self, where: AuditFilter) -> list[AuditEntry]:
        query = _filtered(select(AuditEntry), where).order_by(AuditEntry.seq.desc()).limit(where.limit)
        with self._db.session() as session:
            return list(session.scalars(query))

    def key_names(self, key_ids: Iterable[str], *, tenant_id: str | None = None) -> dict[str, str]:
        """The names of these keys, revoked ones too, and only ``tenant_id``'s where given
        (a tenant sees its own keys' names, not the platform admin's); nameless keys left out."""
        wanted = sorted(set(key_ids))
        if not wanted:
            return {}
        query = select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(wanted))
        if tenant_id is not None:
            query = query.where(ApiKey.tenant_id == tenant_id)
        with self._db.engine.connect() as connection:
            return {row.id: row.name for row in connection.execute(query) if row.name}

    def head(self) -> ChainHead | None:
        """The newest entry, as stored (unverified); None for an empty log."""
        query = select(_TABLE.c.seq, _TABLE.c.hash).order_by(_TABLE.c.seq.desc()).limit(1)
        with self._db.engine.connect() as connection:
            row = connection.execute(query).first()
        return ChainHead(row.seq, row.hash) if row else None

    def verify(self, expected: ChainHead | None = None) -> ChainReport:
        """Walk the chain; with ``expected`` (an exported head), also catch a cut-off tail."""
        walker = ChainWalker(self._hash, expected)
        with self._db.engine.connect() as connection:
            for row in _rows_in_order(connection):
                if not walker.feed(row):
                    break
        return walker.report()

    def rekey_legacy(self) -> ChainReport:
        """Re-hash a chain written with the old public hash under this log's key.

        Only the prefix that still verifies under the old hash is re-keyed: an entry edited
        before this ran keeps its old hash, so verification names it. Returns the old check.
        """
        walker = ChainWalker(legacy_entry_hash)
        updates: list[dict[str, Any]] = []
        with self._db.serialized(_LOCK_KEY) as connection:
            prev = GENESIS
            for row in _rows_in_order(connection):
                if not walker.feed(row):
                    break
                digest = self._hash(row, prev)
                updates.append({"old_seq": row["seq"], "prev_hash": prev, "hash": digest})
                prev = digest
            if updates:
                statement = (
                    update(_TABLE)
                    .where(_TABLE.c.seq == bindparam("old_seq"))
                    .values(prev_hash=bindparam("prev_hash"), hash=bindparam("hash"))
                )
                connection.execute(statement, updates)
        return walker.report()


def _rows_in_order(connection: Connection) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        query = select(_TABLE).where(_TABLE.c.seq > after).order_by(_TABLE.c.seq).limit(_VERIFY_PAGE)
        page = [dict(row._mapping) for row in connection.execute(query)]
        yield from page
        if len(page) < _VERIFY_PAGE:
            return
        after = page[-1]["seq"]


def _filtered(query: Select[Any], where: AuditFilter) -> Select[Any]:
    for column, value in (
        (AuditEntry.tenant_id, where.tenant_id),
        (AuditEntry.key_id, where.key_id),
        (AuditEntry.kind, where.kind),
        (AuditEntry.action, where.action),
        (AuditEntry.model, where.model),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.polling != "include":
        # A filter, not a gap: the entries stay in the log and in its chain.
        polled = AuditEntry.poll == true()
        query = query.where(polled if where.polling == "only" else ~polled)
    if where.before is not None:
        query = query.where(AuditEntry.seq < where.before)
    return query
