"""Train / validation / test splits: reproducible from a seed alone, ratios checked."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from modelyard.datasets import split
from modelyard.errors import InvalidRequest

ITEMS = list(range(100))


def test_same_seed_same_split_and_another_seed_another() -> None:
    first = split(ITEMS, train=0.8, validation=0.1, test=0.1, seed=3)
    assert split(ITEMS, train=0.8, validation=0.1, test=0.1, seed=3) == first
    assert split(ITEMS, train=0.8, validation=0.1, test=0.1, seed=4) != first


def test_split_is_pinned_for_a_seed() -> None:
    # Pinned so that a change of algorithm, or of Python, cannot silently reshuffle datasets.
    result = split(list(range(10)), train=0.8, validation=0.1, test=0.1, seed=0)
    assert (result.train, result.validation, result.test) == ([0, 2, 3, 4, 6, 7, 8, 9], [5], [1])


def test_split_does_not_depend_on_pythons_hash_seed() -> None:
    code = (
        "import json; from modelyard.datasets import split; "
        "s = split([str(i) for i in range(50)], train=0.6, validation=0.2, test=0.2, seed=11); "
        "print(json.dumps([s.train, s.validation, s.test]))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2", "random")
    }
    assert len(outputs) == 1 and len(json.loads(outputs.pop())[0]) == 30


def test_parts_partition_the_examples_and_keep_their_order() -> None:
    result = split(ITEMS, train=0.7, validation=0.2, test=0.1, seed=0)
    assert [len(p) for p in (result.train, result.validation, result.test)] == [70, 20, 10]
    assert sorted(result.train + result.validation + result.test) == ITEMS
    assert all(part == sorted(part) for part in (result.train, result.validation, result.test))


@pytest.mark.parametrize(
    ("n", "ratios", "sizes"),
    [
        (10, (0.8, 0.1, 0.1), [8, 1, 1]),
        (3, (0.8, 0.1, 0.1), [1, 1, 1]),  # each part asked for gets one, even if rounding said 0
        (2, (0.5, 0.5, 0.0), [1, 1, 0]),
        (7, (1.0, 0.0, 0.0), [7, 0, 0]),
        (11, (1 / 3, 1 / 3, 1 / 3), [4, 4, 3]),
        (5, (0.9, 0.0, 0.1), [4, 0, 1]),
    ],
)
def test_sizes(n: int, ratios: tuple[float, float, float], sizes: list[int]) -> None:
    train, validation, test = ratios
    result = split(list(range(n)), train=train, validation=validation, test=test, seed=1)
    assert [len(p) for p in (result.train, result.validation, result.test)] == sizes
    assert [name for name, _ in result.parts()] == [
        name for name, size in zip(("train", "validation", "test"), sizes, strict=True) if size
    ]


@pytest.mark.parametrize(
    ("ratios", "param"),
    [
        ((0.5, 0.1, 0.1), "train"),  # sums to 0.7
        ((0.8, 0.3, -0.1), "test"),
        ((math.nan, 0.5, 0.5), "train"),
        ((0.5, math.inf, 0.5), "validation"),
    ],
)
def test_bad_ratios_are_refused(ratios: tuple[float, float, float], param: str) -> None:
    train, validation, test = ratios
    with pytest.raises(InvalidRequest) as caught:
        split(ITEMS, train=train, validation=validation, test=test, seed=0)
    assert caught.value.param == param


def test_too_few_examples_for_the_parts_asked_for() -> None:
    with pytest.raises(InvalidRequest, match="cannot fill 3"):
        split([1, 2], train=0.8, validation=0.1, test=0.1, seed=0)
