"""The fine-tuning pages as issue 12 items 5-10 ask: phases before the first step, an estimate
before starting, readable numbers (ETA "about N min", never "0 tokens/s", gone when the job
ends), checkpoints published from the page, "try it" with settings beside the base model, and
cancel confirmed in the page's own dialog. In English and Chinese, at 1440x900 and 390x844.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.e2e.conftest import LOCALES, NARROW, WIDE, Console, Opener, missing_messages, settle
from tests.helpers.browser import off_screen
from tests.helpers.deadlines import milliseconds, wait_until

JOBS = "/v1/fine_tuning/jobs"
# "about 25 min left" / "剩余约 25 分钟" / "45 s left": format.js duration(), never "1518.94 s".
ETA = {
    "en": re.compile(r"^(about \d+ (min|h \d+ min)|\d+ s) left$"),
    "zh-CN": re.compile(r"^剩余(约 \d+ (分钟|小时 \d+ 分钟)|\d+ 秒)$"),
}
SPEED = {"en": re.compile(r"^[\d,]+ tokens/s$"), "zh-CN": re.compile(r"^[\d,]+ tokens/秒$")}


def _examples(n: int) -> bytes:
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"code {i}"},
                    {"role": "assistant", "content": f"answer {i % 3}"},
                ]
            }
        )
        for i in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


def _upload(console: Console, n: int) -> str:
    response = console.api(
        "POST",
        "/v1/files",
        console.acme_key,
        files={"file": ("ft.jsonl", _examples(n))},
        data={"purpose": "fine-tune"},
    )
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _job(console: Console, file_id: str, epochs: int, batch: int) -> dict:
    body = {
        "model": console.model,
        "training_file": file_id,
        "seed": 1,
        "hyperparameters": {"n_epochs": epochs, "batch_size": batch},
    }
    response = console.api("POST", JOBS, console.acme_key, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _status(console: Console, job_id: str) -> dict:
    return console.api("GET", f"{JOBS}/{job_id}", console.acme_key).json()


@pytest.fixture(scope="module")
def finished(console: Console) -> dict:
    """A small job of acme's that has succeeded: 12 examples, 2 epochs of 3 steps."""
    job = _job(console, _upload(console, 12), epochs=2, batch=4)
    return wait_until(
        lambda: (j := _status(console, job["id"]))["status"] == "succeeded" and j,
        120,
        what="the small job to succeed",
        last=lambda: _status(console, job["id"])["status"],
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_a_finished_job_lists_checkpoints_publishes_one_and_tries_it_beside_the_base(
    console: Console, finished: dict, open_console: Opener, locale: str
) -> None:
    page, _ = open_console(
        console.acme_key, locale=locale, viewport=WIDE, path=f"#/fine-tuning/{finished['id']}"
    )
    page.locator("[data-testid=job-status][data-status=succeeded]").wait_for()
    assert page.get_by_test_id("job-phases").count() == 0  # finished: the status says all
    speed = page.get_by_test_id("job-speed")
    speed.wait_for()
    assert SPEED[locale].match(speed.locator(".stat-value").inner_text()), speed.inner_text()
    assert not speed.inner_text().startswith("0 ")
    assert speed.locator(".hint").count() == 0, "no ETA once the job has ended"

    ticks = page.locator("[data-testid=loss-chart] svg text.tick").evaluate_all(
        "els => els.map(e => e.textContent)"
    )
    assert ticks and all(re.fullmatch(r"\d+", x) for x in ticks), ticks  # whole steps only

    table = page.get_by_test_id("checkpoints")
    table.locator("tbody tr").first.wait_for()
    steps = [int(s) for s in table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.step)")]
    assert steps == [6, 3]  # at each epoch's end
    step = {"en": 3, "zh-CN": 6}[locale]  # each language publishes its own
    row = table.locator(f"tr[data-step='{step}']")
    row.get_by_role("button").click()
    row.locator(".badge").wait_for()
    listed = console.api("GET", f"{JOBS}/{finished['id']}/checkpoints", console.acme_key).json()["data"]
    published = next(c for c in listed if c["step_number"] == step)
    assert published["published"], listed
    chat = console.api(
        "POST",
        "/v1/chat/completions",
        console.acme_key,
        json={
            "model": published["fine_tuned_model_checkpoint"],
            "messages": [{"role": "user", "content": "code 1"}],
            "max_tokens": 3,
        },
    )
    assert chat.status_code == 200, chat.text  # callable at once

    try_it = page.get_by_test_id("try-it")
    try_it.locator("textarea").fill("code 4")
    try_it.locator("input[name=temperature]").fill("0")
    try_it.locator("input[name=max_tokens]").fill("5")
    try_it.locator("button[type=submit]").click()
    for role in ("tuned", "base"):
        answer = page.get_by_test_id(f"try-answer-{role}")
        answer.locator(".try-text").wait_for(timeout=milliseconds(60))
    assert console.model in page.get_by_test_id("try-answer-base").locator("h3").text_content()
    assert (
        finished["fine_tuned_model"] in page.get_by_test_id("try-answer-tuned").locator("h3").text_content()
    )
    assert missing_messages(page) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_new_job_form_estimates_tokens_time_and_cost(
    console: Console, finished: dict, open_console: Opener, locale: str
) -> None:
    file_id = finished["training_file"]
    path = f"#/fine-tuning/new?file={file_id}&model={console.model}"
    page, _ = open_console(console.acme_key, locale=locale, viewport=WIDE, path=path)
    page.locator("details summary").click()
    page.locator("input[name=n_epochs]").fill("2")
    page.locator("input[name=batch_size]").fill("4")
    estimate = page.get_by_test_id("job-estimate")
    estimate.get_by_test_id("estimate-tokens").wait_for()
    body = {
        "model": console.model,
        "training_file": file_id,
        "hyperparameters": {"n_epochs": 2, "batch_size": 4},
    }
    expected = console.api("POST", "/v1/fine_tuning/estimates", console.acme_key, json=body).json()
    # The same tokens the finished job trained on (counted with the base's tokenizer, × epochs).
    assert expected["trained_tokens"] == finished["trained_tokens"]
    shown = estimate.get_by_test_id("estimate-tokens").inner_text()
    assert int(re.sub(r"\D", "", shown)) == expected["trained_tokens"]
    assert expected["basis"] == "measured"  # the finished job measured this machine's speed
    when = estimate.get_by_test_id("estimate-time").inner_text()
    assert re.match(r"^(about |约 )?\d+ ?(s|min|秒|分钟)", when), when
    assert "$" in estimate.get_by_test_id("estimate-cost").inner_text()
    basis = estimate.get_by_test_id("estimate-basis").inner_text()
    assert {"en": "measured on this machine", "zh-CN": "本机此前微调"}[locale] in basis
    page.locator("input[name=n_epochs]").fill("4")  # the estimate follows the form
    wait_until(
        lambda: (
            int(re.sub(r"\D", "", estimate.get_by_test_id("estimate-tokens").inner_text() or "0"))
            == 2 * expected["trained_tokens"]
        ),
        20,
        what="the estimate for 4 epochs",
    )
    assert missing_messages(page) == []


@pytest.mark.parametrize(("locale", "viewport"), [("en", WIDE), ("zh-CN", NARROW)])
def test_a_live_job_shows_its_phase_eta_and_speed_and_cancel_asks_in_the_page(
    console: Console, open_console: Opener, locale: str, viewport: dict[str, int]
) -> None:
    # 40 examples, batch 1, 50 epochs: 2000 steps, far longer than this test looks at it.
    job = _job(console, _upload(console, 40), epochs=50, batch=1)
    try:
        page, _ = open_console(
            console.acme_key, locale=locale, viewport=viewport, path=f"#/fine-tuning/{job['id']}"
        )
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        phases = page.get_by_test_id("job-phases")
        phases.wait_for()
        assert phases.get_attribute("data-phase") in ("queued", "loading_base", "tokenizing", "training")
        page.locator("[data-testid=job-phases][data-phase=training]").wait_for(timeout=milliseconds(60))
        speed = page.get_by_test_id("job-speed")
        speed.locator(".hint").wait_for(timeout=milliseconds(60))
        assert ETA[locale].match(speed.locator(".hint").inner_text()), speed.locator(".hint").inner_text()
        assert SPEED[locale].match(speed.locator(".stat-value").inner_text())
        assert not speed.locator(".stat-value").inner_text().startswith("0 ")
        if viewport == NARROW:
            assert off_screen(page) == []

        wait_until(  # a checkpoint to publish once cancelled (one every 10 steps)
            lambda: console.api("GET", f"{JOBS}/{job['id']}/checkpoints", console.acme_key).json()["data"],
            60,
            what="the live job's first checkpoint",
        )
        cancel = page.locator("header.page-head .actions button.danger")
        cancel.click()
        page.get_by_test_id("confirm-dialog").wait_for()
        page.get_by_test_id("confirm-no").click()
        page.get_by_test_id("confirm-dialog").wait_for(state="detached")
        time.sleep(0.2)  # not a timing assertion: gives a wrongly sent cancel a moment to land
        assert _status(console, job["id"])["status"] == "running"
        cancel.click()
        page.get_by_test_id("confirm-yes").click()
        page.locator("[data-testid=job-status][data-status=cancelled]").wait_for()
        assert page.get_by_test_id("job-phases").count() == 0
        settle(page)
        assert page.get_by_test_id("job-speed").locator(".hint").count() == 0, (
            "the ETA goes when the job ends"
        )
        assert dialogs == [], "no browser confirm()"
        # A cancelled job's checkpoints can be published from the page.
        page.get_by_test_id("checkpoints").get_by_role("button").first.wait_for()
        assert missing_messages(page) == []
    finally:
        console.api("POST", f"{JOBS}/{job['id']}/cancel", console.acme_key)
