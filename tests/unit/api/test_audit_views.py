"""Audit entries as the console reads them: its own polling marked and filtered, the
resource acted on, key names, no tokens for calls without a model, a method on every entry."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from modelyard.cli.main import app as cli_app
from tests.conftest import Platform

POLL = {"X-Modelyard-Poll": "1"}


def _admin(platform: Platform) -> dict[str, str]:
    return platform.headers(platform.admin_key)


def _entries(
    platform: Platform, path: str = "/v1/admin/audit", key: str | None = None, **params: Any
) -> list[dict[str, Any]]:
    platform.flush_audit()
    headers = platform.headers(key) if key else _admin(platform)
    response = platform.client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _named_key(platform: Platform, name: str, role: str = "member") -> dict[str, Any]:
    body = {"name": name, "role": role}
    response = platform.client.post("/v1/admin/tenants/acme/keys", json=body, headers=_admin(platform))
    assert response.status_code == 201, response.text
    return response.json()


def test_polling_reads_are_marked_and_hidden_on_request(platform: Platform) -> None:
    for _ in range(3):
        assert platform.client.get("/v1/files", headers={**platform.headers(), **POLL}).status_code == 200
    assert platform.client.get("/v1/files", headers=platform.headers()).status_code == 200
    routes = [e for e in _entries(platform) if e["route"] == "/v1/files"]
    assert [e["poll"] for e in routes] == [False, True, True, True]
    shown = [e for e in _entries(platform, polling="exclude") if e["route"] == "/v1/files"]
    assert [e["poll"] for e in shown] == [False]
    assert len([e for e in _entries(platform, polling="only") if e["route"] == "/v1/files"]) == 3
    # A tenant's own view filters the same way.
    own = _entries(platform, "/v1/audit", key=platform.tenant_key, polling="exclude")
    assert all(not e["poll"] for e in own) and any(e["route"] == "/v1/files" for e in own)
    # Filtered, not dropped: the chain holds them all and verifies.
    report = platform.client.get("/v1/admin/audit/verify", headers=_admin(platform)).json()
    assert report["ok"] is True


def test_a_change_cannot_be_marked_as_polling(platform: Platform) -> None:
    key = _named_key(platform, "hidden?")
    response = platform.client.delete(f"/v1/admin/keys/{key['id']}", headers={**_admin(platform), **POLL})
    assert response.status_code == 204
    [entry] = [e for e in _entries(platform) if e["method"] == "DELETE"]
    assert entry["poll"] is False


def test_rows_name_the_resource_and_the_key(platform: Platform) -> None:
    ci = _named_key(platform, "ci-pipeline", role="tenant_admin")
    target = _named_key(platform, "old-laptop")
    missing = platform.client.get(
        "/v1/files/file-nope?purpose=secret-query", headers=platform.headers(ci["key"])
    )
    assert missing.status_code == 404
    assert (
        platform.client.delete(f"/v1/admin/keys/{target['id']}", headers=_admin(platform)).status_code == 204
    )
    entries = _entries(platform)
    [read] = [e for e in entries if e["route"] == "/v1/files/{file_id}"]
    assert read["resource"] == {"file_id": "file-nope"} and read["key_name"] == "ci-pipeline"
    assert "secret-query" not in str(read)  # never the query string
    [revoke] = [e for e in entries if e["method"] == "DELETE"]
    assert revoke["resource"] == {"key_id": target["id"]} and revoke["resource_name"] == "old-laptop"
    # A tenant sees its own keys' names, not the platform admin's.
    own = _entries(platform, "/v1/audit", key=ci["key"])
    assert any(e["key_name"] == "ci-pipeline" for e in own)
    assert all(e["key_name"] is None for e in own if e["role"] == "admin")


def test_calls_without_a_model_have_no_token_counts(platform: Platform) -> None:
    assert platform.client.get("/v1/models", headers=platform.headers()).status_code == 200
    [entry] = [e for e in _entries(platform) if e["route"] == "/v1/models" and e["method"] == "GET"]
    assert entry["model"] is None
    assert entry["prompt_tokens"] is None and entry["completion_tokens"] is None


def test_the_bootstrap_entry_has_a_method(platform: Platform) -> None:
    services = platform.client.app.state.services
    services.audit.admin("bootstrap_admin_key", detail={"key_id": "key_x", "tenant": "platform"})
    [entry] = _entries(platform, action="bootstrap_admin_key")
    assert entry["method"] == "CLI"
    verified = CliRunner().invoke(
        cli_app, ["audit", "verify"], env={"MODELYARD_HOME": str(platform.settings.home),
                                           "MODELYARD_DATABASE_URL": platform.settings.resolved_database_url},
    )  # fmt: skip
    assert verified.exit_code == 0 and "chain intact" in verified.output, verified.output
