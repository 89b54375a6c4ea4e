"""A new user's first contact (issue 12, items 1, 2 and 14): a model's honest readiness on the
plaza and in the playground, what a base model does and what works with it (completion mode,
few-shot examples, fine-tuning), instruction-tuned models first, a fine-tune's lineage, Enter
while an answer streams, and a third pane on a model of its own.

The readiness the API reports is tested in tests/unit/api/test_model_readiness.py; here the
server's answers are rewritten in the browser (``page.route``) to put a model in a state
(importing at 40%) that the shared test server cannot hold still long enough to look at."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import NARROW, WIDE, Console, Opener, clean, goto, missing_messages, settle, shoot
from tests.helpers.browser import off_screen
from tests.helpers.deadlines import milliseconds

LOCALES = ("en", "zh-CN")
GEMMA = "gemma-3-270m"
FT = "ft:gemma-3-270m:acme:demo42"
WORDS = {
    "en": {
        "importing": "Importing… 40%",
        "converting": "converting the weights",
        "waiting": "Waiting for",
        "busy": "wait for it, or press Stop",
        "few_shot": "Country: France",
        "base": "continues the text",
    },
    "zh-CN": {
        "importing": "导入中… 40%",
        "converting": "正在转换权重",
        "waiting": "正在等待",
        "busy": "请等待回答完成",
        "few_shot": "国家：法国",
        "base": "接着您给出的文字往下写",
    },
}


def _rewrite_models(page: Any, change: Any) -> None:
    """Answers GET /v1/models with the server's list as ``change(models)`` leaves it."""

    def handle(route: Any) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        body = response.json()
        change(body["data"])
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/v1/models", handle)


def _reopen(page: Any, console: Console, hash_path: str) -> None:
    """Loads ``hash_path`` afresh, so that its reads go through the routes set since sign-in."""
    goto(page, console, hash_path)
    page.reload()
    page.locator("h1#page-title").wait_for()
    settle(page)


def _importing(models: list[dict]) -> None:
    for model in models:
        if model["id"] == GEMMA:
            model["card"].update(status="importing", phase="converting", progress=0.4)


def _with_fine_tune(models: list[dict]) -> None:
    base = next(m for m in models if m["id"] == GEMMA)
    card = {
        **base["card"],
        "kind": "instruct",
        "owner": "tenant",
        "tags": ["local", "fine-tuned"],
        "lineage": {
            "base_model": GEMMA,
            "job": "ftjob-demo",
            "training_file": "file-train",
            "validation_file": None,
            "evaluations": ["eval-demo"],
        },
    }
    models.append({**base, "id": FT, "card": card})


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_the_plaza_shows_an_importing_model_and_what_a_base_model_does(
    console: Console, open_console: Opener, locale: str, viewport: dict[str, int]
) -> None:
    page, recorder = open_console(console.acme_admin_key, locale=locale, viewport=viewport)
    _rewrite_models(page, lambda models: (_importing(models), _with_fine_tune(models)))
    _reopen(page, console, "#/plaza")
    words = WORDS[locale]
    gemma = page.locator(f"article[data-model='{GEMMA}']")
    status = gemma.get_by_test_id("model-status")
    status.wait_for()
    assert words["importing"] in status.inner_text() and words["converting"] in status.inner_text()
    assert gemma.locator("progress").get_attribute("value") == "0.4"
    note = gemma.get_by_test_id("base-model-note")
    assert words["base"] in note.inner_text()
    hrefs = note.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert f"#/fine-tuning/new?model={GEMMA}" in hrefs
    assert any("mode=complete" in h for h in hrefs) and any("fewshot=1" in h for h in hrefs)

    # The fine-tune: no "base-model" tag, no base-model note, and links to where it came from.
    tuned = page.locator(f"article[data-model='{FT}']")
    assert "base-model" not in tuned.locator(".tags").inner_text()
    assert tuned.get_by_test_id("base-model-note").count() == 0
    links = tuned.get_by_test_id("lineage").locator("a")
    targets = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert targets == ["#/fine-tuning/ftjob-demo", "#/datasets/file-train", "#/evaluations/eval-demo"]
    assert missing_messages(page) == []
    assert off_screen(page) == []
    if viewport == WIDE:
        gemma.scroll_into_view_if_needed()
        shoot(page, "plaza-importing" if locale == "en" else "zh-plaza-importing")
    clean(recorder, console.acme_admin_key)


def _not_ready_then_answer(page: Any) -> list[int]:
    """The first chat call is refused as a model still importing would be; later ones go through."""
    refused: list[int] = []
    error = {
        "message": "the model 'x' is not ready: importing 40%, converting; retry in 15 s",
        "type": "service_unavailable",
        "param": "model",
        "code": "model_not_ready",
    }

    def handle(route: Any) -> None:
        if not refused:
            refused.append(503)
            route.fulfill(status=503, headers={"Retry-After": "15"}, json={"error": error})
        else:
            route.continue_()

    page.route("**/v1/chat/completions", handle)
    return refused


