"""Item 4 of issue 12: the admin overview's figures (tenants, keys, this month's usage,
providers, models not ready, the audit chain)."""

from __future__ import annotations

from tests.conftest import Platform
from tests.helpers.trust import add_model, issue


def test_overview_counts_keys_usage_providers_and_checks_the_chain(platform: Platform) -> None:
    add_model(platform, "echo", price_input_per_1k=1000.0, price_output_per_1k=1000.0)
    issue(platform, "acme", name="second")
    chat = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}
    answered = platform.client.post("/v1/chat/completions", json=chat, headers=platform.headers())
    assert answered.status_code == 200
    platform.flush_usage()
    platform.flush_audit()

    response = platform.client.get("/v1/admin/overview", headers=platform.headers(platform.admin_key))
    assert response.status_code == 200, response.text
    body = response.json()
    acme = next(t for t in body["tenants"] if t["name"] == "acme")
    listed = platform.client.get("/v1/admin/tenants/acme/keys", headers=platform.headers(platform.admin_key))
    live = [k for k in listed.json()["data"] if not k["revoked_at"]]
    assert acme["keys"] == len(live) >= 3  # the first key, the fixture's member, "second"
    assert acme["usage"]["requests"] == 1 and acme["usage"]["prompt_tokens"] == 1
    assert acme["usage"]["cost"] > 0
    providers = {p["name"]: p["models"] for p in body["providers"]}
    assert "echo" in providers["test"] and "gemma-3-270m" in providers["google"]
    assert body["models"]["ready"] >= 3 and body["models"]["importing"] == 0
    assert body["audit"]["ok"] is True and body["audit"]["count"] > 0
    assert body["month_start"] > 0


def test_overview_is_for_platform_admins_only(platform: Platform) -> None:
    assert platform.client.get("/v1/admin/overview", headers=platform.headers()).status_code == 403
