"""Which waiting rows decode together, and when: the micro-batcher of one base host.

On a CPU, one decode step for 8 sequences costs little more than for one (the weights
are read once for all of them, matrix-vector becomes matrix-matrix), so rows that wait
for the host's one worker thread are run together rather than one after another.

A batch forms when the worker is free: it takes the oldest waiting row and, in arrival
order, up to ``MAX_BATCH_ROWS - 1`` more rows *on the same adapter* (PEFT's active
adapter is global state, so one forward pass can serve only one). Requests sent
together (an evaluation's dozens) are tokenized on several threads and arrive a few
milliseconds apart, so while fewer rows than that wait *and* other requests are on
their way (announced with :meth:`MicroBatcher.on_the_way`, being tokenized), the batch
waits for them, until ``BATCH_WINDOW_S`` after its oldest row arrived. A lone request
never waits: nothing else is on its way. Rows that waited for a busy host waited longer
than the window already, so they go at once.

Rows do not join a batch that is already decoding; they wait for the next one.
Torch-free: the decode loop itself lives in ``decode_loop`` and is handed in as ``run``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from modelyard.backends.transformers.generation import Request

__all__ = ["BATCH_WINDOW_S", "MAX_BATCH_ROWS", "BatchStats", "MicroBatcher", "Row", "RowSink"]

# Module constants rather than BackendContext fields: BackendContext (backends/base.py)
# belongs to every engine, and these two tune only this one.
MAX_BATCH_ROWS = 8
BATCH_WINDOW_S = 0.005


class RowSink(Protocol):
    """Where a row's results go: the request that the row is one choice of."""

    def text(self, index: int, piece: str) -> None: ...

    def finish(self, index: int, reason: str, completion_tokens: int) -> None: ...

    def fail(self, error: BaseException) -> None: ...


@dataclass(eq=False, slots=True)
class Row:
    """One choice of one request: what to generate, and where to send what it produces.

    The first of ``finish``, ``fail`` and ``drop`` ends the row; later calls do nothing, so
    the batcher's safety net can fail a whole batch without repeating an ending.
    """

    request: Request
    index: int  # the choice's index within its request
    adapter: str | None  # None: the base model
    sink: RowSink
    cancelled: threading.Event  # set when the caller left
    arrived: float = field(default_factory=time.monotonic)
    done: bool = False
    dropped: bool = False

    def emit(self, piece: str) -> None:
        if piece and not self.done:
            self.sink.text(self.index, piece)

    def finish(self, reason: str, completion_tokens: int) -> None:
        if not self.done:
            self.done = True
            self.sink.finish(self.index, reason, completion_tokens)

    def fail(self, error: BaseException) -> None:
        if not self.done:
            self.done = True
            self.sink.fail(error)

    def drop(self) -> None:
        """End silently: the caller left, nobody reads this row any more."""
        if not self.done:
            self.done = self.dropped = True


@dataclass(frozen=True, slots=True)
class BatchStats:
    """Counters since the host started; a test or a metrics page reads them."""

    batches: int  # decode batches run
    rows: int  # rows in them
    largest: int  # most rows in one batch
    dropped: int  # rows ended early because their caller left
    waiting: int  # rows waiting for a batch right now


class MicroBatcher:
    """Groups waiting rows into batches and runs them, one at a time, on the host's worker.

    ``submit`` queues a job on the host's single worker thread (raising ``RuntimeError``
    once the host is closed); ``run(adapter, rows)`` decodes one batch there.
    """

    def __init__(
        self,
        submit: Callable[[Callable[[], None]], object],
        run: Callable[[str | None, list[Row]], None],
        *,
        max_rows: int = MAX_BATCH_ROWS,
        window_s: float = BATCH_WINDOW_S,
    ) -> None:
        self._submit = submit
        self._run = run
        self._max_rows = max_rows
        self._window_s = window_s
        self._pending: deque[Row] = deque()
        self._ready = threading.Condition()
        self._scheduled = False  # a drain job is queued or running on the worker
        self._on_the_way = 0  # requests being prepared that will add rows soon
        self._closed = False
        self._batches = self._rows = self._largest = self._dropped = 0

    def add(self, rows: Sequence[Row]) -> None:
        """Queue ``rows``; raise ``RuntimeError`` (and queue nothing) if the host is closed."""
        with self._ready:
            if self._closed:
                raise RuntimeError("the model's host is closed")
            self._pending.extend(rows)
            self._ready.notify()
            if self._scheduled:  # the running drain will reach them
                return
            self._scheduled = True
        try:
            self._submit(self._drain)
        except RuntimeError:
            with self._ready:
                self._scheduled = False
                self._remove(rows)
            raise

    def close(self) -> None:
        """Refuse rows from now on; those already accepted still run."""
        with self._ready:
            self._closed = True

    @contextmanager
    def on_the_way(self) -> Iterator[None]:
        """Around preparing a request (tokenizing) and adding its rows: batches wait for it."""
        with self._ready:
            self._on_the_way += 1
        try:
            yield
        finally:
            with self._ready:
                self._on_the_way -= 1
                self._ready.notify()

    def stats(self) -> BatchStats:
        with self._ready:
            return BatchStats(self._batches, self._rows, self._largest, self._dropped, len(self._pending))

    # -- on the worker thread -------------------------------------------------
    def drain_now(self) -> None:
        """Run every waiting row here and now: the host is closing and queues no more jobs."""
        while batch := self._take():
            self._run_safely(batch)

    def _drain(self) -> None:
        """Run one batch, then queue the next behind whatever else the host was asked to do."""
        while True:
            batch = self._take()
            if batch:
                self._run_safely(batch)
            with self._ready:
                if not self._pending:
                    self._scheduled = False
                    return
            try:
                # Back of the line: an adapter attach queued meanwhile goes first.
                self._submit(self._drain)
                return
            except RuntimeError:  # the host is closing: finish the accepted rows right here
                continue

    def _take(self) -> list[Row]:
        with self._ready:
            self._discard_cancelled()
            if not self._pending:
                return []
            deadline = self._pending[0].arrived + self._window_s
            while self._worth_waiting() and (left := deadline - time.monotonic()) > 0:
                self._ready.wait(left)
            adapter = self._pending[0].adapter
            batch = [row for row in self._pending if row.adapter == adapter][: self._max_rows]
            self._remove(batch)
            self._batches += 1
            self._rows += len(batch)
            self._largest = max(self._largest, len(batch))
            return batch

    def _worth_waiting(self) -> bool:
        # Called with the lock held. Rows already added count once more while their
        # request is still inside ``on_the_way``: a wait of microseconds, not worth a flag.
        return len(self._pending) < self._max_rows and self._on_the_way > 0

    def _run_safely(self, batch: list[Row]) -> None:
        try:
            self._run(batch[0].adapter, batch)
        except BaseException as exc:  # noqa: BLE001 - each waiting request is told, none hangs
            for row in batch:
                row.fail(exc)  # rows that already finished ignore it
        with self._ready:
            self._dropped += sum(row.dropped for row in batch)

    def _discard_cancelled(self) -> None:
        gone = [row for row in self._pending if row.cancelled.is_set()]
        for row in gone:
            row.drop()
        self._dropped += len(gone)
        self._remove(gone)

    def _remove(self, rows: Sequence[Row]) -> None:
        if rows:
            ids = {id(row) for row in rows}
            self._pending = deque(row for row in self._pending if id(row) not in ids)
