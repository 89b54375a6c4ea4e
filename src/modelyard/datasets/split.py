"""Split examples into train / validation / test, the same way every time for a seed.

The order comes from sha256 of ``"<seed>:<index>"``, not from ``random`` or ``hash``:
it is fixed by the seed alone, whatever the Python version or its hash seed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from modelyard.errors import InvalidRequest

__all__ = ["PART_NAMES", "Split", "split"]

T = TypeVar("T")
PART_NAMES = ("train", "validation", "test")
_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class Split(Generic[T]):
    train: list[T]
    validation: list[T]
    test: list[T]

    def parts(self) -> list[tuple[str, list[T]]]:
        """The non-empty parts, named, in train / validation / test order."""
        named = zip(PART_NAMES, (self.train, self.validation, self.test), strict=True)
        return [(name, part) for name, part in named if part]


def split(examples: Sequence[T], *, train: float, validation: float, test: float, seed: int) -> Split[T]:
    """Partition ``examples``; every part with a ratio above 0 gets at least one example.

    Each part keeps the examples' original order; which examples go where is decided
    by the seed.
    """
    ratios = (train, validation, test)
    _check_ratios(ratios)
    counts = _counts(len(examples), ratios)
    order = sorted(range(len(examples)), key=lambda i: _rank(seed, i))
    bounds = [0, counts[0], counts[0] + counts[1], len(examples)]
    parts = [sorted(order[bounds[k] : bounds[k + 1]]) for k in range(3)]
    return Split(*([examples[i] for i in part] for part in parts))


def _rank(seed: int, index: int) -> bytes:
    return hashlib.sha256(f"{seed}:{index}".encode()).digest()


def _check_ratios(ratios: tuple[float, float, float]) -> None:
    for name, ratio in zip(PART_NAMES, ratios, strict=True):
        if not math.isfinite(ratio) or ratio < 0:
            raise InvalidRequest(f"'{name}' must be a number of at least 0", param=name)
    total = sum(ratios)
    if abs(total - 1) > _TOLERANCE:
        raise InvalidRequest(
            f"train, validation and test must add up to 1 (they add up to {total:g})", param="train"
        )


def _counts(n: int, ratios: tuple[float, float, float]) -> list[int]:
    """Largest-remainder rounding, then one example moved to each empty wanted part."""
    wanted = [k for k, ratio in enumerate(ratios) if ratio > 0]
    if n < len(wanted):
        raise InvalidRequest(
            f"{n} example(s) cannot fill {len(wanted)} non-empty parts", param="file", code="too_few_examples"
        )
    exact = [ratio * n for ratio in ratios]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(3), key=lambda k: (counts[k] - exact[k], k))
    for k in by_remainder[: n - sum(counts)]:
        counts[k] += 1
    for k in wanted:
        if counts[k] == 0:
            counts[max(range(3), key=lambda j: counts[j])] -= 1
            counts[k] = 1
    return counts
