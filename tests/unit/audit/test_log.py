"""The audit chain in a real database: verification names tampering; appends stay one chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from modelyard.audit.log import AuditFilter, AuditLog, AuditRecord
from modelyard.store import Database

KEY = b"test-audit-key-0123456789abcdef"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def _requests(n: int, *, tenant: str = "ten_a") -> list[AuditRecord]:
    common = {"kind": "request", "key_id": "key_1", "method": "POST", "route": "/v1/chat/completions"}
    return [
        AuditRecord(**common, tenant_id=tenant, model="m", status_code=200, prompt_tokens=i,
                    completion_tokens=2 * i, latency_ms=1.5 + i)
        for i in range(n)
    ]  # fmt: skip


def _filled(db: Database, n: int = 5) -> AuditLog:
    log = AuditLog(db, KEY)
    assert log.append(_requests(n)) == list(range(1, n + 1))
    return log


def test_an_untouched_log_verifies(db: Database) -> None:
    log = _filled(db)
    log.append([AuditRecord(kind="admin", action="create_tenant", detail={"tenant": "acme", "n": 1})])
    report = log.verify()
    assert report.ok and report.count == 6 and report.bad_seq is None


def test_an_empty_log_verifies(db: Database) -> None:
    report = AuditLog(db, KEY).verify()
    assert report.ok and report.count == 0


def test_first_entry_links_to_genesis(db: Database) -> None:
    _filled(db, 2)
    with db.engine.connect() as conn:
        first = conn.execute(text("select prev_hash, hash from audit_log where seq = 1")).one()
    assert first.prev_hash == "0" * 64 and len(first.hash) == 64


@pytest.mark.parametrize(
    "column, value",
    [
        ("status_code", 500),
        ("prompt_tokens", 999),
        ("model", "other"),
        ("latency_ms", 0.25),
        ("tenant_id", None),
    ],
)
def test_an_edited_field_names_its_entry(db: Database, column: str, value: object) -> None:
    log = _filled(db)
    with db.engine.begin() as conn:
        conn.execute(text(f"update audit_log set {column} = :v where seq = 3"), {"v": value})
    report = log.verify()
    assert not report.ok and report.bad_seq == 3 and "edited" in (report.reason or "")
    assert report.count == 2


def test_an_edited_detail_names_its_entry(db: Database) -> None:
    log = AuditLog(db, KEY)
    log.append([AuditRecord(kind="admin", action="allow_outbound_host", detail={"host": "a.example"})])
    with db.engine.begin() as conn:
        conn.execute(text("""update audit_log set detail = '{"host": "b.example"}' where seq = 1"""))
    assert log.verify().bad_seq == 1


def test_a_deleted_entry_is_named(db: Database) -> None:
    log = _filled(db)
    with db.engine.begin() as conn:
        conn.execute(text("delete from audit_log where seq = 3"))
    report = log.verify()
    assert not report.ok and report.bad_seq == 3 and "deleted" in (report.reason or "")


def test_deleting_the_first_entry_is_named(db: Database) -> None:
    log = _filled(db)
    with db.engine.begin() as conn:
        conn.execute(text("delete from audit_log where seq = 1"))
    assert log.verify().bad_seq == 1


def test_deleting_and_renumbering_is_caught(db: Database) -> None:
    log = _filled(db)
    with db.engine.begin() as conn:
        conn.execute(text("delete from audit_log where seq = 3"))
        for seq in (4, 5):
            conn.execute(
                text("update audit_log set seq = :new where seq = :old"), {"new": seq - 1, "old": seq}
            )
    report = log.verify()
    assert not report.ok and report.bad_seq == 3


def test_swapped_entries_are_named(db: Database) -> None:
    log = _filled(db)
    columns = [
        "created_at", "kind", "tenant_id", "key_id", "role", "method", "route", "model", "status_code",
        "prompt_tokens", "completion_tokens", "latency_ms", "action", "detail", "prev_hash", "hash",
    ]  # fmt: skip
    with db.engine.begin() as conn:
        rows = {r.seq: r._mapping for r in conn.execute(text("select * from audit_log where seq in (2, 4)"))}
        for seq, other in ((2, 4), (4, 2)):
            assignments = ", ".join(f"{c} = :{c}" for c in columns)
            values = {c: rows[other][c] for c in columns}
            conn.execute(text(f"update audit_log set {assignments} where seq = {seq}"), values)
    report = log.verify()
    assert not report.ok and report.bad_seq == 2 and "reordered" in (report.reason or "")


def test_parallel_appends_from_threads_and_two_databases_make_one_chain(db: Database) -> None:
    # Two Database objects are two engines with their own connections: as two processes
    # would be, they only agree through the database's lock.
    other = Database(db.url)
    logs = [AuditLog(db, KEY), AuditLog(other, KEY)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(5):
                logs[index % 2].append(_requests(3, tenant=f"ten_{index}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []
    report = AuditLog(db, KEY).verify()
    assert report.ok and report.count == 8 * 5 * 3


def test_list_filters_and_pages_newest_first(db: Database) -> None:
    log = AuditLog(db, KEY)
    log.append(_requests(3, tenant="ten_a") + _requests(2, tenant="ten_b"))
    assert [e.seq for e in log.list(AuditFilter(tenant_id="ten_a"))] == [3, 2, 1]
    first = log.list(AuditFilter(limit=2))
    assert [e.seq for e in first] == [5, 4]
    assert [e.seq for e in log.list(AuditFilter(limit=2, before=first[-1].seq))] == [3, 2]
