"""The outbound guard: internal addresses refused in every spelling, unless allow-listed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from modelyard.backends import BackendContext, GenerationParams, ModelSpec, create_backend
from modelyard.errors import InvalidRequest, UpstreamError
from modelyard.prompting import Message
from modelyard.security import OutboundGuard
from modelyard.security.outbound import normalise_host
from tests.conftest import Platform
from tests.helpers.deadlines import scaled
from tests.helpers.mock_upstream import MockUpstream

REFUSED_URLS = [
    "http://127.0.0.1",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:8080/v1",
    "http://10.0.0.1/v1",
    "http://2130706433/v1",
    "http://0x7f000001/v1",
    "http://0177.0.0.1/v1",
    "http://127.1/v1",
    "http://[::ffff:127.0.0.1]/v1",
    "http://[::ffff:a9fe:a9fe]/v1",
    "http://[64:ff9b::7f00:1]/v1",
    "http://[fe80::1]/v1",
    "http://0.0.0.0/v1",
    "http://224.0.0.1/v1",
    "http://100.64.0.1/v1",
    "http://192.168.1.10/v1",
    "https://localhost/v1",
    "file:///etc/passwd",
    "gopher://example.com/",
    "http:///v1",
]
DNS = {
    "api.provider.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "localhost": ["127.0.0.1", "::1"],
    "sneaky.test": ["93.184.216.34", "10.1.2.3"],
    "intranet.test": ["172.16.5.5"],
}


def fake_resolver(host: str) -> Sequence[str]:
    if host not in DNS:
        raise OSError(f"unknown host {host}")
    return DNS[host]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_internal_or_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        OutboundGuard(resolver=fake_resolver).check_url(url)
    assert caught.value.code == "outbound_address_refused"


@pytest.mark.parametrize("host", ["sneaky.test", "intranet.test"])
def test_a_name_with_any_internal_address_is_refused_without_naming_the_address(host: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        OutboundGuard(resolver=fake_resolver).check_url(f"https://{host}/v1")
    assert host in caught.value.message
    assert "10.1.2.3" not in caught.value.message and "172.16" not in caught.value.message


def test_a_public_host_is_allowed_and_connects_to_its_checked_address() -> None:
    guard = OutboundGuard(resolver=fake_resolver)
    guard.check_url("https://api.provider.test/v1")
    assert guard.connect_address("api.provider.test") == "93.184.216.34"
    assert guard.connect_address("8.8.8.8") == "8.8.8.8"


def test_an_allow_listed_internal_host_is_allowed_in_any_spelling() -> None:
    allowed = {"127.0.0.1", "intranet.test"}
    guard = OutboundGuard(lambda scheme, host, port: host in allowed, resolver=fake_resolver)
    for url in ("http://127.0.0.1:8000/v1", "http://2130706433/v1", "http://intranet.test/v1"):
        guard.check_url(url)
    with pytest.raises(InvalidRequest):
        guard.check_url("http://[::1]/v1")  # allowing 127.0.0.1 does not allow ::1


def test_an_unresolvable_host_is_accepted_at_registration_and_refused_to_connect() -> None:
    guard = OutboundGuard(resolver=fake_resolver)
    guard.check_url("https://not-yet-in-dns.test/v1")
    with pytest.raises(OSError):
        guard.connect_address("not-yet-in-dns.test")


def test_hosts_are_normalised_for_the_allow_list() -> None:
    assert normalise_host("LLM.Example.COM.") == "llm.example.com"
    assert normalise_host("0x7f000001") == "127.0.0.1"
    assert normalise_host("[::1]") == "::1"


# -- at call time ------------------------------------------------------------------
@pytest.fixture(scope="module")
def upstream() -> Iterator[MockUpstream]:
    with MockUpstream() as server:
        yield server


def _chat(base_url: str, guard: OutboundGuard | None) -> str:
    context = BackendContext(
        models_dir=Path("unused"), upstream_connect_timeout_s=scaled(2.0), outbound=guard
    )
    spec = ModelSpec(id="r", backend="openai-compatible", task="chat",
                     source={"base_url": base_url, "upstream_model": "mock-model"})  # fmt: skip

    async def main() -> str:
        backend = create_backend(spec, context)
        try:
            result = await backend.chat([Message("user", "hi")], GenerationParams())  # type: ignore[union-attr]
            return result.choices[0].text
        finally:
            await backend.close()

    return asyncio.run(main())


def test_a_name_that_now_resolves_inside_is_refused_at_connect_time(upstream: MockUpstream) -> None:
    # Registered while it pointed outside; now its DNS answers with loopback (rebinding).
    upstream.reset()
    DNS["rebound.test"] = ["127.0.0.1"]
    try:
        with pytest.raises(UpstreamError) as caught:
            _chat(f"http://rebound.test:{upstream.port}/v1", OutboundGuard(resolver=fake_resolver))
    finally:
        del DNS["rebound.test"]
    assert caught.value.code == "outbound_address_refused" and upstream.requests == []


def test_a_context_without_a_guard_refuses_loopback(upstream: MockUpstream) -> None:
    upstream.reset()
    with pytest.raises(UpstreamError):
        _chat(upstream.base_url, None)
    assert upstream.requests == []


def test_an_allow_listed_loopback_upstream_answers(upstream: MockUpstream) -> None:
    upstream.reset()
    assert _chat(upstream.base_url, OutboundGuard(lambda s, h, p: h == "127.0.0.1")) == "You said: hi"


# -- over HTTP ---------------------------------------------------------------------
def _register(platform: Platform, base_url: str) -> tuple[int, dict]:
    body = {"kind": "remote", "id": "far", "base_url": base_url, "upstream_model": "m"}
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    return response.status_code, response.json() if response.content else {}


def test_registration_refuses_internal_urls_with_a_400(platform: Platform) -> None:
    for url in ("http://127.0.0.1:9/v1", "http://169.254.169.254", "http://[::1]/", "http://10.0.0.1",
                "http://2130706433/v1", "file:///etc/passwd"):  # fmt: skip
        status, body = _register(platform, url)
        assert status == 400, (url, body)
        assert body["error"]["code"] == "outbound_address_refused", (url, body)


def test_the_allow_list_over_http(platform: Platform) -> None:
    admin = platform.headers(platform.admin_key)
    url = "/v1/admin/outbound-allowlist"
    for bad in ("http://x/v1", "a.test:99999", "user@a.test", "ftp://a.test", "a.test:"):
        assert platform.client.post(url, json={"host": bad}, headers=admin).status_code == 400, bad
    # Found by the fuzzer: inet_aton raises ValueError, not OSError, on a NUL.
    assert platform.client.post(url, json={"host": "a\x00b"}, headers=admin).status_code == 400
    assert (
        platform.client.post(url, json={"host": "127.0.0.1"}, headers=platform.headers()).status_code == 403
    )
    platform.allow_outbound("0x7F000001:9")
    listed = platform.client.get(url, headers=admin).json()["data"]
    assert [e["host"] for e in listed] == ["127.0.0.1:9"] and listed[0]["created_by"]
    assert _register(platform, "http://127.0.0.1:9/v1")[0] == 201
    assert platform.client.delete(f"{url}/127.0.0.1:9", headers=admin).status_code == 204
    assert platform.client.delete(f"{url}/127.0.0.1:9", headers=admin).status_code == 404
    assert platform.client.get(url, headers=admin).json()["data"] == []


def test_a_redirect_to_a_private_host_is_refused_with_a_502(
    platform: Platform, upstream: MockUpstream
) -> None:
    upstream.reset()
    platform.allow_outbound(f"127.0.0.1:{upstream.port}")
    assert _register(platform, upstream.base_url)[0] == 201
    upstream.redirect_to = "http://169.254.169.254/latest/meta-data"
    body = {"model": "far", "messages": [{"role": "user", "content": "hi"}]}
    response = platform.client.post("/v1/chat/completions", json=body, headers=platform.headers())
    assert response.status_code == 502
    assert "upstream redirected" in response.json()["error"]["message"]
    assert "169.254" not in response.text
    assert [r.path for r in upstream.requests] == ["/v1/chat/completions"]
