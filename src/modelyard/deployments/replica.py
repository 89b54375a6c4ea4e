"""Replicas (one backend each, with its load and its breaker) and targets (a set of them).

A target is what a fallback chain or a group names: a deployment's replicas, or a remote
provider (usually one replica). Within a target a request goes to the ready replica with
the fewest requests outstanding; ties rotate, so equal replicas share the load evenly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from modelyard.backends.base import TextBackend
from modelyard.deployments.breaker import BreakerPolicy, BreakerState, CircuitBreaker, Clock
from modelyard.deployments.faults import Fault

__all__ = ["Lease", "Replica", "ReplicaStats", "Target"]


@dataclass(frozen=True, slots=True)
class ReplicaStats:
    """What metrics and tests see of one replica at one moment."""

    id: str
    target: str
    state: BreakerState
    ready: bool
    outstanding: int
    requests: int
    failures: int
    consecutive_failures: int
    times_ejected: int


class Replica:
    """One backend serving a target, with its outstanding requests and circuit breaker."""

    def __init__(
        self,
        id: str,
        backend: TextBackend,
        *,
        breaker: CircuitBreaker | None = None,
        policy: BreakerPolicy | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.id = id
        self.backend = backend
        self.breaker = breaker or CircuitBreaker(policy, clock=clock)
        # False while loading or draining: the replica gets no new requests.
        self.ready = True
        self.outstanding = 0
        self.requests = 0
        self.failures = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def state(self) -> BreakerState:
        return self.breaker.state

    def available(self) -> bool:
        return self.ready and self.breaker.available()

    def lease(self) -> Lease | None:
        """Takes one request slot, or None when the replica takes no requests now."""
        if not self.ready:
            return None
        probe = self.breaker.admit()
        if probe is None:
            return None
        self.outstanding += 1
        self.requests += 1
        self._idle.clear()
        return Lease(self, probe)

    async def drain(self) -> None:
        """Stops new requests and waits until those in flight have ended (for a roll)."""
        self.ready = False
        await self._idle.wait()

    def stats(self, target: str = "") -> ReplicaStats:
        return ReplicaStats(
            id=self.id,
            target=target,
            state=self.state,
            ready=self.ready,
            outstanding=self.outstanding,
            requests=self.requests,
            failures=self.failures,
            consecutive_failures=self.breaker.consecutive_failures,
            times_ejected=self.breaker.times_opened,
        )

    def _finish(self, probe: bool, fault: Fault | None, *, verdict: bool) -> None:
        self.outstanding -= 1
        if self.outstanding == 0:
            self._idle.set()
        if not verdict:
            self.breaker.released(probe=probe)
        elif fault in (Fault.RETRYABLE, Fault.FATAL):
            self.failures += 1
            self.breaker.failed(probe=probe)
        else:  # answered, or refused the caller's own mistake: healthy either way
            self.breaker.succeeded(probe=probe)

    def __repr__(self) -> str:
        return f"Replica({self.id!r}, {self.state}, outstanding={self.outstanding})"


class Lease:
    """One request's hold on a replica; ended exactly once, whatever happens."""

    __slots__ = ("_ended", "probe", "replica")

    def __init__(self, replica: Replica, probe: bool) -> None:
        self.replica = replica
        self.probe = probe
        self._ended = False

    def succeeded(self) -> None:
        self._end(None, verdict=True)

    def failed(self, fault: Fault) -> None:
        self._end(fault, verdict=True)

    def released(self) -> None:
        """Ended with no verdict on the replica: the caller went away."""
        self._end(None, verdict=False)

    def _end(self, fault: Fault | None, *, verdict: bool) -> None:
        if not self._ended:
            self._ended = True
            self.replica._finish(self.probe, fault, verdict=verdict)


class Target:
    """A named set of replicas that serve the same model the same way."""

    def __init__(self, name: str, replicas: Iterable[Replica] = ()) -> None:
        self.name = name
        self._replicas: list[Replica] = list(replicas)
        self._turn = 0

    @property
    def replicas(self) -> Sequence[Replica]:
        return tuple(self._replicas)

    def add(self, replica: Replica) -> None:
        if any(r.id == replica.id for r in self._replicas):
            raise ValueError(f"target '{self.name}' already has a replica '{replica.id}'")
        self._replicas.append(replica)

    def remove(self, replica_id: str) -> Replica:
        for i, replica in enumerate(self._replicas):
            if replica.id == replica_id:
                return self._replicas.pop(i)
        raise KeyError(replica_id)

    def lease(self, exclude: frozenset[int] | set[int] = frozenset()) -> Lease | None:
        """Leases the least-loaded available replica not in ``exclude`` (ids of objects)."""
        candidates = [r for r in self._replicas if id(r) not in exclude and r.available()]
        if not candidates:
            return None
        least = min(r.outstanding for r in candidates)
        tied = [r for r in candidates if r.outstanding == least]
        chosen = tied[self._turn % len(tied)]
        self._turn += 1
        return chosen.lease()

    def retry_in(self) -> float | None:
        """Seconds until some ejected replica may take a probe; None if none is ejected."""
        waits = [
            r.breaker.retry_in() for r in self._replicas if r.ready and r.state is not BreakerState.CLOSED
        ]
        return min(waits) if waits else None

    def stats(self) -> list[ReplicaStats]:
        return [r.stats(self.name) for r in self._replicas]

    def __repr__(self) -> str:
        return f"Target({self.name!r}, {self._replicas!r})"
