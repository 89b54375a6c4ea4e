"""Every page of the console in both languages and both windows: the final check of issue 12's
items 11 (Chinese and English) and 13 (phones).

For each language (en, zh-CN), window (1440x900, 390x844) and key (a platform admin, a tenant
admin), every route of ``console/src/app.jsx`` is opened (with real ids where a route takes one)
and checked: no message key missing from the catalogs, ``<html lang>`` right, in Chinese the
page's title and the navigation in Chinese characters and no English sentence left, every date
with its time zone, and nothing sticking out of the window sideways. A failure lists each
page, language, window and what is wrong there, so one run says everything left to fix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.conftest import (
    LOCALES,
    NARROW,
    VIEWPORTS,
    WIDE,
    Console,
    Opener,
    goto,
    heading,
    missing_messages,
    shoot,
)
from tests.helpers.browser import cjk_text, off_screen, rendered_fonts
from tests.helpers.deadlines import milliseconds, wait_until

# Every route of console/src/app.jsx ("{file}", "{job}", "{evaluation}": ids made below),
# and one it does not have. A route a key may not open still draws a page: it is checked too.
ROUTES = (
    "/plaza",
    "/playground",
    "/datasets",
    "/datasets/{file}",
    "/fine-tuning",
    "/fine-tuning/new",
    "/fine-tuning/{job}",
    "/evaluations",
    "/evaluations/new",
    "/evaluations/{evaluation}",
    "/usage",
    "/provider-usage",
    "/keys",
    "/activity",
    "/admin/overview",
    "/admin/tenants",
    "/admin/providers",
    "/admin/audit",
    "/no-such-page",
)
ROWS = [
    {
        "messages": [
            {"role": "user", "content": f"item {i}"},
            {"role": "assistant", "content": f"label {i % 3}"},
        ]
    }
    for i in range(8)
]

# The keys each page is opened with.
WHO = {"admin": lambda c: c.server.admin_key, "tenant admin": lambda c: c.acme_admin_key}
# A moment with a year and a time of day ("Dec 2, 2026, 10:31 UTC", "2026年12月2日 UTC 10:31"):
# its time zone comes between the two (Chinese) or after the time (English).
MOMENT = re.compile(
    r"(?<!\d)(?:19|20)\d\d(?!\d)([^\n]{0,20}?)(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?"
)
ZONE_NAME = r"(?:UTC|GMT(?:[+-]\d{1,2}(?::?\d{2})?)?|(?<![A-Za-z])[A-Z]{2,5}(?![A-Za-z])|[+-]\d{2}:?\d{2})"
ZONE_AFTER = re.compile(rf"^\s*{ZONE_NAME}")
ZONE_WITHIN = re.compile(ZONE_NAME)
# A word of Latin letters: a title without Chinese and with one is English.
LATIN = re.compile(r"[A-Za-z]{2,}")
# Names that stay as they are in Chinese text: units, formats, acronyms, sampling settings
# (top p), identifiers (metric names such as exact_match).
TERMS = re.compile(
    r"\b(?:API|(?i:tokens?)|Top[ -]?[pk]|[a-z0-9]+(?:_[a-z0-9]+)+|"
    r"JSONL?|LoRA|HTML|CSV|URL|ID|CPU|GPU|UTC|HTTP|OpenAI|BLEU|ROUGE-L|F1|p50|p95|"
    r"bf16|float32|fp16|int8|ms|KB|MB|GB|modelyard|USD|US)\b"
)
# The page's own labels: titles, column heads, buttons, field labels. In Chinese each holds a
# Chinese character unless it is only data and terms.
LABELS = "main h1, main h2, main h3, main th, main button, main label, main legend, main summary"
# Three words or more of Latin letters in a row: a sentence, where Chinese was expected.
SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){2,}")

# The text nodes of the page's main area that are not code, data fields or charts' ids.
TEXTS = """
() => {
  const main = document.querySelector("main") || document.body;
  const skip = "code, pre, textarea, input, select, script, style, svg, [translate=no], .sr-only";
  const out = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest(skip)) continue;
    if (!el.getClientRects().length) continue;
    out.push(text);
  }
  return out;
}
"""


@dataclass
class Made:
    """Objects of acme's the routes with an id open."""

    file: str
    job: str
    evaluation: str
    # What the pages show of the catalog's own data (model descriptions), not the console's
    # words: never counted as English left over.
    data: frozenset[str]


