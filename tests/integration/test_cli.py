"""The CLI against a real server: tenants, keys, models, chat."""

from __future__ import annotations

import httpx

from modelyard.tenancy.keys import KEY_PATTERN
from tests.integration.conftest import LiveServer


def _works(server: LiveServer, key: str) -> bool:
    response = httpx.get(f"{server.base_url}/v1/models", headers={"Authorization": f"Bearer {key}"})
    return response.status_code == 200


def test_first_serve_created_an_admin_key_and_said_where(live_server: LiveServer) -> None:
    log = (live_server.home / "server.log").read_text()
    assert str(live_server.home / "admin.key") in log
    assert live_server.admin_key not in log
    assert _works(live_server, live_server.admin_key)


def test_tenants_create_prints_the_key_last(live_server: LiveServer) -> None:
    result = live_server.cli("tenants", "create", "cli-tenant")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert KEY_PATTERN.match(key) and _works(live_server, key)
    listed = live_server.cli("tenants", "list")
    assert "cli-tenant" in listed.stdout


def test_keys_create_prints_the_key_last(live_server: LiveServer) -> None:
    live_server.cli("tenants", "create", "cli-keys")
    result = live_server.cli("keys", "create", "--tenant", "cli-keys")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert KEY_PATTERN.match(key) and _works(live_server, key)
    key_id = key.split("-")[1]
    assert live_server.cli("keys", "revoke", key_id).returncode == 0
    assert not _works(live_server, key)


def test_cli_errors_are_clear(live_server: LiveServer) -> None:
    result = live_server.cli("keys", "create", "--tenant", "no-such-tenant")
    assert result.returncode == 1
    assert "404" in result.stderr and "no-such-tenant" in result.stderr
    assert "Traceback" not in result.stderr


def test_models_list_shows_the_plaza(live_server: LiveServer) -> None:
    result = live_server.cli("models", "list")
    assert result.returncode == 0, result.stderr
    assert "gemma-3-270m" in result.stdout and "all-minilm-l6-v2" in result.stdout
