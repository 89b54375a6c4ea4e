"""The circuit breaker: ejects after N consecutive failures, probes after the cooldown."""

from __future__ import annotations

import asyncio

import pytest

from modelyard.deployments import BreakerPolicy, BreakerState, Chain, CircuitBreaker, Replica, Router, Target
from modelyard.errors import BackendUnavailable, InvalidRequest, UpstreamError
from tests.unit.deployments.fakes import HELLO, PARAMS, FakeBackend, FakeClock, run, until

POLICY = BreakerPolicy(failure_threshold=3, cooldown_s=10.0)


def test_the_breaker_opens_after_n_consecutive_failures_only() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(POLICY, clock=clock)
    for _ in range(2):
        breaker.failed(probe=False)
    breaker.succeeded(probe=False)  # a success in between starts the count again
    for _ in range(2):
        breaker.failed(probe=False)
    assert breaker.state is BreakerState.CLOSED
    breaker.failed(probe=False)
    assert breaker.state is BreakerState.OPEN
    assert breaker.admit() is None
    assert breaker.retry_in() == 10.0


def test_after_the_cooldown_one_probe_goes_and_its_answer_decides() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(POLICY, clock=clock)
    for _ in range(3):
        breaker.failed(probe=False)
    clock.advance(9.9)
    assert breaker.admit() is None
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.admit() is True  # the probe
    assert breaker.admit() is None  # only one at a time
    breaker.failed(probe=True)
    assert breaker.state is BreakerState.OPEN  # re-opened, for a whole new cooldown
    clock.advance(10.0)
    assert breaker.admit() is True
    breaker.succeeded(probe=True)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.admit() is False and breaker.admit() is False  # open to all again
    assert breaker.times_opened == 2


def test_a_late_success_from_before_the_ejection_does_not_close_it() -> None:
    breaker = CircuitBreaker(POLICY, clock=FakeClock())
    for _ in range(3):
        breaker.failed(probe=False)
    breaker.succeeded(probe=False)
    assert breaker.state is BreakerState.OPEN


def test_a_probe_that_ended_without_a_verdict_lets_another_probe_go() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(POLICY, clock=clock)
    for _ in range(3):
        breaker.failed(probe=False)
    clock.advance(10.0)
    assert breaker.admit() is True
    breaker.released(probe=True)
    assert breaker.admit() is True


@pytest.mark.parametrize("policy", [{"failure_threshold": 0}, {"cooldown_s": -1}])
def test_a_bad_policy_is_refused(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(**policy)  # type: ignore[arg-type]


# -- through the router -----------------------------------------------------------
def setup(clock: FakeClock) -> tuple[Router, FakeBackend, FakeBackend]:
    sick, healthy = FakeBackend("sick"), FakeBackend("healthy")
    replicas = [Replica(b.name, b, policy=POLICY, clock=clock) for b in (sick, healthy)]
    router = Router()
    router.add(Chain("m", [Target("d", replicas)]))
    return router, sick, healthy


def test_an_ejected_replica_gets_no_traffic_until_its_probe_succeeds() -> None:
    clock = FakeClock()
    router, sick, healthy = setup(clock)

    async def main() -> None:
        sick.fail_next(*[UpstreamError("status 500")] * 4)
        for _ in range(6):  # every other request lands on "sick" first, then falls back
            assert (await router.chat("m", HELLO, PARAMS)).choices[0].text == "healthy"
        assert sick.calls == 3
        assert router.stats()[0].state is BreakerState.OPEN
        for _ in range(5):
            await router.chat("m", HELLO, PARAMS)
        assert sick.calls == 3  # ejected: nothing reaches it
        clock.advance(POLICY.cooldown_s)
        for _ in range(2):
            await router.chat("m", HELLO, PARAMS)
        assert sick.calls == 4  # one probe; it failed, so ejected again
        assert router.stats()[0].state is BreakerState.OPEN
        clock.advance(POLICY.cooldown_s)
        answers = {(await router.chat("m", HELLO, PARAMS)).choices[0].text for _ in range(4)}
        assert answers == {"sick", "healthy"}  # the probe succeeded: back in the rotation
        assert router.stats()[0].state is BreakerState.CLOSED

    run(main)


def test_while_the_probe_is_in_flight_the_others_go_elsewhere() -> None:
    clock = FakeClock()
    router, sick, healthy = setup(clock)

    async def main() -> None:
        sick.fail_next(*[UpstreamError("status 500")] * 3)
        for _ in range(6):
            await router.chat("m", HELLO, PARAMS)
        clock.advance(POLICY.cooldown_s)
        sick.gate = asyncio.Event()
        probe: asyncio.Task[object] | None = None
        for _ in range(2):  # ties rotate: within two requests one is the probe to "sick"
            task = asyncio.create_task(router.chat("m", HELLO, PARAMS))
            await until(lambda task=task: task.done() or sick.started == 4)  # type: ignore[misc]
            if not task.done():
                probe = task
                break
        assert probe is not None
        assert router.stats()[0].state is BreakerState.HALF_OPEN
        calls_before = sick.calls
        for _ in range(3):
            assert (await router.chat("m", HELLO, PARAMS)).choices[0].text == "healthy"
        assert sick.calls == calls_before
        sick.gate.set()
        assert (await probe).choices[0].text == "sick"  # type: ignore[attr-defined]
        assert router.stats()[0].state is BreakerState.CLOSED

    run(main)


def test_with_every_replica_ejected_the_caller_gets_a_503_with_retry_after() -> None:
    clock = FakeClock()
    backend = FakeBackend("only")
    router = Router()
    router.add(Chain("m", [Target("d", [Replica("only", backend, policy=POLICY, clock=clock)])]))
    backend.fail_next(*[UpstreamError("status 500")] * 3)

    async def main() -> BackendUnavailable:
        for _ in range(3):
            with pytest.raises(UpstreamError):
                await router.chat("m", HELLO, PARAMS)
        clock.advance(2.5)
        with pytest.raises(BackendUnavailable) as caught:
            await router.chat("m", HELLO, PARAMS)
        return caught.value

    error = run(main)
    assert error.headers == {"Retry-After": "8"}
    assert backend.calls == 3


def test_the_callers_mistakes_never_eject_a_replica() -> None:
    clock = FakeClock()
    router, sick, healthy = setup(clock)
    sick.fail_next(*[InvalidRequest("bad")] * 5)

    async def main() -> None:
        for _ in range(10):
            try:
                await router.chat("m", HELLO, PARAMS)
            except InvalidRequest:
                pass

    run(main)
    assert router.stats()[0].state is BreakerState.CLOSED


def test_a_cancelled_probe_lets_the_next_request_probe() -> None:
    clock = FakeClock()
    backend = FakeBackend("only")
    router = Router()
    router.add(Chain("m", [Target("d", [Replica("only", backend, policy=POLICY, clock=clock)])]))
    backend.fail_next(*[UpstreamError("status 500")] * 3)

    async def main() -> None:
        for _ in range(3):
            with pytest.raises(UpstreamError):
                await router.chat("m", HELLO, PARAMS)
        clock.advance(POLICY.cooldown_s)
        backend.gate = asyncio.Event()
        probe = asyncio.create_task(router.chat("m", HELLO, PARAMS))
        await until(lambda: backend.started == 4)
        probe.cancel()  # the caller went away: no verdict on the replica
        with pytest.raises(asyncio.CancelledError):
            await probe
        backend.gate.set()
        assert (await router.chat("m", HELLO, PARAMS)).choices[0].text == "only"
        assert router.stats()[0].state is BreakerState.CLOSED

    run(main)
