"""The fine-tuning job's status machine: only legal moves, terminal states final.

::

    validating_files ─► queued ─► running ─► succeeded
           │              │   ▲      │  └──► failed
           │              ▼   │      ▼
           └──────────► paused ◄─────┘      (any non-terminal) ─► cancelled | failed
"""

from __future__ import annotations

from modelyard.errors import Conflict

__all__ = ["ACTIVE", "TERMINAL", "check_transition"]

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
ACTIVE = frozenset({"validating_files", "queued", "running"})
_ALLOWED: dict[str, frozenset[str]] = {
    "validating_files": frozenset({"queued", "paused", "failed", "cancelled"}),
    "queued": frozenset({"running", "paused", "failed", "cancelled"}),
    "running": frozenset({"succeeded", "paused", "failed", "cancelled"}),
    "paused": frozenset({"queued", "failed", "cancelled"}),
}


def check_transition(current: str, target: str) -> None:
    if target not in _ALLOWED.get(current, frozenset()):
        raise Conflict(
            f"a job that is {current} cannot become {target}", param="status", code="invalid_transition"
        )
