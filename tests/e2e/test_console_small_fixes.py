"""Small fixes a user saw (issue 12, item 14): datasets, the evaluation form and page."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import LOCALES, NARROW, WIDE, Console, Opener, clean, missing_messages


def _upload(console: Console, name: str, n: int = 10) -> dict:
    rows = [{"messages": [{"role": "user", "content": f"q {i}"}, {"role": "assistant", "content": f"a {i}"}]}
            for i in range(n)]  # fmt: skip
    body = "\n".join(json.dumps(r) for r in rows).encode()
    files = {"file": (name, body, "application/jsonl")}
    response = console.api("POST", "/v1/files", console.acme_key, files=files, data={"purpose": "fine-tune"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("locale", LOCALES)
def test_dataset_page_preselects_a_model_and_links_split_parts(
    console: Console, open_console: Opener, locale: str
) -> None:
    source = _upload(console, f"parent-{locale}.jsonl")
    page, recorder = open_console(console.acme_key, locale=locale, path=f"#/datasets/{source['id']}")
    select = page.locator("select[name=validate-model]")
    select.wait_for()
    models = console.api("GET", "/v1/models", console.acme_key).json()["data"]
    chat = [m["id"] for m in models if m["card"]["task"] == "chat"]
    assert select.input_value() == chat[0]  # preselected, never blank
    assert select.evaluate("s => s.options[s.selectedIndex].text") == chat[0]
    page.locator("form", has=page.locator("input[type=number]")).locator("button[type=submit]").click()
    parts = page.get_by_test_id("split-parts")
    parts.wait_for()
    # A full-width panel of its own: Size is not cut off.
    panel = page.locator(".panel", has=parts)
    assert panel.bounding_box()["width"] > 0.8 * page.locator("main").bounding_box()["width"]
    assert parts.locator("tbody tr").count() == 3
    link = parts.get_by_test_id("split-from").first.get_by_role("link")
    assert link.inner_text() == source["filename"]
    part_id = parts.locator("tbody tr").first.get_attribute("data-file")
    page.goto(f"{console.url}#/datasets/{part_id}")
    page.get_by_test_id("split-from").get_by_role("link", name=source["filename"]).click()
    page.get_by_role("heading", name=source["filename"]).wait_for()
    assert missing_messages(page) == []
    clean(recorder, console.acme_key)


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_datasets_list_searches_and_deletes_with_the_dialog(
    console: Console, open_console: Opener, viewport: dict
) -> None:
    keep = _upload(console, "keep-me.jsonl")
    gone = _upload(console, f"delete-me-{viewport['width']}.jsonl")
    page, recorder = open_console(console.acme_key, viewport=viewport, path="#/datasets")
    page.get_by_test_id("files-search").fill("delete-me")
    files = page.get_by_test_id("files")
    files.locator(f"tr[data-file='{gone['id']}']").wait_for()
    assert files.locator(f"tr[data-file='{keep['id']}']").count() == 0
    files.locator(f"tr[data-file='{gone['id']}']").get_by_test_id("delete-file").click()
    page.get_by_test_id("confirm-dialog").wait_for()
    page.get_by_test_id("confirm-yes").click()
    page.wait_for_selector(f"tr[data-file='{gone['id']}']", state="detached")
    assert console.api("GET", f"/v1/files/{gone['id']}", console.acme_key).status_code == 404
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    clean(recorder, console.acme_key, refused=(404,))


@pytest.mark.parametrize("locale", LOCALES)
def test_evaluation_form_and_page(console: Console, open_console: Opener, locale: str) -> None:
    source = _upload(console, f"eval-{locale}.jsonl", n=3)
    page, recorder = open_console(
        console.acme_key, locale=locale, path=f"#/evaluations/new?file={source['id']}"
    )
    page.locator("form button[type=submit]").click()
    error = page.locator("fieldset.invalid .field-error")
    error.wait_for()
    page.locator(f"input[name=model][value='{console.model}']").check()
    page.wait_for_selector("fieldset.invalid", state="detached")  # the message goes once fixed
    # Metric descriptions: inline code as <code>, never raw backticks.
    descriptions = page.get_by_test_id("metric-description")
    assert "`" not in "".join(descriptions.all_inner_texts())
    # A checkbox's label sits beside its box, not below it.
    box = page.locator(f"input[name=model][value='{console.model}']").bounding_box()
    label = page.locator("label.eval-check", has=page.locator(f"input[value='{console.model}']")).locator(
        "span"
    )
    assert label.bounding_box()["x"] > box["x"] + box["width"] - 1
    assert label.bounding_box()["y"] < box["y"] + box["height"]
    page.locator("form button[type=submit]").click()
    page.get_by_test_id("eval-subtitle").get_by_role("link", name=source["filename"]).wait_for()
    assert missing_messages(page) == []
    clean(recorder, console.acme_key)
