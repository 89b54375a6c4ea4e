"""Allow-list entries name scheme, host and port; the gateway never calls itself (address or hop marker)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from modelyard.catalog.secrets import load_or_create_key
from modelyard.errors import InvalidRequest
from modelyard.security import OutboundAllowList, hop_marker, parse_entry
from modelyard.store import Database
from tests.conftest import Platform
from tests.helpers.mock_upstream import MockUpstream

URL = "/v1/admin/outbound-allowlist"


def _register(platform: Platform, base_url: str, model_id: str = "far") -> tuple[int, dict]:
    body = {"kind": "remote", "id": model_id, "base_url": base_url, "upstream_model": "m"}
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    return response.status_code, response.json() if response.content else {}


def test_entries_parse_to_scheme_host_and_port() -> None:
    bare = parse_entry("127.0.0.1")
    assert (bare.scheme, bare.host, bare.port, bare.name) == (None, "127.0.0.1", None, "127.0.0.1")
    assert bare.allows("http", "127.0.0.1", 80) and bare.allows("https", "127.0.0.1", 443)
    assert not bare.allows("http", "127.0.0.1", 6379)
    port = parse_entry("LocalHost:8000")
    assert port.name == "localhost:8000" and port.allows("https", "localhost", 8000)
    assert not port.allows("http", "localhost", 80)
    https = parse_entry("https://10.0.0.5")
    assert https.name == "https://10.0.0.5:443" and https.allows("https", "10.0.0.5", 443)
    assert not https.allows("http", "10.0.0.5", 443)
    assert parse_entry("[::1]:8080").name == "[::1]:8080" and parse_entry("::1").name == "::1"
    for bad in ("http://x/v1", "a:0", "a:70000", "user@a", "gopher://a", "a b", ""):
        with pytest.raises(InvalidRequest):
            parse_entry(bad)


def test_allowing_a_host_opens_only_ports_80_and_443(platform: Platform) -> None:
    platform.allow_outbound("127.0.0.1")
    assert _register(platform, "http://127.0.0.1/v1", "web")[0] == 201
    for n, url in enumerate(("http://127.0.0.1:6379/", "http://127.0.0.1:5432/", "http://2130706433:6379/")):
        status, body = _register(platform, url, f"redis-{n}")
        assert status == 400 and body["error"]["code"] == "outbound_address_refused", (url, body)
    platform.allow_outbound("127.0.0.1:8001")
    assert _register(platform, "http://127.0.0.1:8001/v1", "svc")[0] == 201
    assert _register(platform, "https://127.0.0.1:8001/v1", "svc-tls")[0] == 201
    assert _register(platform, "http://127.0.0.1:8002/v1", "svc-next")[0] == 400
    platform.allow_outbound("https://10.0.0.5")
    assert _register(platform, "https://10.0.0.5/v1", "tls-only")[0] == 201
    assert _register(platform, "http://10.0.0.5/v1", "plain")[0] == 400
    listed = [
        e["host"]
        for e in platform.client.get(URL, headers=platform.headers(platform.admin_key)).json()["data"]
    ]
    assert listed == ["127.0.0.1", "127.0.0.1:8001", "https://10.0.0.5:443"]
    removed = platform.client.delete(
        f"{URL}/https://10.0.0.5:443", headers=platform.headers(platform.admin_key)
    )
    assert removed.status_code == 204


def test_an_allowed_port_is_checked_again_at_call_time(platform: Platform) -> None:
    with MockUpstream() as mock:
        platform.allow_outbound(f"127.0.0.1:{mock.port}")
        assert _register(platform, mock.base_url)[0] == 201
        platform.client.delete(f"{URL}/127.0.0.1:{mock.port}", headers=platform.headers(platform.admin_key))
        platform.client.app.state.services.outbound._cache = None  # as if the 2 s cache had run out
        body = {"model": "far", "messages": [{"role": "user", "content": "hi"}]}
        response = platform.client.post("/v1/chat/completions", json=body, headers=platform.headers())
        assert response.status_code == 502 and response.json()["error"]["code"] == "outbound_address_refused"
        assert mock.requests == []


def test_the_gateway_own_address_is_never_allowed(platform: Platform) -> None:
    port = platform.settings.port
    admin = platform.headers(platform.admin_key)
    for entry in (f"127.0.0.1:{port}", f"http://0.0.0.0:{port}", f"[::1]:{port}"):
        response = platform.client.post(URL, json={"host": entry}, headers=admin)
        assert response.status_code == 400, (entry, response.text)
    platform.allow_outbound(f"localhost:{port}")  # a name: judged by what it resolves to
    for n, url in enumerate(
        (f"http://localhost:{port}/v1", f"http://127.0.0.1:{port}/v1", f"http://0.0.0.0:{port}/v1",
         f"http://[::1]:{port}/v1", f"http://127.0.0.2:{port}/v1", f"http://[::ffff:127.0.0.1]:{port}/v1")
    ):  # fmt: skip
        status, body = _register(platform, url, f"self-{n}")
        assert status == 400 and "gateway's own address" in body["error"]["message"], (url, body)


def test_provider_calls_carry_the_hop_marker_and_a_returning_call_is_refused(platform: Platform) -> None:
    settings = platform.settings
    marker = hop_marker(load_or_create_key(settings.secret_key, settings.secret_key_file))
    with MockUpstream() as mock:
        platform.allow_outbound(f"127.0.0.1:{mock.port}")
        assert _register(platform, mock.base_url)[0] == 201
        body = {"model": "far", "messages": [{"role": "user", "content": "hi"}]}
        assert (
            platform.client.post("/v1/chat/completions", json=body, headers=platform.headers()).status_code
            == 200
        )
        assert mock.requests[-1].headers["x-modelyard-hop"] == marker
    # The same request arriving with our own marker is our own call come back: refused.
    looped = platform.client.post(
        "/v1/chat/completions", json=body, headers={**platform.headers(), "X-Modelyard-Hop": marker}
    )
    assert looped.status_code == 508 and looped.json()["error"]["code"] == "loop_detected"
    # Another installation's marker (a chain of two modelyards) is served.
    other = platform.client.post(
        "/v1/chat/completions", json=body, headers={**platform.headers(), "X-Modelyard-Hop": "0" * 32}
    )
    assert other.status_code != 508


@pytest.fixture
def at_0004(database_url: str) -> Iterator[Database]:
    from alembic import command
    from alembic.config import Config

    from modelyard.store import database as store_database

    db = Database(database_url)
    config = Config()
    config.set_main_option("script_location", str(store_database._MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    yield db
    db.dispose()


def test_a_bare_host_allowed_before_the_upgrade_keeps_meaning_ports_80_and_443(at_0004: Database) -> None:
    with at_0004.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO outbound_allowlist (host, created_by, created_at) VALUES (:h, :b, :t)"),
            {"h": "127.0.0.1", "b": "key_admin", "t": datetime.now(UTC)},
        )
    at_0004.migrate()
    allowlist = OutboundAllowList(at_0004)
    [row] = allowlist.list()
    assert (row.entry, row.host, row.scheme, row.port, row.created_by) == (
        "127.0.0.1",
        "127.0.0.1",
        None,
        None,
        "key_admin",
    )
    assert allowlist.is_allowed("http", "127.0.0.1", 80) and allowlist.is_allowed("https", "127.0.0.1", 443)
    assert not allowlist.is_allowed("http", "127.0.0.1", 6379)
