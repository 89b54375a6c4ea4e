"""The audit service: batched appends off the request path, direct appends, reads.

Request entries are queued in memory and chained onto the log in one transaction every
``flush_interval_s``, so no request waits on the audit write; shutdown flushes what is
left. Commands outside the server (CLI, worker) append directly with :meth:`admin`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from modelyard.audit.chain import ChainHead, ChainReport
from modelyard.audit.log import AuditFilter, AuditLog, AuditRecord
from modelyard.store import Database
from modelyard.store.batching import BatchWriter
from modelyard.store.tables import AuditEntry
from modelyard.tenancy import Principal

__all__ = ["CLI_METHOD", "AuditService"]

# The method of an entry no HTTP request made: a command run on the host.
CLI_METHOD = "CLI"


class AuditService:
    def __init__(self, db: Database, key: bytes, *, flush_interval_s: float = 0.2) -> None:
        self._log = AuditLog(db, key)
        self._writer = BatchWriter(self._log.append, interval_s=flush_interval_s, name="audit-recorder")

    # -- writing -------------------------------------------------------------
    def record(self, record: AuditRecord) -> None:
        """Queue an entry; it joins the chain at the next flush."""
        self._writer.add(record)

    def admin(
        self,
        action: str,
        *,
        principal: Principal | None = None,
        detail: dict[str, Any] | None = None,
        method: str = CLI_METHOD,
    ) -> int:
        """Append one administrative entry now (for changes made outside an HTTP request).

        Its method says how the change came, as an HTTP entry's does: by default from a
        command on the host (the first start's admin key, ``modelyard tenants create``).
        """
        record = AuditRecord(
            kind="admin",
            action=action,
            detail=detail,
            method=method,
            tenant_id=principal.tenant_id if principal else None,
            key_id=principal.key_id if principal else None,
            role=principal.role if principal else None,
        )
        return self._log.append([record])[0]

    async def start(self) -> None:
        await self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    async def flush(self) -> None:
        await self._writer.flush()

    # -- reading -------------------------------------------------------------
    def list(self, where: AuditFilter) -> list[AuditEntry]:
        return self._log.list(where)

    def key_names(self, key_ids: Iterable[str], *, tenant_id: str | None = None) -> dict[str, str]:
        return self._log.key_names(key_ids, tenant_id=tenant_id)

    def head(self) -> ChainHead | None:
        return self._log.head()

    def verify(self, expected: ChainHead | None = None) -> ChainReport:
        return self._log.verify(expected)
