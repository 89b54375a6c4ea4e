"""Routes: what one model name callers use resolves to, as an ordered fallback chain.

- :class:`Chain`: fixed targets in order (a deployment, then the deployments or providers
  it falls back to).
- :class:`Group`: weighted members (an A/B test, a canary at 5 %) picked per request by
  an injected RNG, followed by fallbacks. The "1+N" strategy (one model of one's own plus
  N commercial ones) is a group whose member is one's own deployment and whose fallbacks
  are the providers, or a split across all of them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from modelyard.deployments.replica import Target

__all__ = ["Chain", "Group", "Member", "Route"]


@runtime_checkable
class Route(Protocol):
    name: str

    def chain(self) -> Sequence[Target]:
        """The targets to try for one request, in order (may differ per request)."""
        ...

    def targets(self) -> Sequence[Target]:
        """Every target the route may send to, each once (for metrics and health)."""
        ...


class Chain:
    """One name, fixed targets tried in order."""

    def __init__(self, name: str, targets: Iterable[Target]) -> None:
        self.name = name
        self._targets = tuple(targets)
        if not self._targets:
            raise ValueError(f"route '{name}' needs at least one target")

    def chain(self) -> Sequence[Target]:
        return self._targets

    def targets(self) -> Sequence[Target]:
        return _unique(self._targets)


@dataclass(frozen=True, slots=True)
class Member:
    target: Target
    weight: float


class Group:
    """One name split across weighted members; the others and ``fallbacks`` back it up.

    With ``spill`` (the default) a request whose member fails moves on to the other
    members, heaviest first, before the fallbacks: a failing canary falls back to the
    stable deployment. Without it, an A/B arm stays apart from the other arms.
    """

    def __init__(
        self,
        name: str,
        members: Iterable[Member],
        *,
        fallbacks: Iterable[Target] = (),
        spill: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.members = tuple(members)
        self.fallbacks = tuple(fallbacks)
        self.spill = spill
        self._rng = rng or random.Random()
        if not self.members:
            raise ValueError(f"group '{name}' needs at least one member")
        if any(m.weight < 0 for m in self.members):
            raise ValueError(f"group '{name}': weights must not be negative")
        self._total = sum(m.weight for m in self.members)
        if self._total <= 0:
            raise ValueError(f"group '{name}': the weights must add up to more than 0")

    def pick(self) -> Member:
        """One member, with probability proportional to its weight."""
        point = self._rng.random() * self._total
        for member in self.members:
            point -= member.weight
            if point < 0 and member.weight > 0:
                return member
        return next(m for m in reversed(self.members) if m.weight > 0)  # float rounding at the top

    def chain(self) -> Sequence[Target]:
        chosen = self.pick()
        rest: list[Target] = []
        if self.spill:
            others = [m for m in self.members if m is not chosen]
            rest = [m.target for m in sorted(others, key=lambda m: -m.weight)]
        return _unique([chosen.target, *rest, *self.fallbacks])

    def targets(self) -> Sequence[Target]:
        return _unique([*(m.target for m in self.members), *self.fallbacks])


def _unique(targets: Iterable[Target]) -> tuple[Target, ...]:
    seen: set[int] = set()
    kept = []
    for target in targets:
        if id(target) not in seen:
            seen.add(id(target))
            kept.append(target)
    return tuple(kept)
