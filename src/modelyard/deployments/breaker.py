"""A per-replica circuit breaker: eject after consecutive failures, probe to re-admit.

::

    closed ──N consecutive failures──▶ open ──cooldown passed──▶ half-open
      ▲                                 ▲                           │
      └───────── the probe succeeds ────┼───── the probe fails ─────┘

While half-open exactly one request (the probe) is let through; the others keep going
elsewhere until it has answered. Time comes from an injected clock, so tests move it
by hand instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BreakerPolicy", "BreakerState", "CircuitBreaker", "Clock"]

Clock = Callable[[], float]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 3  # consecutive failures that eject a replica
    cooldown_s: float = 10.0  # how long an ejected replica rests before one probe

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if self.cooldown_s < 0:
            raise ValueError("cooldown_s must not be negative")


class CircuitBreaker:
    """Counts one replica's consecutive failures and decides whether it takes requests."""

    def __init__(self, policy: BreakerPolicy | None = None, *, clock: Clock = time.monotonic) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._opened_at: float | None = None  # None: closed
        self._probe_in_flight = False
        self.consecutive_failures = 0
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probe_in_flight or self.retry_in() <= 0:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def retry_in(self) -> float:
        """Seconds until the next request may be let through (0 when one may go now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.policy.cooldown_s - self._clock())

    def available(self) -> bool:
        """Whether a request would be admitted now (no side effect)."""
        state = self.state
        return state is BreakerState.CLOSED or (state is BreakerState.HALF_OPEN and not self._probe_in_flight)

    def admit(self) -> bool | None:
        """Lets one request through: None when refused, else whether it is the probe."""
        if not self.available():
            return None
        if self._opened_at is None:
            return False
        self._probe_in_flight = True
        return True

    def succeeded(self, *, probe: bool) -> None:
        self.consecutive_failures = 0
        if probe or self._opened_at is None:
            # Only the probe closes an open breaker: a request admitted before the breaker
            # opened says nothing about the replica's health since.
            self._close()

    def failed(self, *, probe: bool) -> None:
        self.consecutive_failures += 1
        if probe:
            self._open()
        elif self._opened_at is None and self.consecutive_failures >= self.policy.failure_threshold:
            self._open()

    def released(self, *, probe: bool) -> None:
        """A request that ended without a verdict (cancelled by its caller)."""
        if probe:
            self._probe_in_flight = False

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._probe_in_flight = False
        self.times_opened += 1

    def _close(self) -> None:
        self._opened_at = None
        self._probe_in_flight = False
