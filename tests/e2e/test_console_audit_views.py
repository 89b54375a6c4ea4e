"""Activity and the audit log without the console's own polling (issue 12, item 12).

An open job page polls the server; its reads are marked by the console and hidden by the
default views, which a toggle brings back. Rows name the resource acted on and the key by
name, show "—" for tokens of calls that use no model, and the bootstrap entry has a method.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import LOCALES, NARROW, WIDE, Console, Opener, clean, missing_messages
from tests.helpers.deadlines import milliseconds

POLL_HEADER = "x-modelyard-poll"


def _file(console: Console, key: str) -> str:
    rows = [{"messages": [{"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}
            for i in range(8)]  # fmt: skip
    body = "\n".join(json.dumps(r) for r in rows).encode()
    files = {"file": ("audit-views.jsonl", body, "application/jsonl")}
    response = console.api("POST", "/v1/files", key, files=files, data={"purpose": "fine-tune"})
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _long_job(console: Console, key: str) -> str:
    """A job that stays active while its page polls (cancelled once seen)."""
    body = {"model": console.model, "training_file": _file(console, key), "hyperparameters": {"n_epochs": 50}}
    response = console.api("POST", "/v1/fine_tuning/jobs", key, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def test_the_job_page_marks_its_polling_and_activity_hides_it(console: Console, open_console: Opener) -> None:
    key = console.acme_admin_key
    job = _long_job(console, key)
    try:
        page, recorder = open_console(key)
        # The response, not the request: a polled read still in flight when the page moves on
        # is aborted by the navigation and may never reach the server (nor its audit log).
        with page.expect_response(
            lambda r: f"/v1/fine_tuning/jobs/{job}" in r.url and r.request.headers.get(POLL_HEADER) == "1",
            timeout=milliseconds(60),
        ):
            page.goto(f"{console.url}#/fine-tuning/{job}")
    finally:
        console.api("POST", f"/v1/fine_tuning/jobs/{job}/cancel", key)
    page.goto(f"{console.url}#/activity")
    table = page.get_by_test_id("audit-entries")
    table.wait_for()
    assert table.locator("tr[data-poll=true]").count() == 0
    # The job's own page read it (unmarked, the first load): its row names the job.
    assert table.get_by_test_id("audit-resource").filter(has_text=job).count() >= 1
    page.get_by_test_id("audit-show-polling").check()
    page.locator("tr[data-poll=true]").first.wait_for()
    polled = page.locator("tr[data-poll=true]").first.inner_text()
    assert job in polled and "polling" in polled
    page.get_by_test_id("audit-show-polling").uncheck()
    page.wait_for_selector("tr[data-poll=true]", state="detached")
    clean(recorder, key)


@pytest.mark.parametrize("locale", LOCALES)
def test_rows_name_resource_and_key_without_zero_tokens(
    console: Console, open_console: Opener, locale: str
) -> None:
    made = console.api("POST", "/v1/admin/tenants/acme/keys", json={"name": f"laptop-{locale}"}).json()
    assert console.api("DELETE", f"/v1/admin/keys/{made['id']}").status_code == 204
    assert console.api("GET", "/v1/models", console.acme_admin_key).status_code == 200
    page, recorder = open_console(console.server.admin_key, locale=locale, path="#/admin/audit")
    table = page.get_by_test_id("audit-entries")
    table.wait_for()
    revoke = table.locator("tbody tr", has=page.locator("code", has_text="DELETE")).first
    # The revoked key by name, and the acting key by name (the bootstrap admin key).
    assert f"laptop-{locale}" in revoke.get_by_test_id("audit-resource").inner_text()
    listed = table.locator("tbody tr", has_text="/v1/models").first
    assert "first key" in listed.get_by_test_id("audit-key").inner_text()  # acme's first key, by name
    assert listed.get_by_test_id("audit-tokens").inner_text() == "—"
    assert "0 / 0" not in table.inner_text()
    # The bootstrap entry (the first start's admin key) has a method.
    page.get_by_label("Action" if locale == "en" else "操作", exact=True).fill("bootstrap_admin_key")
    page.locator("form.inline-form button[type=submit]").click()
    boot = table.locator("tbody tr", has_text="bootstrap_admin_key")
    boot.wait_for()
    assert boot.locator("td.route code").first.inner_text() == "CLI"
    if locale == "zh-CN":
        assert "审计日志" in page.locator("h1#page-title").inner_text()
        assert "显示控制台的轮询" in page.get_by_test_id("audit-show-polling").locator("..").inner_text()
    assert missing_messages(page) == []
    clean(recorder, console.server.admin_key)


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_activity_fits_the_window(console: Console, open_console: Opener, viewport: dict[str, int]) -> None:
    page, recorder = open_console(console.acme_admin_key, viewport=viewport, path="#/activity")
    page.get_by_test_id("audit-entries").wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], width  # the table scrolls inside its panel
    clean(recorder, console.acme_admin_key)
