"""A job queue in the database, with leases so a crashed worker's job is taken up again.

A worker claims a job by moving it to ``running`` with a lease (owner + expiry) in one
conditional UPDATE; only one claimant's UPDATE matches. The worker renews the lease while
it works. If it dies (``kill -9``), the lease runs out and the next claim takes the job
again; the job's own logic resumes from its last checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from modelyard.store import Database
from modelyard.store.tables import QueuedJob, utcnow

__all__ = ["JobQueue", "Lease"]

QUEUED, RUNNING, HELD, DONE = "queued", "running", "held", "done"


@dataclass(frozen=True, slots=True)
class Lease:
    job_id: str
    kind: str
    tenant_id: str
    owner: str
    attempt: int


class JobQueue:
    def __init__(self, db: Database, *, lease_s: float = 30.0) -> None:
        self._db = db
        self._lease = timedelta(seconds=lease_s)

    def enqueue(self, job_id: str, *, kind: str, tenant_id: str, session: Session | None = None) -> None:
        """Queue a job, or put a held one back in line.

        Pass the ``session`` that inserts the job's own row: both commit together, so a
        crash between "create" and "enqueue" cannot leave a job that never runs.
        """
        if session is None:
            with self._db.session() as own:
                self.enqueue(job_id, kind=kind, tenant_id=tenant_id, session=own)
            return
        row = session.get(QueuedJob, job_id)
        if row is None:
            session.add(QueuedJob(id=job_id, kind=kind, tenant_id=tenant_id, state=QUEUED))
        elif row.state == HELD:
            row.state, row.lease_owner, row.lease_expires_at = QUEUED, None, None

    def requeue(self, job_id: str) -> None:
        """Hand a job back to the queue in one step (a worker stopping, a paused job resumed)."""
        self._set_state(job_id, QUEUED)

    def hold(self, job_id: str) -> None:
        """Take a job out of the queue without finishing it (paused)."""
        self._set_state(job_id, HELD)

    def finish(self, job_id: str) -> None:
        self._set_state(job_id, DONE)

    def claim(self, owner: str, kinds: tuple[str, ...]) -> Lease | None:
        """Take the oldest claimable job, or None. Safe against concurrent claimants."""
        now = utcnow()
        claimable = or_(
            QueuedJob.state == QUEUED,
            and_(QueuedJob.state == RUNNING, QueuedJob.lease_expires_at < now),
        )
        while True:
            with self._db.session() as session:
                candidates = session.scalars(
                    select(QueuedJob.id)
                    .where(claimable, QueuedJob.kind.in_(kinds))
                    .order_by(QueuedJob.created_at)
                    .limit(5)
                ).all()
            if not candidates:
                return None
            for job_id in candidates:
                lease = self._try_claim(job_id, owner, claimable, now)
                if lease is not None:
                    return lease
            # Every candidate went to another worker meanwhile: look again.

    def _try_claim(self, job_id: str, owner: str, claimable: object, now: object) -> Lease | None:
        with self._db.session() as session:
            result = session.execute(
                update(QueuedJob)
                .where(QueuedJob.id == job_id, claimable)
                .values(
                    state=RUNNING,
                    lease_owner=owner,
                    lease_expires_at=utcnow() + self._lease,
                    attempts=QueuedJob.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            row = session.get(QueuedJob, job_id)
            return Lease(job_id, row.kind, row.tenant_id, owner, row.attempts)

    def renew(self, lease: Lease) -> bool:
        """Extend the lease; False if it was lost (taken over, finished or held)."""
        with self._db.session() as session:
            result = session.execute(
                update(QueuedJob)
                .where(
                    QueuedJob.id == lease.job_id,
                    QueuedJob.lease_owner == lease.owner,
                    QueuedJob.state == RUNNING,
                )
                .values(lease_expires_at=utcnow() + self._lease)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def state(self, job_id: str) -> str | None:
        with self._db.session() as session:
            row = session.get(QueuedJob, job_id)
            return row.state if row else None

    def _set_state(self, job_id: str, state: str) -> None:
        with self._db.session() as session:
            row = session.get(QueuedJob, job_id)
            if row is not None:
                row.state, row.lease_owner, row.lease_expires_at = state, None, None
