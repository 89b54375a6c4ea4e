"""Headless Debian Chromium through Playwright, for the browser tests.

Browser downloads do not work offline, so Playwright drives the system's
``/usr/bin/chromium``. Where a piece is missing the test skips, except in CI, where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.helpers.deadlines import milliseconds

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "launch_chromium"]

CHROMIUM = "/usr/bin/chromium"  # Debian's package: browser downloads do not work offline
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def launch_chromium() -> Iterator[Any]:
    missing = [] if os.access(CHROMIUM, os.X_OK) else [f"{CHROMIUM} (apt-get install -y chromium)"]
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's own defaults (30 s to launch, 5 s per expect) are waits like any other.
    expect.set_options(timeout=milliseconds(5))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=milliseconds(30)
        )
        try:
            yield chromium
        finally:
            chromium.close()
