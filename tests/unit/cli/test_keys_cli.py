"""`modelyard keys create/rotate/revoke` against the in-process app."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from modelyard.cli import admin as admin_cli
from modelyard.tenancy.keys import KEY_PATTERN
from tests.conftest import Platform
from tests.helpers.cli import in_process

runner = CliRunner()
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Platform:
    monkeypatch.setattr(admin_cli, "_client", in_process(platform, platform.admin_key))
    return platform


def _status(platform: Platform, key: str) -> int:
    return platform.client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code


def _me(platform: Platform, key: str) -> dict:
    return platform.client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).json()


@sqlite_only
def test_create_with_settings_rotate_and_revoke(cli: Platform) -> None:
    args = ["create", "--tenant", "acme", "--role", "tenant_admin", "--scope", "chat", "--scope", "keys",
            "--model", "echo", "--read-only", "--expires-in", "30d"]  # fmt: skip
    created = runner.invoke(admin_cli.keys_app, args)
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert KEY_PATTERN.match(key)
    me = _me(cli, key)
    assert (
        me["role"] == "tenant_admin" and me["scopes"] == ["chat", "keys"] and me["allowed_models"] == ["echo"]
    )
    assert me["read_only"] is True and me["expires_at"] is not None

    rotated = runner.invoke(admin_cli.keys_app, ["rotate", me["key_id"]])
    assert rotated.exit_code == 0, rotated.output
    new_key = rotated.output.strip().splitlines()[-1]
    assert KEY_PATTERN.match(new_key) and new_key != key
    assert _status(cli, key) == 401 and _me(cli, new_key)["scopes"] == ["chat", "keys"]

    graced = runner.invoke(admin_cli.keys_app, ["rotate", _me(cli, new_key)["key_id"], "--grace", "1h"])
    assert graced.exit_code == 0, graced.output
    assert "works for 1h more" in graced.output
    newest = graced.output.strip().splitlines()[-1]
    assert _status(cli, new_key) == 200 and _status(cli, newest) == 200  # both, for the hour

    revoked = runner.invoke(admin_cli.keys_app, ["revoke", _me(cli, newest)["key_id"]])
    assert revoked.exit_code == 0 and _status(cli, newest) == 401


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("15m", 900), ("12h", 43200), ("30d", 2592000)])
def test_durations(text: str, seconds: int) -> None:
    assert admin_cli.parse_duration(text) == seconds


@sqlite_only
def test_bad_duration_is_a_clear_error(cli: Platform) -> None:
    result = runner.invoke(admin_cli.keys_app, ["create", "--tenant", "acme", "--expires-in", "soon"])
    assert result.exit_code == 1 and "soon" in result.output
