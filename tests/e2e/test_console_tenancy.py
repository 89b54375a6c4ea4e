"""What a key sees: a member never sees another tenant's objects, the keys page nor the admin
pages; a tenant admin manages its tenant's keys; a provider sees its own views; admins see all."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.e2e.conftest import Console, Recorder, clean, nav, open_page, shoot, sign_in, who
from tests.helpers.deadlines import deadline
from tests.helpers.mock_upstream import MockUpstream

ADMIN_LINKS = ("Overview", "Tenants", "Providers", "Audit log")
SECRET = b'{"prompt": "acme secret question", "completion": "acme secret answer"}\n' * 3


def _acme_objects(console: Console) -> tuple[str, str]:
    """A file and a (cancelled) fine-tuning job of acme's, made through the API."""
    uploaded = console.api(
        "POST",
        "/v1/files",
        console.acme_key,
        files={"file": ("acme-secret.jsonl", SECRET)},
        data={"purpose": "fine-tune"},
    )
    assert uploaded.status_code == 200, uploaded.text
    file_id = uploaded.json()["id"]
    body = {"model": console.model, "training_file": file_id, "suffix": "secret"}
    job = console.api("POST", "/v1/fine_tuning/jobs", console.acme_key, json=body)
    assert job.status_code == 200, job.text
    job_id = job.json()["id"]
    console.api("POST", f"/v1/fine_tuning/jobs/{job_id}/cancel", console.acme_key)
    return file_id, job_id


def test_a_member_sees_only_its_tenant_and_no_admin_page(
    console: Console, recorded_page: tuple[Any, Recorder]
) -> None:
    file_id, job_id = _acme_objects(console)
    page, recorder = recorded_page
    sign_in(page, console, console.globex_key)
    assert who(page) == ("globex", "member")
    links = nav(page)
    assert not (set(ADMIN_LINKS) | {"API keys"}) & set(links), links  # a member has no keys scope
    page.locator(".model-card").first.wait_for()
    assert ":acme:" not in page.content()  # no fine-tuned model of acme's in the plaza

    for hash_path, heading in (
        ("#/datasets", "Datasets"),
        ("#/fine-tuning", "Fine-tuning"),
        ("#/evaluations", "Evaluations"),
    ):
        page.goto(f"{console.url}{hash_path}")
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        page.get_by_text(re.compile(r"^No (datasets|fine-tuning jobs|evaluations) yet$")).wait_for()
        assert "acme" not in page.content() and file_id not in page.content()

    page.goto(f"{console.url}#/datasets/{file_id}")
    page.get_by_role("heading", name="Dataset not found").wait_for()
    assert "acme secret" not in page.content()
    page.goto(f"{console.url}#/fine-tuning/{job_id}")
    page.get_by_role("alert").wait_for()
    assert page.get_by_test_id("job-status").count() == 0

    page.goto(f"{console.url}#/keys")
    page.get_by_role("heading", name="Not open to this key").wait_for()
    assert 'needs the "keys" scope' in page.content()
    for path in ("/admin/overview", "/admin/tenants", "/admin/providers", "/admin/audit"):
        page.goto(f"{console.url}#{path}")
        page.get_by_role("heading", name="Platform admins only").wait_for()
    # The server refuses them too, whatever the page shows: 403, the route exists.
    for route in (
        "/v1/admin/tenants",
        "/v1/admin/tenants/acme/keys",
        "/v1/admin/audit",
        "/v1/admin/audit/verify",
        "/v1/admin/system",
        "/v1/admin/quotas/tenants/acme",
        "/v1/keys",
    ):
        assert console.api("GET", route, console.globex_key).status_code == 403, route
    clean(recorder, console.globex_key, refused=(404,))


