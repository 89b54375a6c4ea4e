"""The rate limiter: one interface, implementations in a registry (in-process, Redis).

Window semantics: a **sliding log**. Every admitted call adds an *entry* (an id, an
amount and an expiry time) to each bucket it is checked against; a bucket's usage is the
sum of its live entries. A per-minute limit gives each entry a 60-second life, so the
limit holds over *any* 60-second span (no burst of 2N at a fixed window's edge), and
``Retry-After`` is exactly when enough old entries expire to make room.

``acquire`` checks several buckets and adds the entry to all of them in one atomic step,
or to none: a call refused by its tokens limit has used none of its requests limit.
``adjust`` later corrects an entry (a token reservation to the tokens really used).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from modelyard.config import Settings

__all__ = [
    "Check",
    "InProcessLimiter",
    "Limiter",
    "Refusal",
    "build_limiter",
    "register_limiter",
]


@dataclass(frozen=True, slots=True)
class Check:
    """Admit ``amount`` into ``bucket`` if ``floor`` + live entries + ``amount`` <= ``limit``.

    ``floor`` is usage counted outside the limiter (a period's spend already in the store).
    """

    bucket: str
    amount: float
    limit: float
    ttl_s: float
    floor: float = 0.0


@dataclass(frozen=True, slots=True)
class Refusal:
    check: Check
    # Seconds until expiring entries make room; None when expiry alone never will.
    retry_after_s: float | None


class Limiter(Protocol):
    async def acquire(self, entry: str, checks: Sequence[Check]) -> Refusal | None: ...

    def adjust(self, entry: str, bucket: str, amount: float, ttl_s: float | None = None) -> None:
        """Set the entry's amount (0 removes it) and, with ``ttl_s``, its expiry from now.

        Never blocks: it runs on failure paths, where the request may be being cancelled.
        """

    async def used(self, buckets: Sequence[str]) -> list[float]: ...

    async def drain(self) -> None:
        """Wait until every ``adjust`` so far has taken effect."""

    async def close(self) -> None: ...


# Amounts are floats (spend); a rounding crumb must not refuse a call that fits exactly.
_EPSILON = 1e-9
LimiterFactory = Callable[[Settings], Limiter]
_REGISTRY: dict[str, LimiterFactory] = {}


def register_limiter(name: str) -> Callable[[LimiterFactory], LimiterFactory]:
    def add(factory: LimiterFactory) -> LimiterFactory:
        if name in _REGISTRY:
            raise ValueError(f"limiter '{name}' is registered already")
        _REGISTRY[name] = factory
        return factory

    return add


def build_limiter(settings: Settings) -> Limiter:
    name = settings.resolved_rate_limiter
    if name not in _REGISTRY:
        raise ValueError(f"unknown rate limiter '{name}'; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](settings)


def retry_after(entries: Sequence[tuple[float, float]], excess: float, now: float) -> float | None:
    """When enough of ``entries`` ((expires at, amount), any order) expire to free ``excess``."""
    freed = 0.0
    for expires, amount in sorted(entries):
        freed += amount
        if freed >= excess:
            return max(expires - now, 0.0)
    return None


class _Bucket:
    """Live entries with a running total; a heap finds the expired ones without a scan."""

    __slots__ = ("entries", "heap", "total")

    def __init__(self) -> None:
        self.entries: dict[str, tuple[float, float]] = {}  # id -> (expires at, amount)
        self.heap: list[tuple[float, str]] = []
        self.total = 0.0

    def prune(self, now: float) -> None:
        while self.heap and self.heap[0][0] <= now:
            expires, key = heapq.heappop(self.heap)
            current = self.entries.get(key)
            if current is not None and current[0] == expires:  # else: a stale heap item
                self.remove(key)

    def put(self, key: str, expires: float, amount: float) -> None:
        self.remove(key)
        self.entries[key] = (expires, amount)
        self.total += amount
        heapq.heappush(self.heap, (expires, key))

    def remove(self, key: str) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.total = self.total - old[1] if self.entries else 0.0


class InProcessLimiter:
    """Buckets in this process's memory. Safe across coroutines and threads (one lock,
    never held across an await); limits are per process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    async def acquire(self, entry: str, checks: Sequence[Check]) -> Refusal | None:
        with self._lock:
            now = self._clock()
            for check in checks:
                bucket = self._live(check.bucket, now)
                excess = check.floor + bucket.total + check.amount - check.limit
                if excess > _EPSILON:
                    return Refusal(check, retry_after(list(bucket.entries.values()), excess, now))
            for check in checks:
                self._live(check.bucket, now).put(entry, now + check.ttl_s, check.amount)
        return None

    def adjust(self, entry: str, bucket: str, amount: float, ttl_s: float | None = None) -> None:
        with self._lock:
            live = self._buckets.get(bucket)
            if live is None or entry not in live.entries:
                return
            if amount <= 0:
                live.remove(entry)
                return
            expires = live.entries[entry][0] if ttl_s is None else self._clock() + ttl_s
            live.put(entry, expires, amount)

    async def used(self, buckets: Sequence[str]) -> list[float]:
        with self._lock:
            now = self._clock()
            return [self._live(bucket, now).total for bucket in buckets]

    async def drain(self) -> None:
        return None  # adjustments take effect at once

    async def close(self) -> None:
        with self._lock:
            self._buckets.clear()

    def _live(self, name: str, now: float) -> _Bucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket()
        bucket.prune(now)
        return bucket


register_limiter("memory")(lambda _settings: InProcessLimiter())
