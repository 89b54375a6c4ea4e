"""Batched writes: nothing lost to a passing error, and one refused row never blocks the rest."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from modelyard.store.batching import BatchWriter
from tests.helpers.deadlines import scaled


class _Table:
    """Writes rows all or nothing, refusing "bad" ones as a database would; can be down."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.down = False

    def write(self, batch: list[str]) -> None:
        if self.down:
            raise OperationalError("insert", {}, ConnectionError("server closed the connection"))
        if "bad" in batch:
            raise IntegrityError("insert", {}, ValueError("duplicate key"))
        self.rows.extend(batch)


def _flush(writer: BatchWriter[str]) -> None:
    asyncio.run(writer.flush())


def test_a_refused_row_is_dropped_and_the_rest_written(caplog: pytest.LogCaptureFixture) -> None:
    table = _Table()
    writer = BatchWriter(table.write, interval_s=60, name="test-writer")
    for row in ("a", "bad", "c"):
        writer.add(row)
    _flush(writer)
    assert table.rows == ["a", "c"]
    assert "dropped a row the database refuses: ValueError" in caplog.text and "bad" not in caplog.text
    writer.add("d")
    _flush(writer)  # nothing stuck in front of the queue
    assert table.rows == ["a", "c", "d"]


def test_a_database_outage_loses_nothing() -> None:
    table = _Table()
    writer = BatchWriter(table.write, interval_s=60, name="test-writer")
    writer.add("a")
    writer.add("b")
    table.down = True
    with pytest.raises(OperationalError):
        _flush(writer)
    writer.add("c")
    table.down = False
    _flush(writer)
    assert table.rows == ["a", "b", "c"]


def test_an_outage_while_writing_row_by_row_keeps_what_is_left() -> None:
    table = _Table()
    writes = 0

    def write(batch: list[str]) -> None:
        nonlocal writes
        writes += 1
        table.down = writes == 3  # goes down after the batch failed and "a" was written alone
        table.write(batch)

    writer = BatchWriter(write, interval_s=60, name="test-writer")
    for row in ("a", "bad", "c"):
        writer.add(row)
    with pytest.raises(OperationalError):
        _flush(writer)
    table.down = False
    writes = 10
    _flush(writer)
    assert table.rows == ["a", "c"]


def _rows_once_returned(call: str) -> list[str]:
    """Calls ``writer.<call>()`` while the periodic write is in its thread, releases that write,
    and gives the rows committed when the call returned."""
    table = _Table()
    writing, release = threading.Event(), threading.Event()

    def slow_write(batch: list[str]) -> None:
        writing.set()
        release.wait(scaled(5))
        table.write(batch)

    async def scenario() -> list[str]:
        writer = BatchWriter(slow_write, interval_s=0.01, name="test-writer")
        await writer.start()
        writer.add("a")
        await asyncio.to_thread(writing.wait, scaled(5))
        calling = asyncio.create_task(getattr(writer, call)())
        await asyncio.sleep(0.05)
        release.set()
        await calling
        rows = list(table.rows)
        await writer.stop()
        return rows

    return asyncio.run(scenario())


def test_stop_waits_for_a_write_already_under_way() -> None:
    """stop() returns only after the rows of a write under way are committed, so whoever
    reads next (a test, the next process) sees them."""
    assert _rows_once_returned("stop") == ["a"]


def test_flush_waits_for_a_write_already_under_way() -> None:
    """ "Flushed" means every row added before the call is committed (tests and shutdown rely on it)."""
    assert _rows_once_returned("flush") == ["a"]
