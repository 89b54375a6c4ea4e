"""The console's charts as issue 12 item 14 asks, on real pages in English and Chinese, at
1440x900 and 390x844:

- a long model label keeps its distinguishing end (a fine-tune's ``…:suffix:1a2b3c4d``, not
  the start it shares with its base), with the full name in a ``<title>``;
- the usage page's "by key" bar labels lie inside the chart, not clipped on the left;
- an all-zero cost series has one tick, 0, not a made-up scale "$1.0000 … $0.2000";
- the fine-tuning loss chart's x axis (steps) shows whole numbers only.

The data are made through the API in two tenants of this module's own: one fine-tunes the tiny
model and evaluates it against its base; the other calls only a free model, with keys whose
names are long (one in Chinese, whose characters are wider than Latin letters).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LOCALES, VIEWPORTS, Console, Opener, clean, missing_messages
from tests.helpers.deadlines import milliseconds, wait_until

FREE = "tiny-free-charts"  # a free copy of the tiny model: this module's usage costs nothing
KEY_NAMES = ("数据标注团队夜间批处理专用密钥", "nightly-evaluation-pipeline-service-account")
SUFFIX = "nightly"

# Each bar of a chart: the label it shows (its own text, not its <title>'s), the full name in
# its <title>, and the label's box and its svg's box on the screen.
BARS = """
(figure) => Array.from(figure.querySelectorAll("g.bar")).map((bar) => {
  const label = bar.querySelector("text:not(.value)");
  const svg = bar.ownerSVGElement.getBoundingClientRect();
  const box = label.getBoundingClientRect();
  return {
    shown: Array.from(label.childNodes).filter((n) => n.nodeType === 3).map((n) => n.textContent).join(""),
    title: label.querySelector("title")?.textContent ?? null,
    left: box.left, right: box.right, svgLeft: svg.left, svgRight: svg.right,
  };
})
"""


@dataclass(frozen=True)
class Made:
    tuner_key: str  # tenant admin of the tenant that fine-tuned and evaluated
    payer_key: str  # tenant admin of the tenant whose usage is all free
    job: str
    tuned: str  # the fine-tuned model's id: ft:tiny-chat:<tenant>:nightly:<8 hex>
    evaluation: str


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _jsonl(n: int) -> bytes:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"code {i}"},
                {"role": "assistant", "content": f"answer {i % 3}"},
            ]
        }
        for i in range(n)
    ]
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def _upload(console: Console, key: str, purpose: str) -> str:
    files = {"file": (f"charts-{purpose}.jsonl", _jsonl(12))}
    return _ok(console.api("POST", "/v1/files", key, files=files, data={"purpose": purpose}))["id"]


def _tenant(console: Console, name: str) -> str:
    return _ok(console.api("POST", "/v1/admin/tenants", json={"name": name}))["key"]["key"]


def _tune_and_evaluate(console: Console, key: str) -> tuple[str, str, str]:
    # 12 examples, one epoch of batch 4: steps 1, 2, 3 (where a nice scale puts ticks at 0.5s).
    body = {
        "model": console.model,
        "training_file": _upload(console, key, "fine-tune"),
        "suffix": SUFFIX,
        "seed": 1,
        "hyperparameters": {"n_epochs": 1, "batch_size": 4},
    }
    job_id = _ok(console.api("POST", "/v1/fine_tuning/jobs", key, json=body))["id"]

    def job() -> dict[str, Any]:
        return console.api("GET", f"/v1/fine_tuning/jobs/{job_id}", key).json()

    tuned = wait_until(
        lambda: (j := job())["status"] == "succeeded" and j["fine_tuned_model"],
        120,
        what="the charts module's fine-tune to succeed",
        last=lambda: job()["status"],
    )
    evaluation = {
        "file": _upload(console, key, "evals"),
        "models": [console.model, tuned],
        "metrics": [{"name": "exact_match"}],
        "generation": {"max_tokens": 4},
    }
    evaluation_id = _ok(console.api("POST", "/v1/evaluations", key, json=evaluation))["id"]

    def status() -> str:
        return console.api("GET", f"/v1/evaluations/{evaluation_id}", key).json()["status"]

    wait_until(lambda: status() == "succeeded", 120, what="the charts module's evaluation", last=status)
    return job_id, tuned, evaluation_id


def _spend_nothing(console: Console, tiny_model_dir: Path) -> str:
    """A tenant whose keys (long names) called only a free model: every cost is 0."""
    card = {"kind": "local", "id": FREE, "path": str(tiny_model_dir), "provider": "modelyard-tests"}
    _ok(console.api("POST", "/v1/models", json={**card, "price_input_per_1k": 0, "price_output_per_1k": 0}))
    admin = _tenant(console, "charts-free")
    keys = [admin]
    for name in KEY_NAMES:
        body = {"role": "member", "name": name}
        keys.append(_ok(console.api("POST", "/v1/admin/tenants/charts-free/keys", json=body))["key"])
    chat = {"model": FREE, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 2}
    for key in keys:
        # A model still loading answers 503 with Retry-After: ask again until it is ready.
        answered = wait_until(
            lambda key=key: (
                (r := console.api("POST", "/v1/chat/completions", key, json=chat)).status_code != 503 and r
            ),
            120,
            what=f"{FREE} to answer",
            interval=1,
        )
        _ok(answered)

    def keys_seen() -> int:
        report = console.api("GET", "/v1/usage?group_by=key", admin).json()
        return len(report["data"])

    wait_until(
        lambda: keys_seen() == len(keys), 15, what="the free calls in the usage report", last=keys_seen
    )
    return admin


@pytest.fixture(scope="module")
def made(console: Console, tiny_model_dir: Path) -> Iterator[Made]:
    tuner = _tenant(console, "charts")
    payer = _spend_nothing(console, tiny_model_dir)
    job_id, tuned, evaluation_id = _tune_and_evaluate(console, tuner)
    yield Made(tuner, payer, job_id, tuned, evaluation_id)
    # The free model was this module's: later modules see the catalog as the fixture made it.
    console.api("DELETE", f"/v1/models/{FREE}")


def _inside(bar: dict[str, Any]) -> bool:
    return bar["left"] >= bar["svgLeft"] - 0.5 and bar["right"] <= bar["svgRight"] + 0.5


@pytest.mark.parametrize("window", list(VIEWPORTS))
@pytest.mark.parametrize("locale", LOCALES)
def test_a_fine_tunes_label_keeps_its_end_and_its_full_name(
    console: Console, made: Made, open_console: Opener, locale: str, window: str
) -> None:
    page, recorder = open_console(
        made.tuner_key, locale=locale, viewport=VIEWPORTS[window], path=f"#/evaluations/{made.evaluation}"
    )
    charts = page.get_by_test_id("report-charts")
    charts.locator("svg g.bar").first.wait_for(timeout=milliseconds(20))
    figures = charts.locator("figure.chart")
    assert figures.count() == 3
    for n in range(figures.count()):
        bars = {bar["title"]: bar for bar in figures.nth(n).evaluate(BARS)}
        assert set(bars) == {console.model, made.tuned}, bars
        tuned, base = bars[made.tuned], bars[console.model]
        # The tuned id is too long for the room and is cut, keeping the end that tells it apart.
        assert tuned["shown"] != made.tuned and "…" in tuned["shown"], tuned
        assert tuned["shown"].endswith(made.tuned[-8:]), tuned
        assert base["shown"] == console.model and tuned["shown"] != base["shown"]
        assert all(_inside(bar) for bar in bars.values()), bars
    assert missing_messages(page) == []
    clean(recorder, made.tuner_key)


@pytest.mark.parametrize("window", list(VIEWPORTS))
@pytest.mark.parametrize("locale", LOCALES)
def test_usage_by_key_labels_inside_and_a_zero_cost_axis(
    console: Console, made: Made, open_console: Opener, locale: str, window: str
) -> None:
    page, recorder = open_console(made.payer_key, locale=locale, viewport=VIEWPORTS[window], path="#/usage")
    by_key = page.get_by_test_id("usage-key").locator("figure.chart")
    by_key.first.locator("g.bar").first.wait_for()
    for n in range(by_key.count()):  # cost, then tokens
        bars = by_key.nth(n).evaluate(BARS)
        assert len(bars) == len(KEY_NAMES) + 1, bars
        outside = [bar for bar in bars if not _inside(bar)]
        assert outside == [], outside
        # Each label names its key (its end kept when cut), and the full name is in its title.
        for name in KEY_NAMES:
            [bar] = [bar for bar in bars if bar["title"] and name in bar["title"]]
            assert bar["shown"] and bar["shown"] != "…", bar
    # Every cost of this tenant is 0: the cost-per-day axis has one tick, 0.
    cost_per_day = page.get_by_test_id("usage-day").locator("figure.chart svg").first
    ticks = cost_per_day.locator("g.grid text").all_text_contents()
    assert len(ticks) == 1 and re.fullmatch(r"\D*0", ticks[0].strip()), ticks
    # The tokens-per-day axis (not zero) keeps its scale.
    tokens_per_day = page.get_by_test_id("usage-day").locator("figure.chart svg").nth(1)
    assert tokens_per_day.locator("g.grid text").count() > 1
    assert missing_messages(page) == []
    clean(recorder, made.payer_key)


@pytest.mark.parametrize("window", list(VIEWPORTS))
@pytest.mark.parametrize("locale", LOCALES)
def test_the_loss_charts_steps_are_whole(
    console: Console, made: Made, open_console: Opener, locale: str, window: str
) -> None:
    page, recorder = open_console(
        made.tuner_key, locale=locale, viewport=VIEWPORTS[window], path=f"#/fine-tuning/{made.job}"
    )
    chart = page.locator("[data-testid=loss-chart] svg")
    chart.locator("polyline").first.wait_for(timeout=milliseconds(20))
    steps = chart.locator("text.tick").all_text_contents()
    assert len(steps) >= 2, steps
    assert all(re.fullmatch(r"\d+", step.strip()) for step in steps), steps
    assert missing_messages(page) == []
    clean(recorder, made.tuner_key)