def test_a_tenant_admin_creates_a_scoped_key_and_revokes_it(
    console: Console, recorded_page: tuple[Any, Recorder]
) -> None:
    page, recorder = recorded_page
    sign_in(page, console, console.acme_admin_key)
    assert who(page) == ("acme", "tenant admin")
    links = nav(page)
    assert "API keys" in links and not set(ADMIN_LINKS) & set(links)
    open_page(page, console, "#/keys", "API keys")
    form = page.get_by_role("form", name="Create a key")
    form.get_by_label("Name").fill("ci-bot")
    # A member's scopes are offered (no "keys": the role cannot hold it); keep models and chat.
    form.get_by_role("checkbox", name="chat", exact=True).wait_for()
    assert form.get_by_role("checkbox", name="keys", exact=True).count() == 0
    for scope in ("completions", "embeddings", "files", "fine-tuning", "evaluations", "usage", "audit"):
        form.get_by_role("checkbox", name=scope, exact=True).uncheck()
    form.get_by_role("checkbox", name=console.model, exact=True).check()
    form.get_by_label("Expires").select_option(label="In 30 days")
    form.get_by_role("button", name="Create key").click()

    shown = page.get_by_test_id("new-key")
    shown.wait_for()
    key = shown.locator("code").inner_text()
    assert key.startswith("my-") and page.content().count(key) == 1  # in full, once
    me = console.api("GET", "/v1/me", key).json()
    assert me["tenant"] == "acme" and me["role"] == "member"
    assert me["scopes"] == ["chat", "models"] and me["allowed_models"] == [console.model]
    assert 29 * 86400 < me["expires_at"] - time.time() <= 30 * 86400
    row = page.locator(f"[data-testid=keys-table] tr[data-key-id='{me['key_id']}']")
    assert "chat, models" in row.inner_text() and console.model in row.inner_text()
    shoot(page, "keys")
    page.get_by_role("button", name="I have copied it").click()
    assert key not in page.content()  # shown once: gone for good

    row.get_by_role("button", name="Revoke ci-bot").click()
    page.get_by_test_id("confirm-yes").click()  # the page's own dialog
    row.wait_for(state="detached")  # revoked keys are hidden unless asked for
    page.get_by_label("Show revoked keys").check()
    assert "revoked" in row.inner_text()
    assert console.api("GET", "/v1/me", key).status_code == 401
    clean(recorder, console.acme_admin_key, key)


