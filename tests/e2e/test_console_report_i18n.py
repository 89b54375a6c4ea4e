"""The evaluation page says the server's recommendations and events in the reader's language
(issue 12, item 11), from their codes; a code the console does not know keeps the English."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.conftest import LOCALES, NARROW, WIDE, Console, Opener, clean, missing_messages
from tests.helpers.deadlines import wait_until

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def evaluation(console: Console) -> str:
    rows = [{"messages": [{"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}
            for i in range(3)]  # fmt: skip
    upload = {"file": ("report-i18n.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode())}
    response = console.api("POST", "/v1/files", console.acme_key, files=upload, data={"purpose": "evals"})
    assert response.status_code == 200, response.text
    body = {
        "file": response.json()["id"],
        "models": [console.model],
        "metrics": [{"name": "exact_match"}],
        "generation": {"max_tokens": 4},
    }
    created = console.api("POST", "/v1/evaluations", console.acme_key, json=body)
    assert created.status_code == 200, created.text
    evaluation_id = created.json()["id"]

    def status() -> str:
        return console.api("GET", f"/v1/evaluations/{evaluation_id}", console.acme_key).json()["status"]

    wait_until(lambda: status() in ("succeeded", "failed", "cancelled"), 120, what="the evaluation to end")
    assert status() == "succeeded"
    return evaluation_id


def _picks(page: Any) -> list[dict[str, Any]]:
    return page.locator(".pick p.muted").evaluate_all(
        "ps => ps.map(p => ({text: p.innerText, code: p.dataset.code || null, lang: p.getAttribute('lang')}))"
    )


def _events(page: Any) -> list[dict[str, Any]]:
    return page.locator("ol.events li").evaluate_all(
        "lis => lis.map(li => {const s = li.querySelector('time + span');"
        " return {text: s.innerText, code: s.dataset.code || null, lang: s.getAttribute('lang')}})"
    )


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
@pytest.mark.parametrize("locale", LOCALES)
def test_recommendations_and_events_in_the_readers_language(
    console: Console, open_console: Opener, evaluation: str, locale: str, viewport: dict
) -> None:
    page, recorder = open_console(
        console.acme_key, locale=locale, viewport=viewport, path=f"#/evaluations/{evaluation}"
    )
    page.locator(".pick").first.wait_for()
    page.locator("ol.events li").first.wait_for()
    report = console.api("GET", f"/v1/evaluations/{evaluation}/report", console.acme_key).json()
    picks = _picks(page)
    codes = [
        report["recommendation"][k]["code"] for k in ("best_quality", "cheapest_within_tolerance", "fastest")
    ]
    assert [p["code"] for p in picks] == codes and all(p["lang"] is None for p in picks)
    events = _events(page)
    assert {e["code"] for e in events} == {"created", "started", "asking", "scoring", "completed"}
    assert all(e["lang"] is None for e in events)
    if locale == "zh-CN":
        assert all(HAN.search(p["text"]) for p in picks), picks
        assert all(HAN.search(e["text"]) for e in events), events
        assert "评测已完成" in [e["text"] for e in events]
        assert any(console.model in e["text"] and "条示例" in e["text"] for e in events)
    else:
        # The console's English says what the server's does (numbers in the console's format).
        assert [e["text"] for e in events][::-1][:2] == [
            "Created an evaluation of 1 model on 3 items",
            "Evaluation started",
        ]
        assert picks[0]["text"].startswith(f"{console.model} ")
    # Nothing runs off a phone's screen.
    width = page.evaluate("document.documentElement.clientWidth")
    for box in page.locator(".pick").evaluate_all("els => els.map(e => e.getBoundingClientRect().right)"):
        assert box <= width + 1
    assert missing_messages(page) == []
    clean(recorder, console.acme_key)


def test_an_unknown_code_keeps_the_servers_english(
    console: Console, open_console: Opener, evaluation: str
) -> None:
    """A newer server's code (or an older server with none) shows its English, marked as English."""
    page, recorder = open_console(console.acme_key, locale="zh-CN", path="#/evaluations")

    def newer(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        if "recommendation" in body:
            body["recommendation"]["best_quality"]["code"] = "best_from_the_future"
        else:
            body["data"][0]["data"] = {"code": "something_new"}
        route.fulfill(response=response, json=body)

    page.route(re.compile(r"/v1/evaluations/[^/]+/(report|events)"), newer)
    page.goto(f"{console.url}#/evaluations/{evaluation}")
    page.locator(".pick").first.wait_for()
    page.locator("ol.events li").first.wait_for()
    report = console.api("GET", f"/v1/evaluations/{evaluation}/report", console.acme_key).json()
    best = _picks(page)[0]
    assert best == {"text": report["recommendation"]["best_quality"]["reason"], "code": None, "lang": "en"}
    latest = _events(page)[0]
    assert latest == {"text": "Evaluation completed", "code": None, "lang": "en"}
    assert missing_messages(page) == []
    clean(recorder, console.acme_key)


def test_provider_form_labels_in_chinese(console: Console, open_console: Opener) -> None:
    page, recorder = open_console(console.server.admin_key, locale="zh-CN", path="#/admin/providers")
    label = page.locator("label[for]", has_text="Base URL")
    assert HAN.search(label.inner_text()), label.inner_text()
    assert missing_messages(page) == []
    clean(recorder, console.server.admin_key)
