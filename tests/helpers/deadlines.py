"""Every wait in the tests is a deadline scaled by one setting, ``MODELYARD_TEST_TIME_SCALE``.

A wait bounds how long a test may take to *see* something (a server up, a job done, a page
drawn); it is never what a test asserts. On a loaded machine everything is slower, so every
such bound is multiplied by the scale: the suite then passes there too, only slower.

The scale is read from ``MODELYARD_TEST_TIME_SCALE`` (a positive number). Unset, it is 1, or
3 when ``CI`` is set: CI runners are shared virtual machines with noisy neighbours, and a
wait that runs out there is a red build and a rerun of the whole suite, while a longer
deadline costs time only when something really hangs.

A sleep that *causes* something (spacing events, letting a lease expire, a slow upstream)
is not a wait and is not scaled; neither is a timeout whose firing a test asserts.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = [
    "CI_SCALE",
    "SCALE_ENV",
    "WaitTimedOut",
    "deadline",
    "milliseconds",
    "scaled",
    "time_scale",
    "wait_until",
]

SCALE_ENV = "MODELYARD_TEST_TIME_SCALE"
CI_SCALE = 3.0
_FALSE = {"", "0", "false", "no", "off"}

T = TypeVar("T")


class WaitTimedOut(AssertionError):
    """A wait reached its deadline: pytest reports it as a failure, naming what was awaited."""


def time_scale(environ: Mapping[str, str] | None = None) -> float:
    """The factor every wait is multiplied by (see the module's docstring)."""
    env = os.environ if environ is None else environ
    raw = env.get(SCALE_ENV, "").strip()
    if not raw:
        return CI_SCALE if env.get("CI", "").strip().lower() not in _FALSE else 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{SCALE_ENV}={raw!r} is not a number (for example 1, 2.5 or 4)") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{SCALE_ENV}={raw!r} must be a positive, finite number")
    return value


def scaled(seconds: float) -> float:
    """``seconds`` on this machine: a wait's nominal length times the scale."""
    return seconds * time_scale()


def milliseconds(seconds: float) -> int:
    """A scaled wait in whole milliseconds, as Playwright's ``timeout=`` takes it."""
    return math.ceil(scaled(seconds) * 1000)


def deadline(seconds: float) -> float:
    """The ``time.monotonic()`` value at which a wait of nominal ``seconds`` gives up."""
    return time.monotonic() + scaled(seconds)


def wait_until(
    predicate: Callable[[], T],
    seconds: float,
    *,
    what: str,
    interval: float = 0.05,
    last: Callable[[], object] | None = None,
) -> T:
    """Polls ``predicate`` until it returns something truthy, and returns that.

    At the deadline (``seconds`` times the scale) raises :class:`WaitTimedOut`, naming
    ``what`` was awaited, the nominal and scaled wait, the setting that scales it, and
    ``last()`` when given (the state seen last, to tell a slow machine from a hang).
    The predicate runs once more after the deadline, so a slow poll cannot lose a result
    that arrived during it.
    """
    nominal, limit = seconds, scaled(seconds)
    ends = time.monotonic() + limit
    while True:
        past = time.monotonic() >= ends
        result = predicate()
        if result:
            return result
        if past:
            break
        time.sleep(min(interval, max(0.0, ends - time.monotonic())))
    detail = f"; last seen: {last()!r}" if last is not None else ""
    raise WaitTimedOut(
        f"gave up waiting for {what} after {limit:g} s "
        f"({nominal:g} s x {SCALE_ENV}={time_scale():g}; raise it on a loaded machine){detail}"
    )
