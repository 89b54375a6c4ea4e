"""The console end to end in headless Chromium: data -> fine-tune -> evaluation -> playground
-> usage and quotas.

One member's whole path, against a real server with its worker and a tiny model; every request
the pages make is recorded and must go to the console's own origin. The run also saves a
1280x800 screenshot of every page into docs/screenshots/ (linked from the README).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.e2e.conftest import ACME_QUOTA, Console, Recorder, clean, nav, open_page, shoot, sign_in, who
from tests.helpers.deadlines import deadline, milliseconds, scaled

BAD_LINE = 4  # the one line the server must report, by number


def _dataset(n: int = 16) -> bytes:
    def turn(role: str, content: str) -> dict[str, str]:
        return {"role": role, "content": content}

    examples = [
        {"messages": [turn("user", f"item {i}"), turn("assistant", f"label {i % 4}")]} for i in range(n)
    ]
    rows = [json.dumps(example) for example in examples]
    rows.insert(BAD_LINE - 1, '{"messages": [{"role": "user", "content": "no answer"')  # not JSON
    return ("\n".join(rows) + "\n").encode()


def _upload(page: Any) -> str:
    page.goto(page.url.split("#")[0] + "#/datasets")
    page.get_by_role("heading", name="Datasets").wait_for()
    page.get_by_label("Choose a dataset file").set_input_files(
        {"name": "support.jsonl", "mimeType": "application/jsonl", "buffer": _dataset()}
    )
    page.get_by_role("heading", name="support.jsonl").wait_for()
    problems = page.get_by_test_id("problems")
    row = problems.locator("tbody tr")
    row.first.wait_for()
    assert row.count() == 1
    assert row.locator("td").first.inner_text() == str(BAD_LINE)
    assert "Validation report: 1 bad line" in page.content()
    page.locator(".preview tbody tr").first.wait_for()
    assert page.locator(".preview tr.row-bad td").first.inner_text() == str(BAD_LINE)
    shoot(page, "dataset")
    return re.search(r"#/datasets/(file-[\w-]+)", page.url).group(1)


def _fine_tune(page: Any, console: Console, tenant: str = "acme") -> str:
    page.get_by_role("link", name="Fine-tune on it").click()
    page.get_by_role("heading", name="New fine-tune").wait_for()
    assert page.get_by_label("Training data").input_value().startswith("file-")  # chosen from the link
    page.get_by_label("Base model").select_option(console.model)
    page.get_by_text("Advanced settings").click()
    page.get_by_label("Epochs").fill("0")
    page.get_by_role("button", name="Start fine-tuning").click()
    assert "Epochs must be between 1 and 50" in page.get_by_text("Epochs must be").inner_text()
    page.get_by_label("Epochs").fill("2")
    page.get_by_label("Batch size").fill("4")
    page.get_by_label("Suffix (optional)").fill("e2e")
    shoot(page, "fine-tuning-new")
    page.get_by_role("button", name="Start fine-tuning").click()
    status = page.get_by_test_id("job-status")
    status.wait_for()
    page.locator("[data-testid=job-status][data-status=succeeded]").wait_for(timeout=milliseconds(120))
    page.locator("[data-testid=loss-chart] svg polyline").first.wait_for()
    points = page.locator("[data-testid=loss-chart] [data-series='training loss'] circle").count()
    assert points >= 2, "the loss chart has a point per logged step"
    page.get_by_role("heading", name=re.compile("^Try ft:")).wait_for()
    shoot(page, "fine-tuning-job")
    model = page.get_by_role("heading", name=re.compile("^Try ft:")).inner_text().removeprefix("Try ")
    assert model.startswith(f"ft:{console.model}:{tenant}:e2e:")
    return model


def _evaluate(page: Any, console: Console, file_id: str, tuned: str) -> None:
    page.goto(f"{console.url}#/evaluations/new?file={file_id}")
    page.get_by_role("heading", name="New evaluation").wait_for()
    page.get_by_role("checkbox", name=console.model, exact=True).check()
    page.get_by_role("checkbox", name=tuned).check()
    page.get_by_label("Max tokens per answer").fill("6")
    page.get_by_label("Name (optional)").fill("base vs tuned")
    page.get_by_role("button", name="Run evaluation").click()
    page.locator("[data-testid=eval-status][data-status=succeeded]").wait_for(timeout=milliseconds(120))
    page.get_by_test_id("report-charts").locator("svg rect").first.wait_for()
    assert page.get_by_test_id("report-charts").locator("svg").count() == 3
    rows = page.get_by_test_id("examples").locator("tbody tr")
    assert rows.count() == 16  # one per usable example: the bad line was dropped
    rows.first.get_by_role("button", name="A better").click()
    page.get_by_text(re.compile(r"100% of 1")).first.wait_for()  # the rating reached the report
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "evaluation-report")
    page.goto(f"{console.url}#/evaluations")
    page.get_by_role("link", name="base vs tuned").wait_for()
    shoot(page, "evaluations")


_WATCH_STREAM = """() => {
  window.__streamed = [];
  new MutationObserver(() => {
    const live = document.querySelectorAll('[data-testid=streaming]');
    for (const el of live) window.__streamed.push(el.textContent);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@contextmanager
def _slow_network(page: Any, bytes_per_s: int = 2000) -> Iterator[None]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": 0, "uploadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", {**conditions, "downloadThroughput": bytes_per_s})
    try:
        yield
    finally:
        cdp.send("Network.emulateNetworkConditions", {**conditions, "downloadThroughput": -1})
        cdp.detach()


def _playground(page: Any, console: Console, tuned: str) -> None:
    page.goto(f"{console.url}#/playground?model={tuned}")
    page.get_by_role("heading", name="Playground").wait_for()
    assert page.get_by_label("Model 1").input_value() == tuned
    page.get_by_label("Max tokens").fill("40")
    page.evaluate(_WATCH_STREAM)
    page.get_by_label("Message").fill("item 3")
    # The tiny model answers in milliseconds, so on loopback the whole stream can reach the
    # browser in one read and be drawn once. A slow link (about 2 KB/s, DevTools throttling)
    # spaces the server's events out, as a real network and a real model would.
    with _slow_network(page):
        page.keyboard.press("Enter")
        page.get_by_test_id("chat-stats").first.wait_for(timeout=milliseconds(60))
    partial = {text for text in page.evaluate("window.__streamed") if text and text != "…"}
    assert len(partial) >= 2, f"the answer arrived in pieces, not at once: {partial}"
    stats = page.get_by_test_id("chat-stats").first.inner_text()
    timing = r"\d+ in · \d+ out tokens · first token [\d.]+ m?s · total [\d.]+ m?s · \$"
    assert re.search(timing, stats), stats
    page.get_by_role("button", name="+ Compare with another model").click()
    page.get_by_label("Model 2").select_option(console.model)
    page.get_by_label("Message").fill("item 1")
    page.get_by_role("button", name="Send").click()
    page.get_by_test_id("chat-stats").nth(2).wait_for(timeout=milliseconds(60))
    shoot(page, "playground")


def _wait_for_usage(console: Console, models: set[str]) -> None:
    """The recorder writes usage in batches (every 0.2 s): wait until the playground's calls are in,
    and the totals have held still for several flush intervals, so the page and the API agree."""
    ends = deadline(15)
    seen: list[int] = []
    while True:
        report = console.api("GET", "/v1/usage?group_by=model", console.acme_key).json()
        seen.append(report["totals"]["requests"])
        if models <= {row["model"] for row in report["data"]} and len(set(seen[-4:])) == 1 and len(seen) >= 4:
            return
        assert time.monotonic() < ends, report
        time.sleep(scaled(0.25))  # "held still" means for a few flushes, which a loaded box delays


def _usage(page: Any, console: Console, tuned: str) -> None:
    _wait_for_usage(console, {console.model, tuned})
    open_page(page, console, "#/usage", "Usage & cost")
    report = console.api("GET", "/v1/usage?group_by=day,model,key", console.acme_key).json()
    totals = page.get_by_test_id("usage-totals").inner_text()
    assert f"Requests\n{report['totals']['requests']:,}" in totals, totals
    # One chart pair per grouping, drawn from the report: bars with a real height.
    for group in ("day", "model", "key"):
        charts = page.get_by_test_id(f"usage-{group}").locator("svg")
        assert charts.count() == 2, group
        heights = charts.first.locator("rect").evaluate_all("rs => rs.map(r => +r.getAttribute('height'))")
        assert any(h > 0 for h in heights), (
            group,
            heights,
            page.get_by_test_id(f"usage-{group}").inner_html()[:2000],
            report,
        )
    by_model = page.get_by_test_id("usage-model").text_content()
    assert console.model in by_model and "ft:" in by_model
    assert "(this key)" in page.get_by_test_id("usage-key").text_content()
    page.get_by_role("button", name="By model", exact=True).click()
    table = page.get_by_test_id("usage-table")
    table.get_by_role("cell", name=tuned, exact=True).wait_for()
    assert table.locator("tbody tr").count() == len({r["model"] for r in report["data"]})
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    csv = download.value.path().read_text().splitlines()
    assert download.value.suggested_filename.startswith("usage-acme-")
    assert csv[0] == "model,requests,prompt_tokens,completion_tokens,cost" and len(csv) >= 3
    # The quota the fixture set, and what is left of it now.
    quotas = page.get_by_test_id("quotas")
    rpm = quotas.locator("[data-limit=requests_per_minute]").inner_text()
    assert re.search(rf"[\d,]+ left of {ACME_QUOTA['requests_per_minute']}", rpm), rpm
    spend = quotas.locator("[data-limit=spend_budget]").inner_text()
    assert f"left of ${ACME_QUOTA['spend_budget']:.2f}" in spend, spend
    assert "no limit" in quotas.locator("[data-limit=max_tokens]").inner_text()
    assert quotas.get_by_role("progressbar").count() == 4
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "usage")
    quotas.scroll_into_view_if_needed()
    shoot(page, "usage-quotas")


def _other_pages(page: Any, console: Console) -> None:
    for hash_path, heading, name in (
        ("#/plaza", "Model plaza", "plaza"),
        ("#/datasets", "Datasets", "datasets"),
        ("#/fine-tuning", "Fine-tuning", "fine-tuning"),
        ("#/activity", "Activity", "activity"),
    ):
        open_page(page, console, hash_path, heading)
        shoot(page, name)
    # A member's own audit trail: its calls, newest first.
    entries = page.get_by_test_id("audit-entries").locator("tbody tr")
    assert entries.count() > 0 and "/v1/chat/completions" in page.get_by_test_id("audit-entries").inner_text()


def test_a_new_tenants_first_key_walks_the_whole_path(
    console: Console, recorded_page: tuple[Any, Recorder]
) -> None:
    """A brand-new tenant's first key, as `modelyard tenants create` prints it: sign in, try a
    model, upload data, fine-tune, evaluate, chat with the result, with nothing set up before.
    (Before the member's test below, which takes the screenshots last.)"""
    page, recorder = recorded_page
    created = console.api("POST", "/v1/admin/tenants", json={"name": "newco"})
    assert created.status_code == 201, created.text
    key = created.json()["key"]["key"]
    page.goto(console.url)
    sign_in(page, console, key)
    assert who(page) == ("newco", "tenant admin")
    assert "API keys" in nav(page)  # the first key manages the tenant's keys
    file_id = _upload(page)
    tuned = _fine_tune(page, console, tenant="newco")
    _evaluate(page, console, file_id, tuned)
    _playground(page, console, tuned)
    clean(recorder, key)


def test_sign_in_upload_tune_evaluate_chat(console: Console, recorded_page: tuple[Any, Recorder]) -> None:
    page, recorder = recorded_page
    started = time.monotonic()
    page.goto(console.url)
    shoot(page, "sign-in")
    sign_in(page, console, console.acme_key)
    assert who(page) == ("acme", "member")
    links = nav(page)
    assert "Usage & cost" in links and "Activity" in links
    # no keys scope, not a provider, not an admin
    assert not {"API keys", "Provider usage", "Tenants", "Audit log"} & set(links)
    file_id = _upload(page)
    tuned = _fine_tune(page, console)
    _evaluate(page, console, file_id, tuned)
    _playground(page, console, tuned)
    _usage(page, console, tuned)
    _other_pages(page, console)
    print(f"console e2e flow: {time.monotonic() - started:.1f} s")

    clean(recorder, console.acme_key)
    assert page.evaluate("sessionStorage.length") == 1 and console.acme_key not in page.url


_DROP = """([name, text]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([text], name, {type: "application/jsonl"}));
  return transfer;
}"""


def test_a_file_dropped_on_the_datasets_page_is_uploaded(
    console: Console, recorded_page: tuple[Any, Recorder]
) -> None:
    page, recorder = recorded_page
    sign_in(page, console, console.acme_key)
    open_page(page, console, "#/datasets", "Datasets")
    zone = page.get_by_test_id("dropzone")
    transfer = page.evaluate_handle(_DROP, ["dropped.jsonl", _dataset(6).decode()])
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    assert "over" in zone.get_attribute("class")  # the zone shows it will take the file
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    page.get_by_role("heading", name="dropped.jsonl").wait_for()
    problems = page.get_by_test_id("problems").locator("tbody tr")
    problems.first.wait_for()
    assert problems.count() == 1 and problems.locator("td").first.inner_text() == str(BAD_LINE)
    listed = console.api("GET", "/v1/files", console.acme_key).json()["data"]
    assert "dropped.jsonl" in [f["filename"] for f in listed]
    clean(recorder, console.acme_key)
