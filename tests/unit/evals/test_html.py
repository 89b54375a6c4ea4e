"""The standalone HTML report: charts, no requests, escaping, and a real headless Chromium."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelyard.evals.html import diff_html, render_html
from modelyard.evals.report import build_report
from modelyard.evals.results import EvalResults, ModelInfo, Score
from tests.helpers.browser import launch_chromium
from tests.unit.evals.test_report import BIG, FT, TINY, make_results

XSS = "<script>alert(1)</script>"
CHARTS = ("chart-cost", "chart-latency", "chart-metrics")


def _hostile_results() -> EvalResults:
    """The fixture with untrusted text everywhere a user or a model can put it."""
    results = make_results(name=f"evil {XSS}")
    results.models[2] = ModelInfo(TINY, f"prov {XSS}", 0.0, 0.0)
    results.items[0] = type(results.items[0])(0, f"prompt {XSS}", [], "Paris")
    for out in results.outputs:
        if out.model == FT and out.item == 3:
            out.output = f"blue {XSS} <img src=x onerror=alert(2)>"
            out.scores["exact_match"] = Score(0.0, f'detail "{XSS}"')
        if out.model == TINY and out.item == 2:
            out.error = f"upstream said {XSS}"
    return results


def _page(results: EvalResults | None = None) -> str:
    return render_html(build_report(results or make_results()))


def _svg_of(page: str, figure_id: str) -> str:
    match = re.search(rf'<figure id="{figure_id}">.*?(<svg.*?</svg>)', page, re.S)
    assert match, f"no svg in #{figure_id}"
    return match.group(1)


# --- the markup ---------------------------------------------------------------------------


def test_three_charts_name_every_model() -> None:
    page = _page()
    for figure_id in CHARTS:
        svg = _svg_of(page, figure_id)
        for model in (BIG, FT, TINY):
            assert f">{model}<" in svg, f"{model} missing from #{figure_id}"
    assert page.count("<circle") >= 6 and page.count("<rect") == 6  # 3 models x 2 metrics


def test_page_requests_nothing() -> None:
    page = _page()
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}", page, re.I)
    assert not re.search(r"\b(src|href|srcset|action)\s*=", page, re.I)
    assert "@import" not in page and "url(" not in page and "@font-face" not in page


def test_csp_allows_only_the_pages_own_style_and_script() -> None:
    page = _page()
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert found
    csp = html.unescape(found.group(1))
    assert "default-src 'none'" in csp
    for tag in ("style", "script"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        assert body
        digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in csp


def test_untrusted_text_is_escaped() -> None:
    page = _page(_hostile_results())
    assert page.count("<script") == 1  # ours, at the end
    assert "alert(1)</script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&lt;script&gt;" in page  # inside a title="" attribute


def test_failures_only_control_is_a_labelled_checkbox() -> None:
    page = _page()
    assert '<input type="checkbox" id="failures-only">' in page
    assert '<label for="failures-only">Show failures only</label>' in page
    assert page.count('<tr data-failed="true"') == 4 and page.count('<tr data-failed="false"') == 1


def test_diff_marks_words_and_cjk_characters() -> None:
    assert diff_html("the cat sat", "the dog sat") == "the <del>cat</del><ins>dog</ins> sat"
    assert diff_html("北京是中国的首都", "北京是中國的首都") == "北京是中<del>国</del><ins>國</ins>的首都"
    assert diff_html("blue", "The sky is blue") == "<ins>The sky is </ins>blue"
    assert diff_html("a <b>", "a <i>") == "a &lt;<del>b</del><ins>i</ins>&gt;"


# --- a real browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as chromium:
        yield chromium


def test_page_in_headless_chromium(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(_page(_hostile_results()), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())

    assert requests == [path.as_uri()]  # the page itself and nothing else
    assert errors == [] and dialogs == []  # no CSP violation, no script error, no alert
    for figure_id in CHARTS:
        box = page.locator(f"#{figure_id} svg").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150, figure_id
    screenshot = tmp_path / "eval-report-1280x800.png"
    page.screenshot(path=str(screenshot))
    print(f"screenshot: {screenshot}")

    rows = page.locator("#examples tbody tr")
    passing = page.locator('#examples tbody tr[data-failed="false"]')
    assert rows.count() == 5 and passing.first.is_visible()
    page.get_by_label("Show failures only").click()
    assert not passing.first.is_visible()
    assert sum(rows.nth(i).is_visible() for i in range(5)) == 4
    assert page.locator("#shown-count").inner_text() == "4 of 5 examples shown"
    page.keyboard.press("Space")  # the focused checkbox works from the keyboard too
    assert passing.first.is_visible()

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: wide tables scroll inside
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()
