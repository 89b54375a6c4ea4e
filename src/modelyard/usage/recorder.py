"""Writes usage events off the request path, in batches.

A call's usage is queued at once and written within ``flush_interval_s``; shutdown flushes
what is left. Batching keeps a database write out of every request's latency.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from modelyard.store import Database, UsageEvent
from modelyard.store.batching import BatchWriter

__all__ = ["UsageRecord", "UsageRecorder", "cost_of", "training_cost"]


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


def training_cost(trained_tokens: int, price_training_per_1k: float) -> float:
    """A fine-tuning job's bill: its trained tokens (tokens x epochs) at the base model's price."""
    return round(trained_tokens / 1000 * price_training_per_1k, 8)


class UsageRecorder:
    def __init__(self, db: Database, *, flush_interval_s: float = 0.2) -> None:
        self._db = db
        self._writer = BatchWriter(self._insert, interval_s=flush_interval_s, name="usage-recorder")

    def record(self, record: UsageRecord) -> None:
        self._writer.add(record)

    async def start(self) -> None:
        await self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    async def flush(self) -> None:
        await self._writer.flush()

    def _insert(self, batch: list[UsageRecord]) -> None:
        with self._db.session() as session:
            session.add_all(UsageEvent(**asdict(r)) for r in batch)

    def record_in(self, session: Session, record: UsageRecord, *, ref_id: str) -> None:
        """Write one event now, in the caller's transaction, not batched: a bill that must
        commit with what it pays for (a published fine-tune). ``ref_id`` is unique, so the
        same thing is never billed twice."""
        session.add(UsageEvent(**{**asdict(record), "ref_id": ref_id}))
