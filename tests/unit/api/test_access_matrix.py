"""Every route × every kind of wrong key: 401/403/404 as designed, never 2xx.

Routes come from walking the app, so a route added anywhere (another engineer's router
included) joins the matrix without an edit here. Path parameters are filled with real
objects of tenant acme, so "another tenant's key" aims at something that exists.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from modelyard.api.deps import ScopeGuard
from modelyard.tenancy import SCOPES
from tests.conftest import Platform
from tests.helpers.trust import Seeded, issue, issue_direct, past, seed_tenant

PUBLIC = {("GET", "/health")}
# Any valid key may call these (who am I; the schema). Listed so a new unscoped route is noticed.
UNSCOPED = {("GET", "/v1/me"), ("GET", "/openapi.json")}
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
# Path parameter names -> the kind of tenant-A object they name, by a word in the name.
_PARAM_KINDS = (("evaluation", "evaluation_id"), ("job", "job_id"), ("file", "file_id"),
                ("model", "model_id"), ("key", "key_id"))  # fmt: skip


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    scope: str | None
    guarded: bool


def iter_routes(app: FastAPI) -> Iterator[Route]:
    """Every (method, path) the app serves, through included routers, with its declared scope.

    Paths under /console are a static mount (the web console): files, not API routes, and
    a Mount has no methods, so the walk passes it by; skipped by name too, to be explicit.
    """
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            if context.path.startswith("/console"):
                continue
            guards = [
                d.dependency
                for d in getattr(context, "dependencies", [])
                if isinstance(d.dependency, ScopeGuard)
            ]
            for method in sorted(getattr(context, "methods", None) or ()):
                if method != "HEAD":
                    scope = guards[0].scope if guards else None
                    yield Route(method, context.path, scope, bool(guards))


def fill(path: str, seeded: Seeded) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("name", "tenant"):
            return "acme"
        for word, kind in _PARAM_KINDS:
            if word in name and kind in seeded.ids:
                return seeded.ids[kind]
        return seeded.ids.get(name, f"zz-{secrets.token_hex(6)}")

    return _PARAM.sub(one, path)


@pytest.fixture
def seeded(platform: Platform) -> Seeded:
    return seed_tenant(platform, run_evaluation=False)


def _api_routes(platform: Platform) -> list[Route]:
    routes = [r for r in iter_routes(platform.client.app) if (r.method, r.path) not in PUBLIC]
    assert len(routes) >= 30
    return routes


def _send(platform: Platform, route: Route, seeded: Seeded, key: str | None):
    headers = platform.headers(key) if key else {}
    return platform.client.request(route.method, fill(route.path, seeded), headers=headers, json={})


def test_every_api_route_declares_a_scope(platform: Platform) -> None:
    routes = _api_routes(platform)
    assert all(r.guarded for r in routes), [r for r in routes if not r.guarded]
    assert {(r.method, r.path) for r in routes if r.scope is None} == UNSCOPED
    assert {r.scope for r in routes} - {None} <= set(SCOPES)
    assert {"chat", "completions", "embeddings", "files", "keys", "admin"} <= {r.scope for r in routes}


def _refused_keys(platform: Platform) -> dict[str, str | None]:
    revoked = issue(platform, "platform", role="admin")
    assert (
        platform.client.delete(
            f"/v1/admin/keys/{revoked['id']}", headers=platform.headers(platform.admin_key)
        ).status_code
        == 204
    )
    return {
        "none": None,
        # Admin keys: nothing but the expiry or the revocation can be the reason for the 401.
        "expired": issue_direct(platform, "platform", role="admin", expires_at=past()),
        "revoked": revoked["key"],
    }


def test_no_expired_or_revoked_key_gets_401_everywhere(platform: Platform, seeded: Seeded) -> None:
    for case, key in _refused_keys(platform).items():
        for route in _api_routes(platform):
            response = _send(platform, route, seeded, key)
            assert response.status_code == 401, (case, route, response.text)
            error = response.json()["error"]
            assert error["type"] == "authentication_error"
            if case == "expired":
                assert error["code"] == "expired_api_key", (route, error)


def test_key_without_the_scope_gets_403_everywhere(platform: Platform, seeded: Seeded) -> None:
    keys: dict[str, str] = {}
    checked = 0
    for route in _api_routes(platform):
        if route.scope is None:
            continue
        if route.scope not in keys:
            # An admin key with every other scope: only the missing scope can refuse it.
            others = [s for s in SCOPES if s != route.scope]
            keys[route.scope] = issue(platform, "platform", role="admin", scopes=others)["key"]
        response = _send(platform, route, seeded, keys[route.scope])
        assert response.status_code == 403, (route, response.text)
        assert response.json()["error"]["code"] == "missing_scope", (route, response.text)
        checked += 1
    assert checked >= 25


def test_other_tenants_key_never_reaches_tenant_a(platform: Platform, seeded: Seeded) -> None:
    platform.new_tenant("globex")
    other = issue(platform, "globex", role="tenant_admin")["key"]  # the strongest tenant key
    sent = ""
    for route in _api_routes(platform):
        response = _send(platform, route, seeded, other)
        assert response.status_code != 500, (route, response.text)
        # A response may repeat an id globex sent (in an error, or in globex's own audit
        # entries of its earlier requests); anything else of acme's is a leak.
        sent += response.request.url.path + response.request.content.decode(errors="replace")
        leaked = [s for s in seeded.secrets if s in response.text and s not in sent]
        assert not leaked, (route, leaked, response.text)
        if "{" not in route.path:
            continue  # a collection route acts on globex's own objects; the grep above is the check
        assert not response.is_success, (route, response.text)
        expected = {403} if route.scope == "admin" else {404}
        if route.method != "GET":
            expected |= {400, 403}  # a body may be refused before the lookup; never a success
        assert response.status_code in expected, (route, response.text)


# -- bodies: privilege fields are refused ------------------------------------------
def _body_models(app: FastAPI) -> Iterator[tuple[Route, type[BaseModel]]]:
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            field = getattr(context, "body_field", None)
            if field is None:
                continue
            annotation = field.field_info.annotation
            members = getattr(annotation, "__args__", None) or (annotation,)
            for member in members:
                if isinstance(member, type) and issubclass(member, BaseModel):
                    for method in context.methods:
                        yield Route(method, context.path, None, True), member


def test_every_body_model_forbids_extra_fields(platform: Platform) -> None:
    found = list(_body_models(platform.client.app))
    assert len(found) >= 10
    for route, model in found:
        with pytest.raises(ValidationError) as raised:
            model.model_validate({"tenant_id": "ten_x", "owner": "someone", "role": "admin", "kind": "local"})
        extra = {e["loc"][0] for e in raised.value.errors() if e["type"] == "extra_forbidden"}
        assert {"tenant_id", "owner"} <= extra, (route, model, raised.value.errors())


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/keys", {"name": "x", "tenant_id": "ten_other"}),
        ("/v1/admin/tenants/acme/keys", {"name": "x", "owner": "globex"}),
        ("/v1/admin/tenants", {"name": "evil", "tenant_id": "ten_other"}),
        ("/v1/files/file-x/split", {"tenant_id": "ten_other"}),
    ],
)
def test_privilege_fields_in_a_body_are_refused_by_name(platform: Platform, path: str, body: dict) -> None:
    response = platform.client.post(path, json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 400, response.text
    field = next(k for k in body if k in ("tenant_id", "owner"))
    assert response.json()["error"]["param"] == field
