"""Both limiters against one contract: atomic admission, sliding windows, reconciliation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from modelyard.quotas import Check, InProcessLimiter, Limiter
from modelyard.quotas.redis_limiter import RedisLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


Scenario = Callable[[Limiter, Clock], Awaitable[None]]


@pytest.fixture(params=["memory", "redis"])
def run(request: pytest.FixtureRequest) -> Callable[[Scenario], None]:
    """Runs a scenario on a fresh limiter of the given kind, driven by a fake clock."""

    def runner(scenario: Scenario) -> None:
        clock = Clock()

        async def main() -> None:
            if request.param == "memory":
                limiter: Limiter = InProcessLimiter(clock)
            else:
                prefix = request.getfixturevalue("redis_prefix")
                limiter = RedisLimiter(request.getfixturevalue("redis_url"), prefix=prefix, clock=clock)
            try:
                await scenario(limiter, clock)
            finally:
                await limiter.close()

        asyncio.run(main())

    return runner


def rpm(limit: int, bucket: str = "rpm:tenant:t1") -> Check:
    return Check(bucket, 1, limit, 60)


def test_fifty_racing_calls_against_ten_admit_exactly_ten(run: Callable[[Scenario], None]) -> None:
    async def scenario(limiter: Limiter, _clock: Clock) -> None:
        results = await asyncio.gather(*(limiter.acquire(f"e{i}", [rpm(10)]) for i in range(50)))
        assert sum(r is None for r in results) == 10
        refusals = [r for r in results if r is not None]
        assert all(r.retry_after_s is not None and 0 < r.retry_after_s <= 60 for r in refusals)
        assert await limiter.used(["rpm:tenant:t1"]) == [10]

    run(scenario)


def test_two_redis_limiters_share_one_limit(redis_url: str, redis_prefix: str) -> None:
    """Two gateway processes: two clients, two connection pools, one Redis."""

    async def main() -> None:
        first = RedisLimiter(redis_url, prefix=redis_prefix)
        second = RedisLimiter(redis_url, prefix=redis_prefix)
        try:
            calls = [(first if i % 2 else second).acquire(f"e{i}", [rpm(10)]) for i in range(50)]
            results = await asyncio.gather(*calls)
            assert sum(r is None for r in results) == 10
            assert await second.used(["rpm:tenant:t1"]) == [10]
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())


def test_a_refusal_takes_nothing_from_the_other_buckets(run: Callable[[Scenario], None]) -> None:
    async def scenario(limiter: Limiter, _clock: Clock) -> None:
        tokens = Check("tpm:tenant:t1", 500, 100, 60)
        refusal = await limiter.acquire("e1", [rpm(10), tokens])
        assert refusal is not None and refusal.check.bucket == "tpm:tenant:t1"
        assert refusal.retry_after_s is None  # nothing in flight would ever make room
        assert await limiter.used(["rpm:tenant:t1", "tpm:tenant:t1"]) == [0, 0]

    run(scenario)


def test_the_window_slides_and_retry_after_names_when_room_frees(run: Callable[[Scenario], None]) -> None:
    async def scenario(limiter: Limiter, clock: Clock) -> None:
        assert await limiter.acquire("a", [rpm(2)]) is None
        clock.now += 30
        assert await limiter.acquire("b", [rpm(2)]) is None
        clock.now += 15
        refusal = await limiter.acquire("c", [rpm(2)])
        assert refusal is not None and refusal.retry_after_s == pytest.approx(15)
        clock.now += 15.5  # "a" is 60.5 s old: one slot again, not two
        assert await limiter.acquire("d", [rpm(2)]) is None
        assert await limiter.acquire("e", [rpm(2)]) is not None

    run(scenario)


def test_a_reservation_is_cut_to_what_was_used(run: Callable[[Scenario], None]) -> None:
    async def scenario(limiter: Limiter, _clock: Clock) -> None:
        def tokens(amount: int) -> Check:
            return Check("tpm:key:k1", amount, 100, 60)

        assert await limiter.acquire("big", [tokens(80)]) is None
        assert await limiter.acquire("next", [tokens(30)]) is not None
        limiter.adjust("big", "tpm:key:k1", 10)
        await limiter.drain()
        assert await limiter.acquire("next", [tokens(30)]) is None
        assert await limiter.used(["tpm:key:k1"]) == [40]
        limiter.adjust("next", "tpm:key:k1", 0)  # a failed call: its reservation goes
        await limiter.drain()
        assert await limiter.used(["tpm:key:k1"]) == [10]

    run(scenario)


def test_a_floor_counts_spend_recorded_elsewhere(run: Callable[[Scenario], None]) -> None:
    async def scenario(limiter: Limiter, clock: Clock) -> None:
        spend = Check("spend:tenant:t1", 0.4, 1.0, 900, floor=0.5)
        assert await limiter.acquire("a", [spend]) is None
        refusal = await limiter.acquire("b", [spend])
        assert refusal is not None and refusal.retry_after_s == pytest.approx(900)
        limiter.adjust("a", "spend:tenant:t1", 0.1, ttl_s=10)  # settled cheaper, lingers 10 s
        await limiter.drain()
        assert await limiter.acquire("b", [spend]) is None
        clock.now += 11
        assert await limiter.used(["spend:tenant:t1"]) == [pytest.approx(0.4)]

    run(scenario)
