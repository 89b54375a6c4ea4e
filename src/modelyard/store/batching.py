"""Rows written off the request path, in batches (usage events, audit entries).

A request queues its row at once; a background task writes what is queued every
``interval_s`` in one transaction; shutdown flushes what is left. A failed batch is put
back in front of the queue and retried, so nothing is lost to a passing database error.

A batch the database refuses for its *data* (``DataError``, ``IntegrityError``: retrying
cannot help) is written row by row instead, and only the rows refused on their own are
dropped, with an error in the log. One bad row must not stop every later row for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.exc import DataError, IntegrityError

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
        self._stopping = asyncio.Event()
        # One write at a time: a flush() that finds a write under way waits for it, so
        # "flushed" means every row added before the call is committed.
        self._writing = asyncio.Lock()

    def add(self, item: T) -> None:
        self._pending.append(item)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        # Not task.cancel(): cancelling the await of a write leaves its thread writing, so a
        # caller that reads right after stop() could miss rows still being committed.
        self._stopping.set()
        if self._task:
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()

    async def flush(self) -> None:
        async with self._writing:
            batch, self._pending = self._pending, []
            if batch:
                await asyncio.to_thread(self._write, batch)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self._interval)
            except TimeoutError:
                pass
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - keep the writer alive; the batch is retried
                log.exception("%s: writing a batch failed; will retry", self._name)

    def _write(self, batch: list[T]) -> None:
        try:
            self._write_batch(batch)
        except (DataError, IntegrityError):
            self._write_one_by_one(batch)
        except Exception:
            self._pending[:0] = batch
            raise

    def _write_one_by_one(self, batch: list[T]) -> None:
        for index, item in enumerate(batch):
            try:
                self._write_batch([item])
            except (DataError, IntegrityError) as refused:
                # The kind of refusal only: the row's values are the caller's business.
                reason = type(refused.orig).__name__
                log.error("%s: dropped a row the database refuses: %s", self._name, reason)
            except Exception:
                self._pending[:0] = batch[index:]
                raise
