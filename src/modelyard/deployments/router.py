"""The router: one model name in, one replica's answer out, with fallback on failure.

For each request the route gives an ordered chain of targets; the router leases the
least-loaded available replica of the first target, and on a retryable failure (see
``faults``) the next untried replica, moving down the chain as targets run out, at most
``max_attempts`` times in all. A caller's own mistake is raised at once. A stream falls
back only while nothing has been yielded to the caller: after its first piece the
error propagates, and the caller ends the stream with an error event.

Pure asyncio: no web framework, no database. ``RoutedBackend`` makes one route look like
any other ``TextBackend`` to the code that calls models.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar

from modelyard.backends.base import Generation, GenerationParams, StreamChunk, TextBackend, Usage
from modelyard.deployments.faults import Fault, classify
from modelyard.deployments.groups import Route
from modelyard.deployments.replica import Lease, ReplicaStats, Target
from modelyard.errors import BackendUnavailable, NotFound
from modelyard.prompting import Message

__all__ = ["RoutedBackend", "Router", "RouterPolicy"]

T = TypeVar("T")
Piece = StreamChunk | Usage


@dataclass(frozen=True, slots=True)
class RouterPolicy:
    max_attempts: int = 3  # replicas tried for one request, across the whole chain

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


class _Attempts:
    """One request's walk down its chain: which replicas it tried, and what went wrong."""

    def __init__(self, route: Route, chain: Sequence[Target], max_attempts: int) -> None:
        self.route = route
        self.chain = chain
        self.left = max_attempts
        self.tried: set[int] = set()
        self.last_error: BaseException | None = None

    def next(self) -> Lease | None:
        if self.left <= 0:
            return None
        for target in self.chain:
            lease = target.lease(self.tried)
            if lease is not None:
                self.left -= 1
                self.tried.add(id(lease.replica))
                return lease
        return None

    def failed(self, lease: Lease, exc: Exception) -> bool:
        """Ends the lease for ``exc``; True when the request should try elsewhere."""
        fault = classify(exc)
        if fault is Fault.CALLER:
            lease.succeeded()  # the replica answered: the caller's request was wrong
            return False
        lease.failed(fault)
        self.last_error = exc
        return fault is Fault.RETRYABLE

    def exhausted(self) -> BaseException:
        if self.last_error is not None:
            return self.last_error
        waits = [w for t in self.chain if (w := t.retry_in()) is not None]
        headers = {"Retry-After": str(max(1, math.ceil(min(waits))))} if waits else None
        return BackendUnavailable(f"no replica of '{self.route.name}' is ready; retry", headers=headers)


class Router:
    """Routes by model name; each name has one route (a chain or a group)."""

    def __init__(self, policy: RouterPolicy | None = None) -> None:
        self.policy = policy or RouterPolicy()
        self._routes: dict[str, Route] = {}

    # -- routes ------------------------------------------------------------------
    def add(self, route: Route) -> None:
        if route.name in self._routes:
            raise ValueError(f"a route named '{route.name}' already exists")
        self._routes[route.name] = route

    def replace(self, route: Route) -> None:
        """Adds or swaps a route atomically (requests already running keep their chain)."""
        self._routes[route.name] = route

    def remove(self, name: str) -> Route:
        return self._routes.pop(name)

    def route(self, name: str) -> Route:
        try:
            return self._routes[name]
        except KeyError:
            raise NotFound(
                f"the model '{name}' does not exist", param="model", code="model_not_found"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._routes)

    def stats(self) -> list[ReplicaStats]:
        """Every replica reachable through any route, each once."""
        seen: set[int] = set()
        out: list[ReplicaStats] = []
        for route in self._routes.values():
            for target in route.targets():
                if id(target) not in seen:
                    seen.add(id(target))
                    out.extend(target.stats())
        return out

    def backend(self, name: str) -> RoutedBackend:
        self.route(name)  # a name that does not exist fails here, not on first use
        return RoutedBackend(self, name)

    # -- calls -------------------------------------------------------------------
    async def chat(self, name: str, messages: Sequence[Message], params: GenerationParams) -> Generation:
        return await self._call(name, lambda b: b.chat(messages, params))

    async def complete(self, name: str, prompt: str, params: GenerationParams) -> Generation:
        return await self._call(name, lambda b: b.complete(prompt, params))

    def stream_chat(
        self, name: str, messages: Sequence[Message], params: GenerationParams
    ) -> AsyncIterator[Piece]:
        return self._stream(name, lambda b: b.stream_chat(messages, params))

    def stream_complete(self, name: str, prompt: str, params: GenerationParams) -> AsyncIterator[Piece]:
        return self._stream(name, lambda b: b.stream_complete(prompt, params))

    def _attempts(self, name: str) -> _Attempts:
        route = self.route(name)
        return _Attempts(route, route.chain(), self.policy.max_attempts)

    async def _call(self, name: str, invoke: Callable[[TextBackend], Awaitable[T]]) -> T:
        attempts = self._attempts(name)
        while (lease := attempts.next()) is not None:
            try:
                result = await invoke(lease.replica.backend)
            except Exception as exc:
                if attempts.failed(lease, exc):
                    continue
                raise
            except BaseException:  # cancelled: no verdict on the replica
                lease.released()
                raise
            lease.succeeded()
            return result
        raise attempts.exhausted()

    async def _stream(
        self, name: str, open_stream: Callable[[TextBackend], AsyncIterator[Piece]]
    ) -> AsyncIterator[Piece]:
        attempts = self._attempts(name)
        while (lease := attempts.next()) is not None:
            yielded = False
            try:
                async with aclosing(_closable(open_stream(lease.replica.backend))) as stream:
                    async for piece in stream:
                        yielded = True
                        yield piece
            except Exception as exc:
                # Once the caller has a piece, another replica's answer cannot be spliced on.
                if attempts.failed(lease, exc) and not yielded:
                    continue
                raise
            except BaseException:  # the caller closed the stream or was cancelled
                lease.released()
                raise
            lease.succeeded()
            return
        raise attempts.exhausted()


async def _closable(stream: AsyncIterator[Piece]) -> AsyncIterator[Piece]:
    """Any async iterator as an async generator, so ``aclosing`` can end it early."""
    try:
        async for piece in stream:
            yield piece
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


class RoutedBackend:
    """One route as a ``TextBackend``: what the gateway and evaluations call."""

    def __init__(self, router: Router, name: str) -> None:
        self.router = router
        self.name = name

    async def chat(self, messages: Sequence[Message], params: GenerationParams) -> Generation:
        return await self.router.chat(self.name, messages, params)

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        return await self.router.complete(self.name, prompt, params)

    def stream_chat(self, messages: Sequence[Message], params: GenerationParams) -> AsyncIterator[Piece]:
        return self.router.stream_chat(self.name, messages, params)

    def stream_complete(self, prompt: str, params: GenerationParams) -> AsyncIterator[Piece]:
        return self.router.stream_complete(self.name, prompt, params)

    async def close(self) -> None:
        """Nothing to close: the replicas' backends belong to their deployments."""
