"""The router over real OpenAI-compatible providers (loopback mocks): fallback and the breaker."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from modelyard.backends import BackendContext, ModelSpec, create_backend
from modelyard.backends.openai_compatible import OpenAICompatibleBackend
from modelyard.deployments import BreakerPolicy, BreakerState, Chain, Replica, Router, Target
from modelyard.errors import UpstreamError
from modelyard.security import OutboundGuard
from tests.helpers.deadlines import scaled
from tests.helpers.mock_upstream import MockUpstream
from tests.unit.deployments.fakes import HELLO, PARAMS, FakeClock, collect, text

T = TypeVar("T")

# The mocks listen on loopback: allowed here as an admin would allow-list them.
CONTEXT = BackendContext(
    models_dir=Path("unused"),
    upstream_timeout_s=scaled(5.0),
    upstream_connect_timeout_s=scaled(2.0),
    outbound=OutboundGuard(lambda scheme, host, port: host == "127.0.0.1"),
)
POLICY = BreakerPolicy(failure_threshold=2, cooldown_s=30.0)


@pytest.fixture(scope="module")
def providers() -> Iterator[tuple[MockUpstream, MockUpstream]]:
    with MockUpstream() as first, MockUpstream() as second:
        yield first, second


@pytest.fixture(autouse=True)
def healthy(providers: tuple[MockUpstream, MockUpstream]) -> None:
    for provider in providers:
        provider.reset()


def provider_backend(base_url: str) -> OpenAICompatibleBackend:
    spec = ModelSpec(
        id="remote",
        backend="openai-compatible",
        task="chat",
        source={"base_url": base_url, "upstream_model": "name-at-provider"},
        secret="sk-provider",
    )
    backend = create_backend(spec, CONTEXT)
    assert isinstance(backend, OpenAICompatibleBackend)
    return backend


def drive(base_urls: list[str], clock: FakeClock, work: Callable[[Router], Awaitable[T]]) -> T:
    """A router over one target per provider, in order; runs ``work`` then closes them."""

    async def main() -> T:
        backends = [provider_backend(url) for url in base_urls]
        targets = [
            Target(f"provider-{i}", [Replica(f"p{i}", b, policy=POLICY, clock=clock)])
            for i, b in enumerate(backends)
        ]
        router = Router()
        router.add(Chain("m", targets))
        try:
            return await asyncio.wait_for(work(router), scaled(20.0))
        finally:
            for backend in backends:
                await backend.close()

    return asyncio.run(main())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_provider_answering_500_falls_back_to_the_second(
    providers: tuple[MockUpstream, MockUpstream],
) -> None:
    first, second = providers
    first.fail_status = 500

    async def work(router: Router) -> tuple[str, str]:
        whole = await router.chat("m", HELLO, PARAMS)
        streamed = await collect(router.stream_chat("m", HELLO, PARAMS))
        return whole.choices[0].text, text(streamed)

    assert drive([first.base_url, second.base_url], FakeClock(), work) == (
        "You said: hello",
        "You said: hello",
    )
    assert (len(first.requests), len(second.requests)) == (2, 2)


def test_a_refused_connection_falls_back(providers: tuple[MockUpstream, MockUpstream]) -> None:
    _, second = providers
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    answer = drive([dead, second.base_url], FakeClock(), lambda r: r.chat("m", HELLO, PARAMS))
    assert answer.choices[0].text == "You said: hello"


def test_a_provider_400_is_the_callers_and_does_not_fall_back(
    providers: tuple[MockUpstream, MockUpstream],
) -> None:
    first, second = providers
    first.fail_status = 400
    with pytest.raises(Exception) as caught:
        drive([first.base_url, second.base_url], FakeClock(), lambda r: r.chat("m", HELLO, PARAMS))
    assert getattr(caught.value, "status_code", None) == 400
    assert second.requests == []


def test_the_failing_providers_circuit_opens_and_closes(providers: tuple[MockUpstream, MockUpstream]) -> None:
    first, second = providers
    clock = FakeClock()
    first.fail_status = 500

    async def work(router: Router) -> None:
        for _ in range(2):
            await router.chat("m", HELLO, PARAMS)
        assert router.stats()[0].state is BreakerState.OPEN
        for _ in range(3):
            await router.chat("m", HELLO, PARAMS)
        assert len(first.requests) == 2  # ejected: the second provider takes it all
        first.fail_status = None  # the provider recovers
        clock.advance(POLICY.cooldown_s)
        await router.chat("m", HELLO, PARAMS)  # the probe
        assert len(first.requests) == 3
        assert router.stats()[0].state is BreakerState.CLOSED
        second_before = len(second.requests)
        await router.chat("m", HELLO, PARAMS)
        assert (len(first.requests), len(second.requests)) == (4, second_before)

    drive([first.base_url, second.base_url], clock, work)


def test_when_every_provider_fails_the_last_error_reaches_the_caller(
    providers: tuple[MockUpstream, MockUpstream],
) -> None:
    first, second = providers
    first.fail_status = 500
    second.fail_status = 503
    with pytest.raises(UpstreamError, match="status 503"):
        drive([first.base_url, second.base_url], FakeClock(), lambda r: r.chat("m", HELLO, PARAMS))