@pytest.mark.parametrize("locale", LOCALES)
def test_the_playground_says_what_it_waits_for_and_that_enter_waits(
    console: Console, open_console: Opener, locale: str
) -> None:
    page, recorder = open_console(console.acme_key, locale=locale)
    refused = _not_ready_then_answer(page)

    def importing_card(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["card"].update(status="importing", phase="converting", progress=0.4)
        route.fulfill(response=response, body=json.dumps(body))

    page.route(f"**/v1/models/{console.model}", importing_card)
    goto(page, console, f"#/playground?model={console.model}&mode=chat")
    words = WORDS[locale]
    page.locator("#prompt").fill("hello")
    page.locator("#prompt").press("Enter")
    waiting = page.get_by_test_id("waiting-for-model")
    waiting.wait_for()
    assert words["waiting"] in waiting.inner_text() and console.model in waiting.inner_text()
    assert words["importing"] in waiting.inner_text()
    # Enter while the answer is on its way says so instead of doing nothing.
    page.locator("#prompt").fill("another")
    page.locator("#prompt").press("Enter")
    hint = page.get_by_test_id("composer-hint")
    hint.wait_for()
    assert words["busy"] in hint.inner_text()
    page.get_by_test_id("chat-stats").first.wait_for(timeout=milliseconds(60))
    assert refused == [503]
    assert page.get_by_test_id("composer-hint").count() == 0  # gone once the answer is in
    assert missing_messages(page) == []
    clean(recorder, console.acme_key, refused=(503,))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_a_base_model_gets_completion_mode_and_a_few_shot_example(
    console: Console, open_console: Opener, locale: str, viewport: dict[str, int]
) -> None:
    page, recorder = open_console(console.acme_key, locale=locale, viewport=viewport)
    completions: list[str] = []
    page.on("request", lambda r: completions.append(r.url) if r.url.endswith("/v1/completions") else None)
    goto(page, console, f"#/playground?model={console.model}")  # the tiny model is a base model
    assert page.get_by_test_id("mode-complete").is_checked()
    page.get_by_test_id("few-shot").click()
    page.wait_for_function("() => document.querySelector('#prompt').value.length > 0")
    prompt = page.locator("#prompt").input_value()
    assert prompt.startswith(WORDS[locale]["few_shot"]) and prompt.count("\n\n") >= 2
    page.get_by_label("Max tokens" if locale == "en" else "最大 tokens 数").fill("8")
    page.locator("#prompt").press("Enter")
    page.get_by_test_id("chat-stats").first.wait_for(timeout=milliseconds(60))
    assert completions, "completion mode calls /v1/completions"
    # In chat mode a base model's pane says what it does and offers completion mode.
    page.get_by_test_id("mode-chat").check()
    hint = page.get_by_test_id("base-model-hint")
    hint.wait_for()
    hint.locator("button").click()
    assert page.get_by_test_id("mode-complete").is_checked()
    assert missing_messages(page) == []
    assert off_screen(page) == []
    if viewport == WIDE:
        shoot(page, "playground-completion" if locale == "en" else "zh-playground-completion")
    clean(recorder, console.acme_key)


def test_the_playground_picks_an_instruction_tuned_model_first(
    console: Console, open_console: Opener
) -> None:
    page, recorder = open_console(console.acme_key)

    def tiny_is_instruct(models: list[dict]) -> None:
        # Only tiny-chat: a fine-tune made by an earlier test counts as instruction-tuned too.
        for model in models:
            if model["id"] == console.model:
                model["card"]["kind"] = "instruct"
            elif model["card"].get("kind") == "instruct":
                model["card"]["kind"] = "base"

    _rewrite_models(page, tiny_is_instruct)
    _reopen(page, console, "#/playground")
    assert page.get_by_label("Model 1").input_value() == console.model
    assert page.get_by_test_id("mode-chat").is_checked()
    clean(recorder, console.acme_key)


def test_each_new_pane_gets_a_model_not_already_shown(console: Console, open_console: Opener) -> None:
    page, recorder = open_console(console.acme_key)
    goto(page, console, "#/playground")
    add = page.get_by_test_id("add-pane")
    while add.count() and add.is_enabled():
        add.click()
    pickers = page.locator(".pane-head select")
    chosen = [pickers.nth(i).input_value() for i in range(pickers.count())]
    assert len(chosen) >= 2 and len(set(chosen)) == len(chosen), chosen
    if add.count():  # fewer chat models than panes: the button says why it is off
        assert add.is_disabled() and page.locator(".arena-foot .hint").count() == 1
    clean(recorder, console.acme_key)
