"""Groups: weighted splits (A/B, canary) with a seeded RNG, spilling over on failure."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from modelyard.deployments import Group, Member, Replica, Router, Target
from modelyard.errors import UpstreamError
from tests.unit.deployments.fakes import HELLO, PARAMS, FakeBackend, run


def target(name: str) -> tuple[Target, FakeBackend]:
    backend = FakeBackend(name)
    return Target(name, [Replica(name, backend)]), backend


def test_a_weighted_split_of_1000_picks_stays_within_bounds() -> None:
    stable, _ = target("stable")
    canary, _ = target("canary")
    group = Group("m", [Member(stable, 90), Member(canary, 10)], rng=random.Random(13))
    counts = Counter(group.pick().target.name for _ in range(1000))
    # Binomial(1000, 0.1): mean 100, sd 9.5; a uniform or inverted split lands far outside.
    assert 60 <= counts["canary"] <= 140
    assert counts["stable"] + counts["canary"] == 1000


def test_the_split_holds_through_the_router() -> None:
    a, backend_a = target("a")
    b, backend_b = target("b")
    router = Router()
    router.add(Group("m", [Member(a, 3), Member(b, 1)], rng=random.Random(7)))

    async def main() -> None:
        for _ in range(400):
            await router.chat("m", HELLO, PARAMS)

    run(main)
    assert 240 <= backend_a.calls <= 360
    assert backend_a.calls + backend_b.calls == 400


def test_a_zero_weight_member_is_never_picked_but_still_backs_up() -> None:
    live, _ = target("live")
    standby, _ = target("standby")
    group = Group("m", [Member(standby, 0), Member(live, 1)], rng=random.Random(1))
    assert {group.pick().target.name for _ in range(200)} == {"live"}
    assert [t.name for t in group.chain()] == ["live", "standby"]


def test_a_failing_canary_spills_over_to_the_stable_deployment() -> None:
    stable, stable_backend = target("stable")
    canary, canary_backend = target("canary")
    canary_backend.fail_next(UpstreamError("status 500"))
    router = Router()
    # Weight all on the canary so the first pick is certain.
    router.add(Group("m", [Member(stable, 0), Member(canary, 1)], rng=random.Random(0)))
    assert run(lambda: router.chat("m", HELLO, PARAMS)).choices[0].text == "stable"
    assert canary_backend.calls == 1


def test_without_spill_an_arm_falls_back_only_to_the_fallbacks() -> None:
    arm_a, backend_a = target("a")
    arm_b, backend_b = target("b")
    provider, _ = target("provider")
    backend_a.fail_next(UpstreamError("status 500"))
    router = Router()
    group = Group("m", [Member(arm_a, 1), Member(arm_b, 0)], fallbacks=[provider], spill=False)
    router.add(group)
    assert run(lambda: router.chat("m", HELLO, PARAMS)).choices[0].text == "provider"
    assert backend_b.calls == 0
    assert [t.name for t in group.targets()] == ["a", "b", "provider"]


def test_one_plus_n_own_model_first_then_commercial_providers() -> None:
    own, own_backend = target("own-ft")
    first, first_backend = target("provider-1")
    second, _ = target("provider-2")
    own_backend.fail_next(UpstreamError("status 502"))
    first_backend.fail_next(UpstreamError("status 500"))
    router = Router()
    router.add(Group("m", [Member(own, 1)], fallbacks=[first, second]))
    assert run(lambda: router.chat("m", HELLO, PARAMS)).choices[0].text == "provider-2"
    names = [s.target for s in router.stats()]
    assert names == ["own-ft", "provider-1", "provider-2"]


@pytest.mark.parametrize("weights", [[], [-1, 2], [0, 0]])
def test_bad_weights_are_refused(weights: list[float]) -> None:
    members = [Member(target(f"t{i}")[0], w) for i, w in enumerate(weights)]
    with pytest.raises(ValueError):
        Group("m", members)
