"""Writes usage events off the request path, in batches.

A call's usage is queued at once and written within ``flush_interval_s``; shutdown flushes
what is left. Batching keeps a database write out of every request's latency.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass

from modelyard.store import Database, UsageEvent

__all__ = ["UsageRecord", "UsageRecorder", "cost_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    tenant_id: str
    key_id: str
    model: str
    endpoint: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    status_code: int
    cost: float


def cost_of(prompt_tokens: int, completion_tokens: int, *, price_in: float, price_out: float) -> float:
    return round(prompt_tokens / 1000 * price_in + completion_tokens / 1000 * price_out, 8)


class UsageRecorder:
    def __init__(self, db: Database, *, flush_interval_s: float = 0.2) -> None:
        self._db = db
        self._interval = flush_interval_s
        self._pending: list[UsageRecord] = []
        self._task: asyncio.Task[None] | None = None

    def record(self, record: UsageRecord) -> None:
        self._pending.append(record)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-recorder")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if batch:
            await asyncio.to_thread(self._write, batch)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - keep metering alive; the batch is retried
                log.exception("writing usage events failed; will retry")

    def _write(self, batch: list[UsageRecord]) -> None:
        try:
            with self._db.session() as session:
                session.add_all(UsageEvent(**asdict(r)) for r in batch)
        except Exception:
            self._pending[:0] = batch
            raise
