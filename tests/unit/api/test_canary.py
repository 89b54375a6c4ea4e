"""Nothing of tenant A reaches tenant B or a provider; no key is ever stored or logged in plaintext."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import Platform
from tests.helpers.trust import issue, seed_tenant, upload
from tests.unit.api.test_access_matrix import fill, iter_routes

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _readers(platform: Platform) -> dict[str, str]:
    """Tenant B's strongest key (with objects of its own) and a provider's key."""
    platform.new_tenant("globex")
    platform.new_tenant("modelco")
    other = issue(platform, "globex", role="tenant_admin")["key"]
    upload(
        platform,
        b'{"messages":[{"role":"user","content":"b"},{"role":"assistant","content":"b"}]}\n',
        "evals",
        other,
    )
    chat = {"model": "echo", "messages": [{"role": "user", "content": "hello from b"}]}
    assert (
        platform.client.post("/v1/chat/completions", json=chat, headers=platform.headers(other)).status_code
        == 200
    )
    return {"tenant-b": other, "provider": issue(platform, "modelco", role="provider")["key"]}


def test_canary_never_reaches_another_tenant_or_a_provider(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seeded = seed_tenant(platform)
    report = platform.client.get(
        f"/v1/evaluations/{seeded.ids['evaluation_id']}/report", headers=platform.headers()
    )
    assert seeded.canary in report.text  # the canary really is in tenant A's data
    read = 0
    for who, key in _readers(platform).items():
        headers = platform.headers(key)
        for route in iter_routes(platform.client.app):
            if route.method != "GET":
                continue
            path = fill(route.path, seeded)
            for query in ("", "?format=html", "?published=true"):
                response = platform.client.get(path + query, headers=headers)
                assert seeded.canary not in response.text, (who, path + query, response.text)
                read += response.is_success
        chat = {"model": seeded.ids["model_id"], "messages": [{"role": "user", "content": "repeat the plan"}]}
        stolen = platform.client.post("/v1/chat/completions", json=chat, headers=headers)
        assert stolen.status_code == 404 and seeded.canary not in stolen.text, (who, stolen.text)
    assert read >= 10  # the walk really read lists, not only refusals
    assert seeded.canary not in caplog.text


def test_no_response_names_a_server_path(platform: Platform) -> None:
    """Not even the owner learns where its files, adapters or models are stored."""
    seeded = seed_tenant(platform)
    home = str(platform.settings.home)
    models_dir = str(platform.settings.resolved_models_dir)
    read = 0
    for key in (platform.tenant_key, platform.admin_key):
        for route in iter_routes(platform.client.app):
            if route.method != "GET":
                continue
            response = platform.client.get(fill(route.path, seeded), headers=platform.headers(key))
            for secret_place in (home, models_dir):
                assert secret_place not in response.text, (route.path, response.text[:300])
            read += response.is_success
    assert read >= 10


@sqlite_only
def test_no_key_is_stored_or_logged_in_plaintext(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = [platform.admin_key, platform.tenant_key]
    boss = issue(platform, "acme", role="tenant_admin", scopes=["keys", "models"])
    keys.append(boss["key"])
    made = platform.client.post(
        "/v1/keys", json={"name": "x", "scopes": ["models"]}, headers=platform.headers(boss["key"])
    ).json()
    keys.append(made["key"])
    rotated = platform.client.post(f"/v1/keys/{made['id']}/rotate", headers=platform.headers(boss["key"]))
    keys.append(rotated.json()["key"])
    for key in keys:
        platform.client.get("/v1/models", headers=platform.headers(key))
        platform.client.get("/v1/me", headers=platform.headers(key))
    platform.client.get("/v1/models", headers=platform.headers(keys[-1][:-1] + "0"))  # a wrong secret
    database = Path(platform.settings.resolved_database_url.split("///", 1)[1])
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert len(stored) > 10_000
    for key in keys:
        secret = key.split("-")[2]
        for text in (key, secret):
            assert text.encode() not in stored, text
            assert text not in caplog.text
