"""The job queue on SQLite and PostgreSQL: one claimant per job, leases, crash takeover."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from modelyard.jobs import JobQueue
from modelyard.store import Database


@pytest.fixture
def queue(database_url: str) -> JobQueue:
    db = Database(database_url)
    db.migrate()
    return JobQueue(db, lease_s=0.5)


def test_each_job_is_claimed_by_exactly_one_worker(queue: JobQueue) -> None:
    for i in range(6):
        queue.enqueue(f"job-{i}", kind="k", tenant_id="t")
    with ThreadPoolExecutor(max_workers=8) as pool:
        leases = list(pool.map(lambda n: queue.claim(f"worker-{n}", ("k",)), range(8)))
    claimed = [lease.job_id for lease in leases if lease is not None]
    assert sorted(claimed) == [f"job-{i}" for i in range(6)]


def test_only_known_kinds_are_claimed(queue: JobQueue) -> None:
    queue.enqueue("a", kind="other", tenant_id="t")
    assert queue.claim("w", ("k",)) is None


def test_expired_lease_is_taken_over_and_old_owner_loses_it(queue: JobQueue) -> None:
    queue.enqueue("job", kind="k", tenant_id="t")
    first = queue.claim("crashed-worker", ("k",))
    assert first is not None and first.attempt == 1
    assert queue.claim("other", ("k",)) is None  # lease still valid
    time.sleep(0.7)
    second = queue.claim("new-worker", ("k",))
    assert second is not None and second.attempt == 2
    assert not queue.renew(first)
    assert queue.renew(second)


def test_renewed_lease_is_not_taken_over(queue: JobQueue) -> None:
    queue.enqueue("job", kind="k", tenant_id="t")
    lease = queue.claim("w", ("k",))
    for _ in range(3):
        time.sleep(0.3)
        assert queue.renew(lease)
    assert queue.claim("thief", ("k",)) is None


def test_held_jobs_wait_until_enqueued_again(queue: JobQueue) -> None:
    queue.enqueue("job", kind="k", tenant_id="t")
    queue.hold("job")
    assert queue.claim("w", ("k",)) is None
    queue.enqueue("job", kind="k", tenant_id="t")
    assert queue.claim("w", ("k",)).job_id == "job"
    queue.finish("job")
    assert queue.state("job") == "done"
    queue.enqueue("job", kind="k", tenant_id="t")  # finished jobs are not revived
    assert queue.claim("w", ("k",)) is None
