"""The router: least-outstanding balancing, fallback on retryable failures, bounded attempts."""

from __future__ import annotations

import asyncio

import pytest

from modelyard.deployments import Chain, Replica, Router, RouterPolicy, Target
from modelyard.errors import (
    BackendUnavailable,
    InvalidRequest,
    LoopDetected,
    ModelNotReady,
    NotFound,
    QuotaExceeded,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from tests.unit.deployments.fakes import HELLO, PARAMS, FakeBackend, collect, run, text, until


def deployment(name: str, *replica_names: str) -> tuple[Target, dict[str, FakeBackend]]:
    backends = {r: FakeBackend(r) for r in replica_names}
    return Target(name, [Replica(r, b) for r, b in backends.items()]), backends


def router_for(*targets: Target, name: str = "m", max_attempts: int = 3) -> Router:
    router = Router(RouterPolicy(max_attempts=max_attempts))
    router.add(Chain(name, targets))
    return router


# -- balancing -------------------------------------------------------------------
def test_idle_replicas_take_turns() -> None:
    target, backends = deployment("d", "a", "b")
    router = router_for(target)

    async def main() -> list[str]:
        return [(await router.chat("m", HELLO, PARAMS)).choices[0].text for _ in range(4)]

    assert run(main) == ["a", "b", "a", "b"]


def test_a_busy_replica_is_passed_over_for_the_idle_one() -> None:
    target, backends = deployment("d", "a", "b")
    router = router_for(target)
    busy = asyncio.Event()

    async def main() -> list[str]:
        backends["a"].gate = busy  # the first request goes to "a" and stays there
        slow = asyncio.create_task(router.chat("m", HELLO, PARAMS))
        await until(lambda: backends["a"].started == 1)
        answers = [(await router.chat("m", HELLO, PARAMS)).choices[0].text for _ in range(5)]
        busy.set()
        assert (await slow).choices[0].text == "a"
        return answers

    assert run(main) == ["b"] * 5
    assert (backends["a"].calls, backends["b"].calls) == (1, 5)


def test_outstanding_counts_follow_concurrent_requests() -> None:
    target, backends = deployment("d", "a", "b", "c")
    router = router_for(target)
    gate = asyncio.Event()

    async def main() -> None:
        for backend in backends.values():
            backend.gate = gate
        tasks = [asyncio.create_task(router.chat("m", HELLO, PARAMS)) for _ in range(7)]
        await until(lambda: sum(b.started for b in backends.values()) == 7)
        # Least outstanding spreads 7 concurrent requests 3/2/2, never 4 on one replica.
        assert sorted(s.outstanding for s in router.stats()) == [2, 2, 3]
        gate.set()
        await asyncio.gather(*tasks)
        assert [s.outstanding for s in router.stats()] == [0, 0, 0]

    run(main)


# -- fallback ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "error",
    [
        UpstreamError("the provider failed with status 500"),
        UpstreamTimeout("the provider did not answer within 5 s"),
        RateLimited("the provider is rate limiting requests"),
        BackendUnavailable("connection refused"),
        ModelNotReady("still loading"),
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_retryable_failure_falls_back_and_the_caller_sees_success(error: BaseException) -> None:
    target, backends = deployment("d", "a", "b")
    backends["a"].fail_next(error)
    router = router_for(target)
    answer = run(lambda: router.chat("m", HELLO, PARAMS))
    assert answer.choices[0].text == "b"
    a, b = router.stats()
    assert (a.failures, a.requests, b.failures, b.requests) == (1, 1, 0, 1)


@pytest.mark.parametrize(
    "error",
    [InvalidRequest("max_tokens too large"), QuotaExceeded("your quota"), NotFound("no such adapter")],
    ids=lambda e: type(e).__name__,
)
def test_the_callers_own_mistake_is_raised_at_once(error: BaseException) -> None:
    target, backends = deployment("d", "a", "b")
    backends["a"].fail_next(error)
    router = router_for(target)
    with pytest.raises(type(error)):
        run(lambda: router.chat("m", HELLO, PARAMS))
    assert backends["b"].calls == 0
    assert router.stats()[0].failures == 0  # the replica answered; it is healthy


def test_a_bug_and_a_loop_are_raised_at_once_but_count_against_the_replica() -> None:
    target, backends = deployment("d", "a")
    fallback, other = deployment("provider", "b")
    backends["a"].fail_next(LoopDetected("came back to us"), ValueError("bug"))
    router = router_for(target, fallback)
    with pytest.raises(LoopDetected):
        run(lambda: router.chat("m", HELLO, PARAMS))
    with pytest.raises(ValueError):
        run(lambda: router.chat("m", HELLO, PARAMS))
    assert other["b"].calls == 0
    assert router.stats()[0].failures == 2


def test_fallback_walks_the_chain_to_the_next_deployment_or_provider() -> None:
    primary, own = deployment("own", "own-1", "own-2")
    provider, remote = deployment("provider", "remote")
    for backend in own.values():
        backend.fail_next(UpstreamError("status 500"))
    router = router_for(primary, provider)
    assert run(lambda: router.complete("m", "hi", PARAMS)).choices[0].text == "remote"
    assert [b.calls for b in (*own.values(), *remote.values())] == [1, 1, 1]


def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    target, backends = deployment("d", *"abcde")
    for i, backend in enumerate(backends.values()):
        backend.fail_next(UpstreamError(f"failure {i}"))
    router = router_for(target, max_attempts=3)
    with pytest.raises(UpstreamError) as caught:
        run(lambda: router.chat("m", HELLO, PARAMS))
    tried = [i for i, b in enumerate(backends.values()) if b.calls]
    assert len(tried) == 3
    assert caught.value.message == f"failure {tried[-1]}"  # the last one seen


def test_one_request_never_tries_the_same_replica_twice() -> None:
    target, backends = deployment("d", "a")
    backends["a"].fail_next(UpstreamError("once"))
    router = router_for(target, max_attempts=5)
    with pytest.raises(UpstreamError, match="once"):
        run(lambda: router.chat("m", HELLO, PARAMS))
    assert backends["a"].calls == 1


def test_an_unknown_name_is_not_found_and_names_are_unique() -> None:
    target, _ = deployment("d", "a")
    router = router_for(target)
    with pytest.raises(NotFound):
        run(lambda: router.chat("other", HELLO, PARAMS))
    with pytest.raises(ValueError, match="already exists"):
        router.add(Chain("m", [target]))
    router.replace(Chain("m", [target]))  # an update swaps it


# -- streams ----------------------------------------------------------------------
def test_a_stream_that_failed_before_its_first_piece_falls_back() -> None:
    target, backends = deployment("d", "a", "b")
    backends["a"].fail_next(UpstreamError("status 503"))
    router = router_for(target)
    pieces = run(lambda: collect(router.stream_chat("m", HELLO, PARAMS)))
    assert text(pieces) == "b!"
    assert backends["a"].closed_streams == 1
    assert [(s.failures, s.outstanding) for s in router.stats()] == [(1, 0), (0, 0)]


def test_a_stream_that_failed_after_a_piece_does_not_fall_back() -> None:
    target, backends = deployment("d", "a", "b")
    backends["a"].fail_after = UpstreamError("connection dropped")
    router = router_for(target)
    received: list[str] = []

    async def main() -> None:
        async for piece in router.stream_complete("m", "hi", PARAMS):
            received.append(getattr(piece, "text", ""))

    with pytest.raises(UpstreamError, match="connection dropped"):
        run(main)
    assert received == ["a"]  # what the caller had stays; nothing from "b" is spliced on
    assert backends["b"].calls == 0
    assert router.stats()[0].failures == 1  # still counts against the replica


def test_a_stream_closed_by_its_caller_frees_the_replica_without_a_verdict() -> None:
    target, backends = deployment("d", "a")
    router = router_for(target)

    async def main() -> None:
        stream = router.stream_chat("m", HELLO, PARAMS)
        await anext(stream)
        assert router.stats()[0].outstanding == 1
        await stream.aclose()  # type: ignore[attr-defined]

    run(main)
    stats = router.stats()[0]
    assert (stats.outstanding, stats.failures, stats.consecutive_failures) == (0, 0, 0)
    assert backends["a"].closed_streams == 1


def test_a_cancelled_call_frees_its_slot() -> None:
    target, backends = deployment("d", "a")
    router = router_for(target)

    async def main() -> None:
        backends["a"].gate = asyncio.Event()
        task = asyncio.create_task(router.chat("m", HELLO, PARAMS))
        await until(lambda: backends["a"].started == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main)
    assert router.stats()[0].outstanding == 0
    assert router.stats()[0].failures == 0


# -- draining ---------------------------------------------------------------------
def test_a_draining_replica_takes_nothing_new_and_drains_when_its_requests_end() -> None:
    target, backends = deployment("d", "old", "new")
    router = router_for(target)
    old = target.replicas[0]

    async def main() -> None:
        backends["old"].gate = asyncio.Event()
        running = asyncio.create_task(router.chat("m", HELLO, PARAMS))
        await until(lambda: backends["old"].started == 1)
        drained = asyncio.create_task(old.drain())
        for _ in range(3):
            assert (await router.chat("m", HELLO, PARAMS)).choices[0].text == "new"
        assert not drained.done()
        backends["old"].gate.set()
        assert (await running).choices[0].text == "old"  # the request in flight finished
        await drained

    run(main)
