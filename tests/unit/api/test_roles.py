"""Roles, scopes and keys over HTTP: providers, tenant admins, read-only, models, expiry, rotation."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Platform
from tests.helpers.trust import add_model, issue, upload

REMOTE = {"kind": "remote", "base_url": "https://llm.example.com/v1", "upstream_model": "m"}


def _get(platform: Platform, path: str, key: str):
    return platform.client.get(path, headers=platform.headers(key))


def _post(platform: Platform, path: str, key: str, body: dict | None = None):
    return platform.client.post(path, json=body or {}, headers=platform.headers(key))


def _error(response) -> dict:
    return response.json()["error"]


# -- /v1/me ------------------------------------------------------------------------
def test_me_says_who_the_key_is_and_never_the_key(platform: Platform) -> None:
    issued = issue(platform, "acme", name="ci", scopes=["chat"], allowed_models=["echo"], expires_in_s=3600)
    me = _get(platform, "/v1/me", issued["key"])
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["key_id"] == issued["id"] and body["tenant"] == "acme" and body["role"] == "member"
    assert body["scopes"] == ["chat"] and body["allowed_models"] == ["echo"] and body["read_only"] is False
    assert abs(body["expires_at"] - (time.time() + 3600)) < 60
    assert issued["key"] not in me.text and issued["key"].split("-")[2] not in me.text


def test_me_lists_what_the_key_may_grant_and_the_server_agrees(platform: Platform) -> None:
    """The console builds its key form from ``grantable_roles``: every role listed there (with
    every scope listed for it) is accepted by ``POST /v1/keys``, and no role left out is."""
    admin = _get(platform, "/v1/me", platform.admin_key).json()["grantable_roles"]
    assert list(admin) == ["member", "tenant_admin", "provider", "admin"]  # weakest first
    assert admin["provider"] == ["models", "chat", "completions", "embeddings", "usage"]
    assert "admin" in admin["admin"] and "keys" not in admin["member"]
    member = issue(platform, "acme")["key"]
    assert _get(platform, "/v1/me", member).json()["grantable_roles"] == {}
    boss = issue(platform, "acme", role="tenant_admin")["key"]
    offered = _get(platform, "/v1/me", boss).json()["grantable_roles"]
    assert list(offered) == ["member", "tenant_admin"]
    for role in ("member", "tenant_admin", "provider", "admin"):
        body = {"name": role, "role": role}
        if role in offered:
            body["scopes"] = offered[role]
        created = _post(platform, "/v1/keys", boss, body)
        assert created.status_code == (201 if role in offered else 403), (role, created.text)
        if role in offered:
            assert _get(platform, "/v1/me", created.json()["key"]).json()["scopes"] == sorted(offered[role])


# -- providers -------------------------------------------------------------------
@pytest.fixture
def providers(platform: Platform) -> tuple[str, str]:
    platform.new_tenant("modelco")
    platform.new_tenant("rivalco")
    return issue(platform, "modelco", role="provider")["key"], issue(platform, "rivalco", role="provider")[
        "key"
    ]


def test_provider_publishes_public_models_and_removes_only_its_own(
    platform: Platform, providers: tuple[str, str]
) -> None:
    mine, rival = providers
    published = _post(platform, "/v1/models", mine, {**REMOTE, "id": "modelco-7b"})
    assert published.status_code == 201, published.text
    assert published.json()["card"]["provider"] == "modelco"
    assert _post(platform, "/v1/models", rival, {**REMOTE, "id": "rival-7b"}).status_code == 201
    # public: every tenant sees it; ?published=true lists only the provider's own
    assert "modelco-7b" in [m["id"] for m in _get(platform, "/v1/models", platform.tenant_key).json()["data"]]
    own = [m["id"] for m in _get(platform, "/v1/models?published=true", mine).json()["data"]]
    assert own == ["modelco-7b"]
    for model in ("rival-7b", "gemma-3-270m"):
        refused = platform.client.delete(f"/v1/models/{model}", headers=platform.headers(mine))
        assert refused.status_code == 403, refused.text
    assert platform.client.delete("/v1/models/modelco-7b", headers=platform.headers(mine)).status_code == 204
    assert _get(platform, "/v1/models/modelco-7b", platform.tenant_key).status_code == 404


def test_provider_cannot_read_tenant_data_or_register_server_folders(
    platform: Platform, providers: tuple[str, str], tmp_path
) -> None:
    mine, _ = providers
    for path in ("/v1/files", "/v1/fine_tuning/jobs", "/v1/evaluations", "/v1/keys", "/v1/admin/tenants"):
        response = _get(platform, path, mine)
        assert response.status_code == 403 and _error(response)["code"] == "missing_scope", (
            path,
            response.text,
        )
    local = _post(platform, "/v1/models", mine, {"kind": "local", "id": "x", "path": str(tmp_path)})
    assert local.status_code == 403


def test_members_and_tenant_admins_cannot_publish(platform: Platform) -> None:
    boss = issue(platform, "acme", role="tenant_admin")["key"]
    for key in (platform.tenant_key, boss):
        assert _post(platform, "/v1/models", key, {**REMOTE, "id": "sneaky"}).status_code == 403


# -- tenant admins and their keys ------------------------------------------------
def test_tenant_admin_manages_only_its_own_tenants_keys(platform: Platform) -> None:
    boss = issue(platform, "acme", role="tenant_admin")["key"]
    created = _post(platform, "/v1/keys", boss, {"name": "worker", "scopes": ["chat", "models"]})
    assert created.status_code == 201, created.text
    worker = created.json()
    assert (
        worker["role"] == "member" and worker["tenant"] == "acme" and worker["scopes"] == ["chat", "models"]
    )
    assert _get(platform, "/v1/models", worker["key"]).status_code == 200
    listed = _get(platform, "/v1/keys", boss).json()["data"]
    assert worker["id"] in [k["id"] for k in listed]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    for role in ("admin", "provider"):
        refused = _post(platform, "/v1/keys", boss, {"role": role})
        assert refused.status_code == 403 and _error(refused)["param"] == "role", refused.text

    platform.new_tenant("globex")
    stranger = issue(platform, "globex", name="theirs")
    for method, path in [
        ("GET", f"/v1/keys/{stranger['id']}"),
        ("DELETE", f"/v1/keys/{stranger['id']}"),
        ("POST", f"/v1/keys/{stranger['id']}/rotate"),
    ]:
        assert platform.client.request(method, path, headers=platform.headers(boss)).status_code == 404
    assert stranger["id"] not in str(_get(platform, "/v1/keys", boss).json())
    assert _get(platform, "/v1/models", stranger["key"]).status_code == 200  # untouched

    assert (
        platform.client.delete(f"/v1/keys/{worker['id']}", headers=platform.headers(boss)).status_code == 204
    )
    assert _get(platform, "/v1/models", worker["key"]).status_code == 401


def test_member_cannot_manage_keys(platform: Platform) -> None:
    member = issue(platform, "acme")["key"]  # the tenant's first key is its tenant_admin
    response = _post(platform, "/v1/keys", member, {"name": "mine"})
    assert response.status_code == 403 and _error(response)["type"] == "permission_error"
    assert _get(platform, "/v1/keys", member).status_code == 403


def test_a_narrowed_key_cannot_mint_a_wider_one(platform: Platform) -> None:
    narrow = issue(platform, "acme", role="tenant_admin", scopes=["keys", "chat"], allowed_models=["echo"])
    key = narrow["key"]
    wider = _post(platform, "/v1/keys", key, {"scopes": ["files"], "allowed_models": ["echo"]})
    assert wider.status_code == 403 and _error(wider)["param"] == "scopes"
    any_model = _post(platform, "/v1/keys", key, {"scopes": ["chat"]})
    assert any_model.status_code == 403 and _error(any_model)["param"] == "allowed_models"
    longer = issue(platform, "acme", role="tenant_admin", expires_in_s=600)["key"]
    forever = _post(platform, "/v1/keys", longer, {})
    assert forever.status_code == 403 and _error(forever)["param"] == "expires_at"
    assert _post(platform, "/v1/keys", longer, {"expires_in_s": 60}).status_code == 201
    ok = _post(platform, "/v1/keys", key, {"scopes": ["chat"], "allowed_models": ["echo"]})
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"role": "root"}, "role"),
        ({"scopes": ["everything"]}, "scopes"),
        ({"role": "member", "scopes": ["admin"]}, "scopes"),
        ({"expires_in_s": 0}, "expires_in_s"),
        ({"expires_at": 1}, "body"),
        ({"expires_in_s": 60, "expires_at": 4_000_000_000}, "body"),
        ({"expires_at": 10**16}, "body"),  # found by the fuzzer: past any datetime
    ],
)
def test_bad_key_bodies_name_the_field(platform: Platform, body: dict, param: str) -> None:
    response = _post(platform, "/v1/admin/tenants/acme/keys", platform.admin_key, body)
    assert response.status_code == 400, response.text
    assert _error(response)["param"] == param


# -- what a key may do -----------------------------------------------------------
def test_read_only_key_reads_but_never_writes(platform: Platform) -> None:
    reader = issue(platform, "acme", read_only=True)["key"]
    upload(
        platform,
        b'{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}\n',
        "evals",
    )
    assert _get(platform, "/v1/files", reader).status_code == 200
    assert _get(platform, "/v1/me", reader).json()["read_only"] is True
    for path in ("/v1/chat/completions", "/v1/evaluations", "/v1/fine_tuning/jobs"):
        response = _post(platform, path, reader, {})
        assert response.status_code == 403 and _error(response)["code"] == "read_only_key", path
    files = platform.client.post(
        "/v1/files",
        files={"file": ("d.jsonl", b"{}")},
        data={"purpose": "evals"},
        headers=platform.headers(reader),
    )
    assert files.status_code == 403


def test_allowed_models_limit_what_a_key_sees_and_calls(platform: Platform) -> None:
    add_model(platform, "echo")
    add_model(platform, "echo-large")
    limited = issue(platform, "acme", allowed_models=["echo"])["key"]
    listed = [m["id"] for m in _get(platform, "/v1/models", limited).json()["data"]]
    assert listed == ["echo"]
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    assert _post(platform, "/v1/chat/completions", limited, {**chat, "model": "echo"}).status_code == 200
    refused = _post(platform, "/v1/chat/completions", limited, {**chat, "model": "echo-large"})
    assert refused.status_code == 403 and _error(refused)["code"] == "model_not_allowed"
    assert _get(platform, "/v1/models/echo-large", limited).status_code == 403
    assert _get(platform, "/v1/models/no-such", limited).status_code == 404
    wild = issue(platform, "acme", allowed_models=["echo*"])["key"]
    assert _post(platform, "/v1/chat/completions", wild, {**chat, "model": "echo-large"}).status_code == 200


def test_expired_key_is_401_even_from_the_cache(platform: Platform) -> None:
    issued = issue(platform, "acme", expires_in_s=1)
    assert _get(platform, "/v1/models", issued["key"]).status_code == 200  # now cached
    time.sleep(1.2)
    response = _get(platform, "/v1/models", issued["key"])
    assert response.status_code == 401
    assert _error(response)["code"] == "expired_api_key"


def test_rotation_kills_the_old_key_at_once_and_keeps_the_settings(platform: Platform) -> None:
    boss = issue(platform, "acme", role="tenant_admin")["key"]
    old = _post(
        platform, "/v1/keys", boss, {"name": "svc", "scopes": ["chat", "models"], "read_only": True}
    ).json()
    assert _get(platform, "/v1/models", old["key"]).status_code == 200  # cached before the rotation
    rotated = _post(platform, f"/v1/keys/{old['id']}/rotate", boss)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert _get(platform, "/v1/models", old["key"]).status_code == 401
    assert _get(platform, "/v1/models", new["key"]).status_code == 200
    assert new["rotated_from"] == old["id"] and new["id"] != old["id"]
    settings = ("name", "role", "scopes", "allowed_models", "read_only", "expires_at")
    assert {k: new[k] for k in settings} == {k: old[k] for k in settings}
    again = _post(platform, f"/v1/keys/{old['id']}/rotate", boss)
    assert again.status_code == 409


def test_rotation_with_a_grace_period_keeps_the_old_key_until_it_ends(platform: Platform) -> None:
    boss = issue(platform, "acme", role="tenant_admin")["key"]
    old = _post(platform, "/v1/keys", boss, {"name": "svc", "expires_in_s": 86400}).json()
    assert _get(platform, "/v1/models", old["key"]).status_code == 200  # cached before the rotation
    rotated = _post(platform, f"/v1/keys/{old['id']}/rotate", boss, {"grace_s": 3600})
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    # Both work: the old one now ends with its grace period, the new one keeps the old terms.
    old_me = _get(platform, "/v1/me", old["key"]).json()
    assert abs(old_me["expires_at"] - (time.time() + 3600)) < 60
    assert _get(platform, "/v1/models", new["key"]).status_code == 200
    assert new["expires_at"] == old["expires_at"]
    # One rotation per key: the next one starts from the successor.
    again = _post(platform, f"/v1/keys/{old['id']}/rotate", boss, {"grace_s": 60})
    assert (
        again.status_code == 409
        and _error(again)["code"] == "key_rotated"
        and new["id"] in _error(again)["message"]
    )
    assert _post(platform, f"/v1/keys/{new['id']}/rotate", boss).status_code == 201
    # A grace period never lengthens a key's life, and is bounded.
    short = _post(platform, "/v1/keys", boss, {"name": "short", "expires_in_s": 600}).json()
    assert _post(platform, f"/v1/keys/{short['id']}/rotate", boss, {"grace_s": 7200}).status_code == 201
    assert _get(platform, "/v1/me", short["key"]).json()["expires_at"] == short["expires_at"]
    for body, param in (
        ({"grace_s": 8 * 86400}, "grace_s"),
        ({"grace_s": -1}, "grace_s"),
        ({"tenant_id": "x"}, "tenant_id"),
    ):
        refused = _post(platform, f"/v1/admin/keys/{new['id']}/rotate", platform.admin_key, body)
        assert refused.status_code == 400 and param in (_error(refused)["param"] or ""), refused.text


def test_admin_rotates_any_tenants_key(platform: Platform) -> None:
    old = issue(platform, "acme", role="provider")
    new = _post(platform, f"/v1/admin/keys/{old['id']}/rotate", platform.admin_key)
    assert new.status_code == 201 and new.json()["role"] == "provider" and new.json()["tenant"] == "acme"
    assert _get(platform, "/v1/models", old["key"]).status_code == 401
    assert _get(platform, "/v1/models", new.json()["key"]).status_code == 200
