"""Item 3 of issue 12: a new tenant's first key is its tenant_admin key; later keys are members."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from modelyard.cli import admin as admin_cli
from modelyard.cli.client import ApiClient
from modelyard.config import Settings
from tests.conftest import Platform

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _me(platform: Platform, key: str) -> dict:
    response = platform.client.get("/v1/me", headers=platform.headers(key))
    assert response.status_code == 200, response.text
    return response.json()


def test_first_key_manages_keys_and_later_keys_are_members(platform: Platform) -> None:
    created = platform.client.post(
        "/v1/admin/tenants", json={"name": "initech"}, headers=platform.headers(platform.admin_key)
    )
    assert created.status_code == 201, created.text
    first = created.json()["key"]
    assert first["role"] == "tenant_admin" and _me(platform, first["key"])["role"] == "tenant_admin"
    # It opens the tenant's keys at once, without the platform admin issuing another.
    own = platform.client.post("/v1/keys", json={"name": "ci"}, headers=platform.headers(first["key"]))
    assert own.status_code == 201, own.text
    assert own.json()["role"] == "member"
    assert platform.client.get("/v1/keys", headers=platform.headers(first["key"])).status_code == 200
    later = platform.client.post(
        "/v1/admin/tenants/initech/keys", json={"name": "later"}, headers=platform.headers(platform.admin_key)
    )
    assert later.status_code == 201 and later.json()["role"] == "member"


@sqlite_only
def test_cli_prints_the_first_key_as_tenant_admin(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    def client(_api_key: str | None) -> ApiClient:
        api = ApiClient(Settings(api_key=platform.admin_key))
        api._http = platform.client  # the app in-process instead of a socket
        platform.client.headers["Authorization"] = f"Bearer {platform.admin_key}"
        return api

    monkeypatch.setattr(admin_cli, "_client", client)
    result = CliRunner().invoke(admin_cli.tenants_app, ["create", "hooli"])
    assert result.exit_code == 0, result.output
    assert "tenant_admin" in result.output
    key = result.output.strip().splitlines()[-1]
    assert _me(platform, key)["role"] == "tenant_admin"
    helped = CliRunner().invoke(admin_cli.tenants_app, ["create", "--help"])
    assert "tenant_admin" in helped.output
