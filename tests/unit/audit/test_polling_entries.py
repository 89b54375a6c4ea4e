"""Entries of the console's polling and the resource a call acted on, in the chain.

Both fields joined the chain after entries existed: an entry that sets them is covered by
its hash, and an entry written before them still verifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from modelyard.audit.chain import GENESIS, entry_hash
from modelyard.audit.log import AuditFilter, AuditLog, AuditRecord
from modelyard.store import Database
from modelyard.store.tables import AuditEntry

KEY = b"test-audit-key-0123456789abcdef"
_TABLE = AuditEntry.__table__


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def _read(i: int, *, poll: bool) -> AuditRecord:
    return AuditRecord(
        kind="request", tenant_id="ten_a", key_id="key_1", method="GET",
        route="/v1/fine_tuning/jobs/{job_id}", status_code=200, latency_ms=1.0 + i,
        poll=poll, resource={"job_id": f"ftjob-{i}"},
    )  # fmt: skip


def _mixed(db: Database) -> AuditLog:
    """Seqs 1..6: odd ones the console's polling, even ones not."""
    log = AuditLog(db, KEY)
    log.append([_read(i, poll=i % 2 == 1) for i in range(1, 7)])
    return log


def test_polling_reads_are_filtered_not_dropped(db: Database) -> None:
    log = _mixed(db)
    assert [e.seq for e in log.list(AuditFilter())] == [6, 5, 4, 3, 2, 1]
    assert [e.seq for e in log.list(AuditFilter(polling="exclude"))] == [6, 4, 2]
    assert [e.seq for e in log.list(AuditFilter(polling="only"))] == [5, 3, 1]
    # Paging below a cursor keeps the filter.
    assert [e.seq for e in log.list(AuditFilter(polling="exclude", before=4))] == [2]
    report = log.verify()
    assert report.ok and report.count == 6


def test_resource_and_poll_are_stored(db: Database) -> None:
    _mixed(db)
    [entry] = AuditLog(db, KEY).list(AuditFilter(limit=1))
    assert entry.resource == {"job_id": "ftjob-6"} and entry.poll is False


@pytest.mark.parametrize(
    "assignment",
    ["poll = :t", "resource = NULL"],
    ids=["poll-set", "resource-cleared"],
)
def test_editing_the_new_fields_breaks_the_chain(db: Database, assignment: str) -> None:
    log = _mixed(db)
    with db.engine.begin() as conn:
        conn.execute(text(f"update audit_log set {assignment} where seq = 4"), {"t": True})
    report = log.verify()
    assert not report.ok and report.bad_seq == 4 and "edited" in (report.reason or "")


def test_unmarking_a_polling_read_breaks_the_chain(db: Database) -> None:
    log = _mixed(db)
    with db.engine.begin() as conn:
        conn.execute(text("update audit_log set poll = :f where seq = 3"), {"f": False})
    report = log.verify()
    assert not report.ok and report.bad_seq == 3


def test_entries_written_before_the_new_fields_still_verify(db: Database) -> None:
    """A row as 0005 wrote it: hashed without poll or resource, which read back unset."""
    row = {"seq": 1, "created_at": datetime.now(UTC), "kind": "request", "route": "/v1/models",
           "method": "GET", "status_code": 200, "prompt_tokens": 0, "completion_tokens": 0,
           "latency_ms": 1.0}  # fmt: skip
    digest = entry_hash(row, GENESIS, KEY)
    with db.engine.begin() as conn:
        conn.execute(_TABLE.insert().values(**row, prev_hash=GENESIS, hash=digest))
    log = AuditLog(db, KEY)
    log.append([_read(2, poll=True)])
    report = log.verify()
    assert report.ok and report.count == 2
