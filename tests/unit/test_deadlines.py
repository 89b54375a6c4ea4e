"""The tests' one time scale: read from MODELYARD_TEST_TIME_SCALE, applied to waits and to
pytest-timeout's limit, and a wait that runs out says what it waited for."""

from __future__ import annotations

import time

import pytest

from tests.helpers import deadlines
from tests.helpers.deadlines import (
    SCALE_ENV,
    WaitTimedOut,
    deadline,
    milliseconds,
    scaled,
    time_scale,
    wait_until,
)


@pytest.mark.parametrize(
    ("environ", "scale"),
    [
        ({}, 1.0),
        ({SCALE_ENV: "4"}, 4.0),
        ({SCALE_ENV: " 2.5 "}, 2.5),
        ({"CI": "true"}, deadlines.CI_SCALE),
        ({"CI": "false"}, 1.0),
        ({"CI": "true", SCALE_ENV: "1"}, 1.0),  # the setting wins over CI's default
    ],
)
def test_the_scale_is_read_from_the_setting(environ: dict[str, str], scale: float) -> None:
    assert time_scale(environ) == scale


@pytest.mark.parametrize("raw", ["fast", "0", "-1", "nan", "inf"])
def test_a_bad_scale_is_refused_naming_the_setting(raw: str) -> None:
    with pytest.raises(ValueError, match=SCALE_ENV):
        time_scale({SCALE_ENV: raw})


def test_waits_are_multiplied_by_the_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCALE_ENV, "4")
    assert scaled(2.5) == 10.0
    assert milliseconds(20) == 80_000
    before = time.monotonic()
    assert before + 40 <= deadline(10) <= time.monotonic() + 40


def test_wait_until_returns_what_the_predicate_found() -> None:
    polls = iter([None, 0, "ready"])
    assert wait_until(lambda: next(polls), 5, what="the third poll", interval=0.001) == "ready"


def test_wait_until_raises_at_the_deadline_saying_what_it_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCALE_ENV, "2")
    polls: list[float] = []
    started = time.monotonic()
    with pytest.raises(WaitTimedOut) as caught:
        wait_until(lambda: polls.append(time.monotonic()), 0.1, what="the job", last=lambda: "running")
    took = time.monotonic() - started
    message = str(caught.value)
    assert "the job" in message and "0.2 s" in message and f"{SCALE_ENV}=2" in message
    assert "last seen: 'running'" in message
    assert isinstance(caught.value, AssertionError)  # a failed test, not an error in it
    assert took >= 0.2 and polls[-1] - started >= 0.2  # it polled once more at the deadline


def test_the_per_test_timeout_is_scaled(request: pytest.FixtureRequest) -> None:
    from pytest_timeout import get_env_settings

    marker = request.node.get_closest_marker("timeout")
    assert marker is not None and marker.kwargs["timeout"] == scaled(get_env_settings(request.config).timeout)


@pytest.mark.timeout(7, "thread")
def test_a_timeout_marker_is_scaled_and_keeps_its_method(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None and marker.kwargs == {"timeout": scaled(7), "method": "thread"}
