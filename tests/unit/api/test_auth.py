"""Every route but GET /health refuses a missing, wrong or malformed key with 401."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from tests.conftest import Platform

PUBLIC = {("GET", "/health")}
# The web console's page and built assets: the same files for everyone, holding no data.
# Every data call the page makes goes to /v1/... with the key the user typed.
CONSOLE = {("GET", "/console"), ("GET", "/console/"), ("GET", "/console/assets/{name}")}
WRONG_KEY = "my-000000000000-" + "0" * 48


def iter_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app serves, through included routers."""
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            for method in sorted(getattr(context, "methods", None) or ()):
                if method != "HEAD":
                    yield method, context.path


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


BAD_HEADERS = {
    "none": {},
    "wrong": {"Authorization": f"Bearer {WRONG_KEY}"},
    "malformed": {"Authorization": "Bearer not-a-key"},
    "not-bearer": {"Authorization": f"Basic {WRONG_KEY}"},
    "empty": {"Authorization": "Bearer "},
}


def test_route_walk_finds_the_api(platform: Platform) -> None:
    routes = set(iter_routes(platform.client.app))
    assert {("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("POST", "/v1/embeddings")} <= routes
    assert len(routes) >= 10


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_every_route_rejects_bad_keys(platform: Platform, case: str) -> None:
    checked = 0
    for method, path in iter_routes(platform.client.app):
        if (method, path) in PUBLIC | CONSOLE:
            continue
        response = platform.client.request(method, concrete(path), headers=BAD_HEADERS[case], json={})
        assert response.status_code == 401, (method, path, response.text)
        error = response.json()["error"]
        assert error["type"] == "authentication_error" and error["message"]
        assert set(error) == {"message", "type", "param", "code"}
        checked += 1
    assert checked >= 10


def test_health_needs_no_key(platform: Platform) -> None:
    assert platform.client.get("/health").json()["status"] == "ok"


def test_member_key_cannot_administer(platform: Platform) -> None:
    response = platform.client.post("/v1/admin/tenants", json={"name": "evil"}, headers=platform.headers())
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error"


def test_revoked_key_gets_401(platform: Platform) -> None:
    admin = platform.headers(platform.admin_key)
    issued = platform.client.post("/v1/admin/tenants/acme/keys", json={}, headers=admin).json()
    assert platform.client.get("/v1/models", headers=platform.headers(issued["key"])).status_code == 200
    assert platform.client.delete(f"/v1/admin/keys/{issued['id']}", headers=admin).status_code == 204
    assert platform.client.get("/v1/models", headers=platform.headers(issued["key"])).status_code == 401
