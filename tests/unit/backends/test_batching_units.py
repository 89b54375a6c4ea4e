"""The micro-batcher and the choice relay on their own: no model, no torch, no threads of theirs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from modelyard.backends.base import StreamChunk, Usage
from modelyard.backends.transformers.batcher import MicroBatcher, Row
from modelyard.backends.transformers.relay import ChoiceRelay
from tests.helpers.deadlines import scaled

REQUEST: Any = object()  # the batcher never looks inside (the real one needs torch)


class Sink:
    """Records what its rows report."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def text(self, index: int, piece: str) -> None:
        self.events.append(("text", index, piece))

    def finish(self, index: int, reason: str, completion_tokens: int) -> None:
        self.events.append(("finish", index, reason, completion_tokens))

    def fail(self, error: BaseException) -> None:
        self.events.append(("fail", str(error)))


class Worker:
    """Stands in for the host's one worker thread: jobs run when the test says so."""

    def __init__(self) -> None:
        self.jobs: list[Callable[[], None]] = []
        self.closed = False

    def submit(self, job: Callable[[], None]) -> None:
        if self.closed:
            raise RuntimeError("cannot schedule new futures after shutdown")
        self.jobs.append(job)

    def run_all(self) -> None:
        while self.jobs:
            self.jobs.pop(0)()


def _row(adapter: str | None = None, sink: Sink | None = None, index: int = 0) -> Row:
    return Row(REQUEST, index, adapter, sink or Sink(), threading.Event())


def _batcher(worker: Worker, batches: list[list[Row]], **kwargs: float) -> MicroBatcher:
    def run(adapter: str | None, rows: list[Row]) -> None:
        assert all(row.adapter == adapter for row in rows)
        batches.append(rows)
        for row in rows:
            row.finish("length", 4)

    return MicroBatcher(worker.submit, run, **kwargs)


def test_rows_group_by_adapter_in_arrival_order_up_to_the_limit() -> None:
    worker, batches = Worker(), []
    batcher = _batcher(worker, batches, max_rows=2)
    rows = [_row(adapter) for adapter in (None, "a", None, "a", None, "b")]
    batcher.add(rows)
    worker.run_all()
    assert batches == [[rows[0], rows[2]], [rows[1], rows[3]], [rows[4]], [rows[5]]]
    stats = batcher.stats()
    assert (stats.batches, stats.rows, stats.largest, stats.waiting) == (4, 6, 2, 0)


def test_one_drain_job_at_a_time_and_each_batch_goes_to_the_back_of_the_line() -> None:
    worker, batches = Worker(), []
    batcher = _batcher(worker, batches, max_rows=1)
    batcher.add([_row()])
    batcher.add([_row()])
    assert len(worker.jobs) == 1  # the second add found a drain already queued
    other: list[str] = []
    worker.submit(lambda: other.append("attach"))
    worker.jobs.pop(0)()  # first batch; the drain queues itself behind "attach"
    assert len(batches) == 1 and len(worker.jobs) == 2
    worker.run_all()
    assert other == ["attach"] and len(batches) == 2


def test_a_lone_request_never_waits_for_the_window() -> None:
    worker, batches = Worker(), []
    # A window far longer than any scaled bound: waiting for it could not pass unseen.
    batcher = _batcher(worker, batches, window_s=120.0)
    batcher.add([_row()])
    started = time.monotonic()
    worker.run_all()
    assert time.monotonic() - started < min(scaled(2.5), 60)
    assert len(batches) == 1


def test_a_batch_waits_for_requests_on_their_way() -> None:
    worker, batches = Worker(), []
    batcher = _batcher(worker, batches, window_s=120.0)
    late = _row()

    def second_request() -> None:
        with batcher.on_the_way():
            time.sleep(0.1)  # tokenizing
            batcher.add([late])

    with batcher.on_the_way():
        first = _row()
        batcher.add([first])
    thread = threading.Thread(target=second_request)
    with batcher.on_the_way():  # announced before the batch forms, like a request being tokenized
        thread.start()
        time.sleep(0.01)
    started = time.monotonic()
    worker.run_all()
    thread.join()
    assert batches == [[first, late]]
    assert time.monotonic() - started < min(scaled(2.5), 60)  # ended by the arrival, not the window