def _post(console: Console, key: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = console.api("POST", path, key, **kwargs)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _make(console: Console, key: str) -> Made:
    data = "".join(json.dumps(row) + "\n" for row in ROWS).encode()
    upload = {"file": ("everywhere.jsonl", data)}
    file_id = _post(console, key, "/v1/files", files=upload, data={"purpose": "fine-tune"})["id"]
    body = {"model": console.model, "training_file": file_id, "suffix": "everywhere"}
    job_id = _post(console, key, "/v1/fine_tuning/jobs", json=body)["id"]
    console.api("POST", f"/v1/fine_tuning/jobs/{job_id}/cancel", key)
    evals = _post(console, key, "/v1/files", files=upload, data={"purpose": "evals"})["id"]
    evaluation = {
        "file": evals,
        "models": [console.model],
        "metrics": [{"name": "exact_match"}],
        "generation": {"max_tokens": 4},
    }
    evaluation_id = _post(console, key, "/v1/evaluations", json=evaluation)["id"]

    def finished() -> bool:  # the report page (recommendations, charts) is what is checked
        status = console.api("GET", f"/v1/evaluations/{evaluation_id}", key).json()["status"]
        return status in ("succeeded", "failed", "cancelled")

    wait_until(finished, 120, what=f"evaluation {evaluation_id} to end", interval=0.5)
    models = console.api("GET", "/v1/models", key).json()["data"]
    data = {m["id"] for m in models} | {m["card"]["description"] for m in models}
    data |= {file_id, job_id, evaluation_id, "everywhere.jsonl", "everywhere"}
    return Made(file_id, job_id, evaluation_id, frozenset(d for d in data if d))


@pytest.fixture(scope="module")
def made(console: Console) -> dict[str, Made]:
    """A dataset, a (cancelled) job and an evaluation of each key's own tenant."""
    return {who: _make(console, key(console)) for who, key in WHO.items()}


def _without(text: str, data: frozenset[str]) -> str:
    """``text`` less the tests' own data in it (longest first: an id holds shorter names)."""
    for datum in sorted(data, key=len, reverse=True):
        text = text.replace(datum, " ")
    return text


def _problems(page: Any, locale: str, seen_missing: set[str], data: frozenset[str]) -> list[str]:
    """What is wrong with the page shown now (each a short sentence)."""
    found: list[str] = []
    new = [k for k in missing_messages(page) if k not in seen_missing]
    seen_missing.update(new)
    found += [f"missing message key {k}" for k in new]
    lang = page.evaluate("document.documentElement.lang")
    if lang != locale:
        found.append(f'<html lang="{lang}">')
    texts: list[str] = page.evaluate(TEXTS)
    if locale == "zh-CN":
        title = heading(page)
        if not cjk_text(title) and LATIN.search(_without(title, data)):
            found.append(f"title not in Chinese: {title!r}")
        links = (
            page.get_by_test_id("nav").locator("a").evaluate_all("(links) => links.map((a) => a.textContent)")
        )
        found += [f"navigation label not in Chinese: {label!r}" for label in links if not cjk_text(label)]
        for text in texts:
            if not cjk_text(text) and SENTENCE.search(_without(text, data)):
                found.append(f"English text: {text[:80]!r}")
        labels = page.locator(LABELS).evaluate_all(
            "(all) => all.filter((e) => e.getClientRects().length && !e.closest('svg, [translate=no]'))"
            ".map((e) => e.innerText.trim())"
        )
        for label in dict.fromkeys(labels):
            if label and not cjk_text(label) and LATIN.search(TERMS.sub(" ", _without(label, data))):
                found.append(f"English label: {label[:80]!r}")
    main = page.locator("main").inner_text()
    for moment in MOMENT.finditer(main):
        if not ZONE_WITHIN.search(moment.group(1)) and not ZONE_AFTER.match(main[moment.end() :]):
            found.append(f"a date without its time zone: {main[moment.start() : moment.end() + 6]!r}")
    found += [f"off screen: {what}" for what in off_screen(page)]
    return found


@pytest.mark.parametrize("window", list(VIEWPORTS))
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("who", list(WHO))
def test_every_page_in_every_language_and_window(
    console: Console, made: dict[str, Made], open_console: Opener, who: str, locale: str, window: str
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page, recorder = open_console(WHO[who](console), locale=locale, viewport=VIEWPORTS[window])
    own = made[who]
    seen: set[str] = set()
    failures: list[str] = []
    for route in ROUTES:
        path = route.format(file=own.file, job=own.job, evaluation=own.evaluation)
        where = f"{route} [{who}, {locale}, {window}]"
        errors, failed = len(recorder.errors), len(recorder.failed)
        try:
            goto(page, console, f"#{path}")
            problems = _problems(page, locale, seen, own.data)
        except PlaywrightTimeout:
            problems = ["the page never showed its title (h1) or never finished loading"]
            page.reload()  # a page that broke the app must not take the next routes with it
        problems += [f"refused request: {f}" for f in recorder.failed[failed:]]
        problems += [f"page error: {e[:200]}" for e in recorder.errors[errors:] if "Failed to load" not in e]
        failures += [f"{where}: {p}" for p in problems]
    if window == "narrow":  # the open menu fits too
        button = page.get_by_test_id("menu-button")
        if not button.is_visible():
            failures.append(f"[{who}, {locale}, {window}]: no menu button")
        else:
            button.click()
            page.get_by_test_id("nav").locator("a").first.wait_for()
            failures += [f"open menu [{who}, {locale}, {window}]: {p}" for p in off_screen(page)]
    assert not failures, "\n" + "\n".join(failures)


def _marked(page: Any) -> None:
    """Marks the document: a reload would lose the mark."""
    page.evaluate("window.__sameDocument = true")


@pytest.mark.parametrize("window", list(VIEWPORTS))
def test_the_language_switches_without_a_reload_and_is_remembered(
    console: Console, open_console: Opener, window: str
) -> None:
    # The frame's own page (one no other page's translation decides): a route that does not exist.
    page, recorder = open_console(
        console.acme_admin_key, locale="en", viewport=VIEWPORTS[window], path="#/no-such-page"
    )
    assert heading(page) == "Page not found" and page.evaluate("document.documentElement.lang") == "en"
    _marked(page)
    page.get_by_test_id("language").select_option("zh-CN")
    page.get_by_role("heading", name="页面不存在", exact=True).wait_for()
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.get_by_test_id("who-role").inner_text() == "租户管理员"
    assert page.get_by_test_id("sign-out").inner_text() == "退出登录"
    assert "模型广场" in page.get_by_test_id("nav").inner_text()

    page.reload()  # remembered in this browser
    page.get_by_role("heading", name="页面不存在", exact=True).wait_for()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    if window == "wide":
        goto(page, console, "#/plaza")
        page.locator(".model-card").first.wait_for()
        shoot(page, "zh-plaza")

    page.get_by_test_id("sign-out").click()  # the sign-in page keeps the language, and switches too
    page.get_by_role("heading", name="登录控制台").wait_for()
    if window == "narrow":
        shoot(page, "zh-signin-narrow")
    _marked(page)
    page.get_by_test_id("language").select_option("en")
    page.get_by_role("heading", name="Sign in to the console").wait_for()
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert not recorder.errors, recorder.errors


# Fonts that hold Simplified Chinese (Debian's fonts-noto-cjk first; the Makefile installs it).
CHINESE_FONTS = re.compile(r"CJK|WenQuanYi|Droid Sans Fallback|AR PL|Source Han|Noto Sans SC|PingFang|YaHei")


def test_chinese_is_drawn_with_a_chinese_font(console: Console, open_console: Opener) -> None:
    """Screenshots of the Chinese pages show characters, not boxes."""
    page, _ = open_console(None, locale="zh-CN", viewport=WIDE)
    page.get_by_role("heading", name="登录控制台").wait_for()
    fonts = rendered_fonts(page, "h1")
    assert any(CHINESE_FONTS.search(f) for f in fonts), f"no Chinese font drew the title: {fonts}"


def test_a_chinese_browser_gets_chinese_and_an_english_one_english(
    console: Console, open_console: Opener
) -> None:
    page, _ = open_console(None, locale="zh-CN", viewport=WIDE)
    page.get_by_role("heading", name="登录控制台").wait_for()
    assert page.get_by_test_id("language").input_value() == "zh-CN"
    page, _ = open_console(None, locale="en-GB", viewport=WIDE)
    page.get_by_role("heading", name="Sign in to the console").wait_for()
    assert page.get_by_test_id("language").input_value() == "en"


def _menu_is(page: Any, expanded: str) -> None:
    """Preact renders a state change after the event that caused it: wait for the menu button to say so."""
    page.wait_for_function(
        "e => document.querySelector('[data-testid=menu-button]').getAttribute('aria-expanded') === e",
        arg=expanded,
        timeout=milliseconds(5),
    )


def _focus_reaches(page: Any, condition: str) -> None:
    """The focus moves in an effect after the render that opened or closed the menu: wait for it."""
    page.wait_for_function(condition, timeout=milliseconds(5))


@pytest.mark.parametrize("locale", LOCALES)
def test_the_menu_on_a_phone(console: Console, open_console: Opener, locale: str) -> None:
    page, _ = open_console(console.server.admin_key, locale=locale, viewport=NARROW, path="#/admin/overview")
    button = page.get_by_test_id("menu-button")
    links = page.get_by_test_id("nav").locator("a")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not links.first.is_visible()  # closed: the page starts at the top of the screen
    box = page.locator("h1#page-title").bounding_box()
    assert box and box["y"] < NARROW["height"] / 2

    button.click()  # opens, and takes the focus into the menu
    _menu_is(page, "true")
    links.first.wait_for()
    _focus_reaches(page, "document.activeElement.closest('[data-testid=nav]') !== null")
    assert all(links.nth(i).is_visible() for i in range(links.count()))
    assert off_screen(page) == []
    if locale == "zh-CN":
        shoot(page, "zh-narrow-menu")
    else:
        shoot(page, "narrow-menu")

    page.keyboard.press("Escape")  # Esc closes it; the focus goes back to the button
    _menu_is(page, "false")
    assert not links.first.is_visible()
    _focus_reaches(page, "document.activeElement.dataset.testid === 'menu-button'")

    button.click()  # choosing a page closes it
    page.get_by_test_id("nav").locator('a[href="#/admin/tenants"]').click()
    page.wait_for_url(re.compile(r"#/admin/tenants$"), timeout=milliseconds(10))
    _menu_is(page, "false")
    assert not links.first.is_visible()
    _focus_reaches(page, "document.activeElement.id === 'main'")  # the focus is on the new page

    page.reload()
    page.locator("h1#page-title").wait_for()
    page.keyboard.press("Tab")  # the skip link first, then the menu button
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "menu-button"
    page.keyboard.press("Enter")
    _menu_is(page, "true")


def test_the_wide_window_has_no_menu_button(console: Console, open_console: Opener) -> None:
    page, _ = open_console(console.acme_admin_key, locale="en", viewport=WIDE, path="#/keys")
    assert not page.get_by_test_id("menu-button").is_visible()
    assert page.get_by_test_id("nav").locator("a").first.is_visible()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_header_fits_a_phone(console: Console, open_console: Opener, locale: str) -> None:
    page, _ = open_console(console.acme_admin_key, locale=locale, viewport=NARROW, path="#/keys")
    header = page.locator("header.topbar")
    for part in ("who-tenant", "who-role", "language", "sign-out"):
        box = header.get_by_test_id(part).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], (part, box)
    if locale == "zh-CN":
        shoot(page, "zh-narrow-keys")


def test_a_wide_table_scrolls_inside_its_panel_on_a_phone(console: Console, open_console: Opener) -> None:
    """Readable columns (not one word a line), the table scrolling sideways in its own box."""
    page, _ = open_console(console.acme_admin_key, locale="en", viewport=NARROW, path="#/keys")
    table = page.get_by_test_id("keys-table")
    table.locator("tbody tr").first.wait_for()
    box = table.evaluate(
        """(t) => {
          const wrap = t.closest(".table-wrap"), em = parseFloat(getComputedStyle(t).fontSize);
          const heads = [...t.querySelectorAll("thead th:not(.num):not(.row-actions)")];
          return {scrolls: wrap.scrollWidth > wrap.clientWidth, right: wrap.getBoundingClientRect().right,
                  narrowest: Math.min(...heads.map((h) => h.getBoundingClientRect().width)) / em};
        }"""
    )
    assert box["scrolls"] and box["right"] <= NARROW["width"], box
    assert box["narrowest"] >= 6, box  # about six characters at least
    assert off_screen(page) == []
