"""Audit entries as the API writes them: who, which route, model and tokens, never text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from modelyard.cli.main import app as cli_app
from modelyard.store import Database
from tests.conftest import Platform
from tests.helpers.mock_upstream import MockUpstream

CANARY = "canary-7f3a91-do-not-log"


@pytest.fixture
def remote(platform: Platform) -> Iterator[MockUpstream]:
    with MockUpstream() as mock:
        platform.allow_outbound(f"127.0.0.1:{mock.port}")
        body = {"kind": "remote", "id": "audited", "base_url": mock.base_url, "upstream_model": "mock-model"}
        response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
        assert response.status_code == 201, response.text
        yield mock


def _entries(platform: Platform, **params: Any) -> list[dict[str, Any]]:
    platform.flush_audit()
    response = platform.client.get(
        "/v1/admin/audit", params=params, headers=platform.headers(platform.admin_key)
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _raw_log(platform: Platform) -> str:
    db = Database(platform.settings.resolved_database_url)
    with db.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.execute(text("select * from audit_log")))
    db.dispose()
    return dump


def test_a_chat_call_is_recorded_with_model_and_tokens_but_not_its_text(
    platform: Platform, remote: MockUpstream
) -> None:
    body = {"model": "audited", "messages": [{"role": "user", "content": f"secret {CANARY}"}]}
    response = platform.client.post("/v1/chat/completions", json=body, headers=platform.headers())
    assert response.status_code == 200 and CANARY in response.text  # the echo carries it back
    [entry] = _entries(platform, model="audited")
    assert entry["route"] == "/v1/chat/completions" and entry["method"] == "POST"
    assert entry["kind"] == "request" and entry["status_code"] == 200
    assert entry["prompt_tokens"] > 0 and entry["completion_tokens"] > 0
    assert entry["key_id"] and entry["role"] == "member" and entry["tenant_id"]
    assert CANARY not in _raw_log(platform)


def test_a_streamed_call_is_recorded_when_its_body_is_complete(
    platform: Platform, remote: MockUpstream
) -> None:
    body = {"model": "audited", "stream": True, "messages": [{"role": "user", "content": f"a b c {CANARY}"}]}
    with platform.client.stream("POST", "/v1/chat/completions", json=body, headers=platform.headers()) as r:
        assert r.status_code == 200
        assert "[DONE]" in "".join(r.iter_text())
    [entry] = _entries(platform, model="audited")
    assert entry["status_code"] == 200 and entry["prompt_tokens"] > 0 and entry["completion_tokens"] > 0
    assert CANARY not in _raw_log(platform)


def test_a_stream_that_fails_midway_records_the_failure(platform: Platform, remote: MockUpstream) -> None:
    remote.stream_error_after = 1
    body = {"model": "audited", "stream": True, "messages": [{"role": "user", "content": "a b c d"}]}
    with platform.client.stream("POST", "/v1/chat/completions", json=body, headers=platform.headers()) as r:
        "".join(r.iter_text())
    [entry] = _entries(platform, model="audited")
    assert entry["status_code"] >= 500


def test_routes_are_recorded_as_templates_without_query_strings(platform: Platform) -> None:
    path = "/v1/models/no-such-model?token=" + CANARY
    assert platform.client.get(path, headers=platform.headers()).status_code == 404
    entries = [e for e in _entries(platform) if e["route"] == "/v1/models/{model_id}"]
    assert entries and entries[0]["status_code"] == 404
    # The path's identifier is the resource acted on (issue 12); the query string never shows.
    assert entries[0]["resource"] == {"model_id": "no-such-model"}
    assert CANARY not in _raw_log(platform)


def test_admin_changes_are_admin_entries_with_an_action(platform: Platform) -> None:
    key = platform.new_tenant("globex")
    admin = platform.headers(platform.admin_key)
    platform.client.post("/v1/admin/outbound-allowlist", json={"host": "LLM.Example.com"}, headers=admin)
    created = _entries(platform, kind="admin", action="create_tenant")
    assert created and created[0]["detail"]["tenant"] == "globex" and key not in _raw_log(platform)
    [allowed] = _entries(platform, action="allow_outbound_host")
    assert allowed["detail"] == {"host": "llm.example.com"} and allowed["role"] == "admin"
    reads = _entries(platform, action="list_tenants")
    assert reads == []  # reading is not a change
    # A tenant admin's key changes are admin entries too, in its own tenant's log.
    boss = platform.client.post(
        "/v1/admin/tenants/globex/keys", json={"role": "tenant_admin"}, headers=admin
    ).json()["key"]
    made = platform.client.post("/v1/keys", json={"name": "ci"}, headers=platform.headers(boss)).json()
    platform.client.post(f"/v1/keys/{made['id']}/rotate", headers=platform.headers(boss))
    platform.flush_audit()
    own = platform.client.get("/v1/audit", params={"kind": "admin"}, headers=platform.headers(boss)).json()
    actions = [e["action"] for e in own["data"]]
    assert "create_key" in actions and "rotate_key" in actions, actions
    assert made["key"] not in _raw_log(platform)


def test_an_admins_change_to_a_tenant_is_in_that_tenants_own_trail(platform: Platform) -> None:
    """Filed under the tenant acted on, still naming the admin who acted; no other tenant sees it."""
    platform.new_tenant("globex")
    admin = platform.headers(platform.admin_key)
    boss = platform.client.post(
        "/v1/admin/tenants/globex/keys", json={"role": "tenant_admin"}, headers=admin
    ).json()
    made = platform.client.post("/v1/admin/tenants/globex/keys", json={"name": "svc"}, headers=admin).json()
    assert platform.client.put(
        "/v1/admin/quotas/tenants/globex", json={"max_tokens": 99}, headers=admin
    ).is_success
    assert platform.client.put(
        f"/v1/admin/quotas/keys/{made['id']}", json={"max_tokens": 9}, headers=admin
    ).is_success
    rotated = platform.client.post(f"/v1/admin/keys/{made['id']}/rotate", headers=admin).json()
    assert platform.client.delete(f"/v1/admin/keys/{rotated['id']}", headers=admin).status_code == 204
    platform.flush_audit()

    trail = platform.client.get("/v1/audit", params={"kind": "admin"}, headers=platform.headers(boss["key"]))
    entries = trail.json()["data"]
    assert [e["action"] for e in reversed(entries)] == [
        "create_tenant", "create_key", "create_key", "set_tenant_quota", "set_key_quota", "rotate_key",
        "revoke_key",
    ]  # fmt: skip
    admin_tenant = platform.client.get("/v1/me", headers=admin).json()["tenant_id"]
    globex = entries[0]["tenant_id"]
    assert {e["tenant_id"] for e in entries} == {globex} and globex != admin_tenant
    assert {(e["role"], e["detail"]["actor_tenant_id"]) for e in entries} == {("admin", admin_tenant)}
    # acme's trail has none of it, and a tenant's own changes name no other actor
    acme = platform.client.get("/v1/audit", params={"kind": "admin"}, headers=platform.headers()).json()
    assert not [e for e in acme["data"] if e["tenant_id"] == globex]
    platform.client.post("/v1/keys", json={"name": "own"}, headers=platform.headers(boss["key"]))
    [own] = _entries(platform, kind="admin", action="create_key", tenant_id=globex, limit=1)
    assert own["role"] == "tenant_admin" and "actor_tenant_id" not in (own["detail"] or {})
    assert platform.client.get("/v1/admin/audit/verify", headers=admin).json()["ok"] is True


def test_a_failed_key_is_recorded_without_a_principal(platform: Platform) -> None:
    assert platform.client.get("/v1/models", headers={"Authorization": "Bearer sk-wrong"}).status_code == 401
    entries = [e for e in _entries(platform) if e["status_code"] == 401]
    assert entries and entries[0]["tenant_id"] is None and entries[0]["route"] == "/v1/models"


def test_a_tenant_sees_only_its_own_entries(platform: Platform) -> None:
    other = platform.new_tenant("initech")
    platform.client.get("/v1/models", headers=platform.headers(other))
    platform.client.get("/v1/models", headers=platform.headers())
    platform.flush_audit()
    mine = platform.client.get("/v1/audit", headers=platform.headers()).json()["data"]
    theirs = platform.client.get("/v1/audit", headers=platform.headers(other)).json()["data"]
    assert mine and theirs
    assert len({e["tenant_id"] for e in mine}) == 1 and len({e["tenant_id"] for e in theirs}) == 1
    assert mine[0]["tenant_id"] != theirs[0]["tenant_id"]
    assert platform.client.get("/v1/admin/audit", headers=platform.headers()).status_code == 403
    # Found by the fuzzer: a cursor past 64 bits overflowed the database's integer.
    huge = platform.client.get("/v1/audit", params={"before": 2**70}, headers=platform.headers())
    assert huge.status_code == 400
    # Found by fuzzing PostgreSQL: a cursor past 2^31 overflowed a 32-bit seq column there.
    far = platform.client.get("/v1/audit", params={"before": 2**40}, headers=platform.headers())
    assert far.status_code == 200 and far.json()["data"]


def test_verify_over_http_and_cli_then_tampering_is_named(platform: Platform) -> None:
    platform.client.get("/v1/models", headers=platform.headers())
    _entries(platform)
    verified = platform.client.get("/v1/admin/audit/verify", headers=platform.headers(platform.admin_key))
    assert verified.json()["ok"] is True and verified.json()["count"] >= 2
    env = {
        "MODELYARD_HOME": str(platform.settings.home),
        "MODELYARD_DATABASE_URL": platform.settings.database_url,
    }
    ok = CliRunner().invoke(cli_app, ["audit", "verify"], env=env)
    assert ok.exit_code == 0 and "OK" in ok.output

    db = Database(platform.settings.resolved_database_url)
    with db.engine.begin() as conn:
        conn.execute(text("update audit_log set latency_ms = latency_ms + 1 where seq = 2"))
    db.dispose()
    bad = CliRunner().invoke(cli_app, ["audit", "verify"], env=env)
    assert bad.exit_code == 1 and "entry 2" in bad.output and "edited" in bad.output
    body = platform.client.get("/v1/admin/audit/verify", headers=platform.headers(platform.admin_key)).json()
    assert body["ok"] is False and body["bad_seq"] == 2
