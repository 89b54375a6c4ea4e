"""Headless Debian Chromium through Playwright, for the browser tests.

Browser downloads do not work offline, so Playwright drives the system's
``/usr/bin/chromium``. Where a piece is missing the test skips, except in CI, where it fails.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.helpers.deadlines import milliseconds

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "cjk_text", "launch_chromium", "off_screen", "rendered_fonts"]

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


# The outermost visible elements that reach past the window's right edge (or start left of
# it), unless a horizontally scrolling or clipping box holds them: what a phone user would
# have to scroll the whole page sideways to read. Elements wholly left of the window (a skip
# link parked at left: -999px until it is focused) are hidden on purpose and not counted.
_OFF_SCREEN = """
() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  // Held by a box that scrolls or clips sideways, itself inside the window. An absolutely
  // positioned element escapes every such box up to its containing block (the nearest
  // positioned ancestor); a fixed one escapes them all.
  // A clipping box inside the window holds what it clips; one past the edge holds it only if
  // a box further out holds that box in turn (a bar clipped by its track, in a scrolling table).
  const within = (box) => box.getBoundingClientRect().right <= width + 1 || held(box);
  const held = (el) => {
    let position = getComputedStyle(el).position;
    if (position === "fixed") return false;
    let escaping = position === "absolute";
    for (let p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (!escaping && style.overflowX !== "visible") return within(p);
      if (style.position !== "static") {
        if (style.position === "fixed") return false;
        escaping = style.position === "absolute";
        if (!escaping && style.overflowX !== "visible") return within(p);
      }
    }
    return false;
  };
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    const classes = typeof el.className === "string" ? el.className.trim() : "";
    if (classes) s += "." + classes.split(/\\s+/).join(".");
    const id = el.closest("[data-testid]");
    if (id) s += ` in [data-testid=${id.dataset.testid}]`;
    return s;
  };
  const reported = new Set();
  for (const el of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= 0) continue;
    if (r.right <= width + 1 && r.left >= -1) continue;
    if (held(el)) continue;
    let parent = el.parentElement;
    while (parent && !reported.has(parent)) parent = parent.parentElement;
    reported.add(el);
    if (parent) continue;  // its outermost offending ancestor is listed already
    const text = (el.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    found.push(`${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px of ${width} "${text}"`);
  }
  return found;
}
"""


def off_screen(page: Any) -> list[str]:
    """What sticks out of the window sideways: the document's width when it is wider than the
    window, then each outermost element past an edge (not inside a scrolling box), described
    by tag, classes, nearest ``data-testid``, position and text."""
    width, scroll = page.evaluate(
        "[document.documentElement.clientWidth, document.documentElement.scrollWidth]"
    )
    found = [f"document is {scroll} px wide in a {width} px window"] if scroll > width else []
    return found + list(page.evaluate(_OFF_SCREEN))


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def cjk_text(text: str) -> bool:
    """Whether ``text`` holds a Chinese character."""
    return bool(_CJK.search(text))


def rendered_fonts(page: Any, selector: str) -> list[str]:
    """The fonts Chromium drew the text of the first ``selector`` element with (DevTools'
    ``CSS.getPlatformFontsForNode``): a character no installed font holds shows as a box,
    drawn with the first font of the list, so a script's own font missing is seen here."""
    session = page.context.new_cdp_session(page)
    try:
        session.send("DOM.enable")
        session.send("CSS.enable")
        root = session.send("DOM.getDocument")["root"]["nodeId"]
        node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return [font["familyName"] for font in fonts if font.get("glyphCount")]
    finally:
        session.detach()