def test_rows_whose_caller_left_are_dropped_before_their_batch() -> None:
    worker, batches = Worker(), []
    batcher = _batcher(worker, batches)
    gone, kept = _row(), _row()
    batcher.add([gone, kept])
    gone.cancelled.set()
    worker.run_all()
    assert batches == [[kept]]
    assert gone.sink.events == []  # nobody is listening: nothing is sent
    assert batcher.stats().dropped == 1


def test_a_failed_batch_fails_its_unfinished_rows_and_the_next_batch_runs() -> None:
    worker, calls = Worker(), []
    sinks = [Sink() for _ in range(3)]

    def run(adapter: str | None, rows: list[Row]) -> None:
        calls.append(len(rows))
        if len(calls) == 1:
            rows[0].finish("stop", 2)
            raise MemoryError("out of memory")
        for row in rows:
            row.finish("length", 4)

    batcher = MicroBatcher(worker.submit, run, max_rows=2)
    batcher.add([_row(sink=s) for s in sinks])
    worker.run_all()
    assert calls == [2, 1]
    assert sinks[0].events == [("finish", 0, "stop", 2)]  # it had ended: not failed twice
    assert sinks[1].events == [("fail", "out of memory")]
    assert sinks[2].events == [("finish", 0, "length", 4)]


def test_a_closed_host_refuses_rows_and_finishes_the_accepted_ones() -> None:
    worker, batches = Worker(), []
    batcher = _batcher(worker, batches, max_rows=1)
    accepted = [_row(), _row()]
    batcher.add(accepted)
    batcher.close()
    worker.closed = True  # shut down with a drain queued: it cannot queue itself again
    with pytest.raises(RuntimeError):
        batcher.add([_row()])
    assert batcher.stats().waiting == 2  # the refused row is not left behind
    worker.run_all()
    assert batches == [[accepted[0]], [accepted[1]]]


def test_drain_now_runs_what_is_waiting() -> None:
    worker, batches = Worker(), []
    batcher = _batcher(worker, batches, max_rows=1)
    batcher.add([_row(), _row()])
    batcher.drain_now()
    assert len(batches) == 2 and batcher.stats().waiting == 0


# -- the relay -----------------------------------------------------------------


def test_relay_streams_choices_in_order_whatever_order_rows_report() -> None:
    items: list[object] = []
    relay = ChoiceRelay(3, prompt_tokens=5, put=items.append)
    relay.text(1, "b1")
    relay.text(0, "a1")
    relay.text(2, "c1")
    relay.finish(2, "length", 3)
    relay.text(1, "b2")
    relay.text(0, "a2")
    relay.finish(1, "stop", 2)
    assert items == [StreamChunk(0, "a1"), StreamChunk(0, "a2")]  # 1 and 2 held until 0 ends
    relay.finish(0, "stop", 4)
    assert items[2:] == [
        StreamChunk(0, "", "stop"),
        StreamChunk(1, "b1b2"),
        StreamChunk(1, "", "stop"),
        StreamChunk(2, "c1"),
        StreamChunk(2, "", "length"),
        Usage(5, 9),
    ]


def test_relay_passes_on_the_first_error_and_nothing_after_it() -> None:
    items: list[object] = []
    relay = ChoiceRelay(2, prompt_tokens=5, put=items.append)
    relay.text(0, "a")
    relay.fail(ValueError("first"))
    relay.fail(ValueError("second"))
    relay.text(0, "more")
    relay.finish(0, "stop", 1)
    relay.finish(1, "stop", 1)
    assert [type(i) for i in items] == [StreamChunk, ValueError]
    assert str(items[1]) == "first"
