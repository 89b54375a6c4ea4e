"""One job's moves, the same for every kind: may it run, should it stop, fail, finish, hand back.

Every write goes through the legal moves of ``jobs.states``; a move someone else made
first (a user's cancel while the worker finishes) wins, and the worker's move is dropped.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

from modelyard.errors import ModelyardError
from modelyard.jobs.context import JobContext
from modelyard.jobs.states import TERMINAL, JobStatus, may_move
from modelyard.store.tables import utcnow

__all__ = ["MAX_ATTEMPTS", "Lifecycle", "StopReason", "safe_message"]

# A job that took its worker down this many times is failed rather than tried forever.
MAX_ATTEMPTS = 5


class StopReason(StrEnum):
    LOST = "lost"  # another worker holds the job now
    SHUTDOWN = "shutdown"  # this worker is stopping; the job goes back to the queue
    CANCELLED = "cancelled"  # the job ended meanwhile (cancelled, or failed elsewhere)
    PAUSED = "paused"  # the user paused it


def safe_message(exc: BaseException, fallback: str) -> str:
    """Our own errors are written for users; anything else may hold paths or internals."""
    return exc.message if isinstance(exc, ModelyardError) else fallback


class Lifecycle:
    def __init__(self, context: JobContext, *, poll_s: float = 0.5) -> None:
        self._context = context
        self._kind = context.kind
        self._poll_s = poll_s
        self._polled_at = float("-inf")
        self._last_status: str | None = None

    @property
    def job_id(self) -> str:
        return self._context.lease.job_id

    def status(self) -> str | None:
        with self._context.db.session() as session:
            row = session.get(self._kind.table, self.job_id)
            return row.status if row is not None else None

    def runnable(self) -> bool:
        """Whether the claimed job should run now; when not, its queue row is settled."""
        status = self.status()
        if status is None or status in TERMINAL:
            self._context.queue.finish(self.job_id)
            return False
        if status == JobStatus.PAUSED:
            self._context.queue.hold(self.job_id)
            return False
        if self._context.lease.attempt > MAX_ATTEMPTS:
            self.fail("worker_crashed", f"the worker stopped {MAX_ATTEMPTS} times on this job")
            return False
        return True

    def move(self, target: JobStatus, message: str, **fields: Any) -> bool:
        """Move the job if it still may (True also when it already is there); else False."""
        with self._context.db.session() as session:
            row = session.get(self._kind.table, self.job_id, with_for_update=True)
            if row is None:
                return False
            if row.status == target:
                return True
            if not may_move(row.status, target):
                return False  # e.g. cancelled meanwhile: the user's word wins
            row.status = target
            for name, value in fields.items():
                setattr(row, name, value)
            level = "error" if target == JobStatus.FAILED else "info"
            self._kind.add_event(session, self.job_id, message, level=level)
            return True

    def stop_reason(self) -> StopReason | None:
        """Why the job should stop now, if it should; the status is read at most every poll_s."""
        if self._context.lost.is_set():
            return StopReason.LOST
        if self._context.shutdown.is_set():
            return StopReason.SHUTDOWN
        now = time.monotonic()
        if now - self._polled_at >= self._poll_s:
            self._polled_at, self._last_status = now, self.status()
        if self._last_status is None or self._last_status in TERMINAL:
            return StopReason.CANCELLED
        return StopReason.PAUSED if self._last_status == JobStatus.PAUSED else None

    def finish(self, target: JobStatus, message: str, **fields: Any) -> None:
        """End the job (succeeded, failed or cancelled) and take it out of the queue."""
        self.move(target, message, finished_at=utcnow(), **fields)
        self._context.queue.finish(self.job_id)

    def fail(self, code: str, message: str) -> None:
        error = {"code": code, "message": message, "param": None}
        self.finish(JobStatus.FAILED, f"Job failed: {message}", error=error)

    def hand_back(self) -> None:
        """After stopping short of the end: settle the queue row by what the job is now."""
        if self._context.lost.is_set():
            return  # the queue row belongs to the worker that took the job over
        status = self.status()
        if status is None or status in TERMINAL:
            self._context.queue.finish(self.job_id)
        elif status == JobStatus.PAUSED:
            self._context.queue.hold(self.job_id)
        else:  # stopped for a shutdown, or resumed while it was pausing: run it again
            self._context.queue.requeue(self.job_id)
