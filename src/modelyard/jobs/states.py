"""The one status machine of every job kind (fine-tuning, evaluation, and kinds to come).

::

    validating_files ─► queued ─► running ─► succeeded
           │              │   ▲      │  └──► failed
           │              ▼   │      ▼
           └──────────► paused ◄─────┘      (any non-terminal) ─► cancelled | failed

A kind uses the part it needs: an evaluation starts ``queued`` and is never paused.
"""

from __future__ import annotations

from enum import StrEnum

from modelyard.errors import Conflict

__all__ = ["ACTIVE", "TERMINAL", "JobStatus", "check_transition", "may_move"]


class JobStatus(StrEnum):
    VALIDATING_FILES = "validating_files"
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
# Holds one of the caller's job slots (quotas): a paused job gives its slot back.
ACTIVE = frozenset({JobStatus.VALIDATING_FILES, JobStatus.QUEUED, JobStatus.RUNNING})
_ENDINGS = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})
_ALLOWED: dict[str, frozenset[JobStatus]] = {
    JobStatus.VALIDATING_FILES: frozenset({JobStatus.QUEUED, JobStatus.PAUSED}) | _ENDINGS,
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.PAUSED}) | _ENDINGS,
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.PAUSED}) | _ENDINGS,
    JobStatus.PAUSED: frozenset({JobStatus.QUEUED}) | _ENDINGS,
}


def may_move(current: str, target: str) -> bool:
    return target in _ALLOWED.get(current, frozenset())


def check_transition(current: str, target: str) -> None:
    """Raise ``Conflict`` (409, ``invalid_transition``) unless ``current -> target`` is legal."""
    if not may_move(current, target):
        raise Conflict(
            f"a job that is {current} cannot become {target}", param="status", code="invalid_transition"
        )
