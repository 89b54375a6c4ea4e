"""Rows written off the request path, in batches (usage events, audit entries).

A request queues its row at once; a background task writes what is queued every
``interval_s`` in one transaction; shutdown flushes what is left. A failed batch is put
back in front of the queue and retried, so nothing is lost to a passing database error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["BatchWriter"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class BatchWriter(Generic[T]):  # noqa: UP046 - Python 3.11 has no `class X[T]`
    def __init__(self, write: Callable[[list[T]], None], *, interval_s: float, name: str) -> None:
        self._write_batch = write
        self._interval = interval_s
        self._name = name
        self._pending: list[T] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, item: T) -> None:
        self._pending.append(item)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

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
            except Exception:  # noqa: BLE001 - keep the writer alive; the batch is retried
                log.exception("%s: writing a batch failed; will retry", self._name)

    def _write(self, batch: list[T]) -> None:
        try:
            self._write_batch(batch)
        except Exception:
            self._pending[:0] = batch
            raise