def _publish_and_call(console: Console, provider: str, upstream: MockUpstream) -> str:
    """initech publishes a remote model (a mock provider, allowed by the admin); acme calls it.

    Not this very server: the gateway refuses its own address as a provider (a loop)."""
    allowed = console.api("POST", "/v1/admin/outbound-allowlist", json={"host": f"127.0.0.1:{upstream.port}"})
    assert allowed.status_code == 201, allowed.text
    card = {
        "kind": "remote",
        "id": "initech-echo",
        "provider": "initech",
        "base_url": upstream.base_url,
        "upstream_model": "mock-model",
        "api_key": "sk-initech-provider",
        "price_input_per_1k": 1.0,
        "price_output_per_1k": 2.0,
    }
    published = console.api("POST", "/v1/models", provider, json=card)
    assert published.status_code == 201, published.text
    body = {"model": "initech-echo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    for _ in range(2):
        answer = console.api("POST", "/v1/chat/completions", console.acme_key, json=body)
        assert answer.status_code == 200, answer.text
    ends = deadline(10)
    while not console.api("GET", "/v1/provider/usage", provider).json()["data"]:
        assert time.monotonic() < ends
        time.sleep(0.2)
    return "initech-echo"


def test_a_provider_sees_its_views(console: Console, recorded_page: tuple[Any, Recorder]) -> None:
    made = console.api("POST", "/v1/admin/tenants", json={"name": "initech"})
    assert made.status_code == 201, made.text
    body = {"role": "provider", "name": "publisher"}
    provider = console.api("POST", "/v1/admin/tenants/initech/keys", json=body).json()["key"]
    with MockUpstream() as upstream:
        model = _publish_and_call(console, provider, upstream)
    page, recorder = recorded_page
    sign_in(page, console, provider)
    assert who(page) == ("initech", "provider")
    assert nav(page) == ["Model plaza", "Playground", "Usage & cost", "Provider usage"]
    open_page(page, console, "#/provider-usage", "Provider usage")
    totals = page.get_by_test_id("usage-totals").inner_text()
    assert "Requests\n2" in totals and "Revenue" in totals, totals
    assert model in page.get_by_test_id("usage-model").text_content()
    table = page.get_by_test_id("usage-table").inner_text()
    assert "acme" not in table and console.acme_key[:12] not in table  # never who called
    shoot(page, "provider-usage")
    clean(recorder, provider)


def test_admin_pages(console: Console, recorded_page: tuple[Any, Recorder]) -> None:
    page, recorder = recorded_page
    sign_in(page, console, console.server.admin_key, landing="Overview")
    assert who(page) == ("platform", "admin")
    assert set(ADMIN_LINKS) <= set(nav(page))
    # This server pins both number formats, so the Overview says so instead of measuring.
    page.get_by_text("Not measured", exact=True).wait_for()
    assert page.get_by_test_id("serving-dtype").inner_text() == "float32"
    assert page.get_by_test_id("training-dtype").inner_text() == "float32"
    page.goto(f"{console.url}#/admin/tenants")
    page.get_by_role("cell", name="globex", exact=True).wait_for()

    # globex's quota, set in the editor and read back through the API
    page.get_by_role("row", name=re.compile("globex")).get_by_role("button", name="Keys and quota").click()
    editor = page.get_by_role("form", name="Quota of globex")
    editor.get_by_label("Requests per minute").fill("120")
    editor.get_by_label("Spend budget ($)").fill("x")
    editor.get_by_role("button", name="Save quota").click()
    editor.get_by_text("A number of 0 or more").wait_for()
    editor.get_by_label("Spend budget ($)").fill("5.5")
    editor.get_by_label("Budget period").select_option("day")
    editor.get_by_role("button", name="Save quota").click()
    editor.get_by_text("Last saved").wait_for()
    page.get_by_role("button", name="Dismiss").click()  # the "saved" toast, out of the screenshots
    saved = console.api("GET", "/v1/admin/quotas/tenants/globex").json()
    assert (saved["requests_per_minute"], saved["spend_budget"], saved["budget_period"]) == (120, 5.5, "day")
    assert saved["tokens_per_minute"] is None
    editor.scroll_into_view_if_needed()
    shoot(page, "admin-quotas")

    page.get_by_role("row", name=re.compile("acme")).get_by_role("button", name="Keys and quota").click()
    page.get_by_role("heading", name="Keys of acme").wait_for()
    page.get_by_label("Key name").fill("from the console")
    page.get_by_label("Role", exact=True).select_option("tenant_admin")
    page.get_by_role("button", name="Issue a key").click()
    issued = page.get_by_test_id("new-key")
    assert issued.inner_text().count("my-") == 1 and "tenant admin" in issued.inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "admin-tenants")

    open_page(page, console, "#/admin/providers", "Providers")
    shoot(page, "admin-providers")

    open_page(page, console, "#/admin/audit", "Audit log")
    verified = page.locator("[data-testid=audit-verify][data-ok=true]")
    count = int(re.search(r"([\d,]+) entries checked", verified.inner_text()).group(1).replace(",", ""))
    assert count > 0
    kind_cells = page.get_by_test_id("audit-entries").locator("tbody tr td:nth-child(3)")
    kind_cells.first.wait_for()  # the unfiltered entries are drawn
    page.get_by_label("Kind").select_option("admin")
    # The unfiltered page may already hold admin entries, so wait for the filtered answer itself;
    # the table is replaced by a loading state until it is drawn.
    with page.expect_response(lambda r: "/v1/admin/audit?" in r.url and "kind=admin" in r.url):
        page.get_by_role("button", name="Filter", exact=True).click()
    kind_cells.first.wait_for()
    page.get_by_test_id("audit-entries").get_by_text("set_tenant_quota").first.wait_for()
    kinds = kind_cells.all_inner_texts()
    assert kinds and "request" not in kinds
    shoot(page, "admin-audit")
    clean(recorder, console.server.admin_key)


def test_readable_in_a_narrow_window(console: Console, recorded_page: tuple[Any, Recorder]) -> None:
    page, _ = recorded_page
    page.set_viewport_size({"width": 420, "height": 860})
    sign_in(page, console, console.acme_key)
    for hash_path in ("#/plaza", "#/datasets", "#/playground", "#/fine-tuning/new", "#/usage"):
        page.goto(f"{console.url}{hash_path}")
        page.wait_for_selector(".state.loading", state="detached")
        assert page.evaluate("document.documentElement.scrollWidth") <= 420, hash_path
    page.goto(f"{console.url}#/plaza")
    page.wait_for_selector(".model-card")
    shoot(page, "narrow-plaza")
    page.keyboard.press("Tab")  # the skip link first, then the navigation, all reachable by keyboard
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
