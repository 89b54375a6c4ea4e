"""Revoke and rotate follow the grant rule of create: a key acts only on keys no stronger than itself."""

from __future__ import annotations

from tests.conftest import Platform
from tests.helpers.trust import issue


def _narrowed_and_full(platform: Platform) -> tuple[str, dict, str]:
    full = issue(platform, "acme", role="tenant_admin", name="boss")
    narrowed = issue(platform, "acme", role="tenant_admin", scopes=["keys"], expires_in_s=3600)
    return narrowed["key"], full, full["key"]


def test_a_narrowed_key_cannot_revoke_a_full_tenant_admin_key(platform: Platform) -> None:
    narrowed, full, full_key = _narrowed_and_full(platform)
    response = platform.client.delete(f"/v1/keys/{full['id']}", headers=platform.headers(narrowed))
    assert response.status_code == 403, response.text
    assert platform.client.get("/v1/models", headers=platform.headers(full_key)).status_code == 200


def test_a_narrowed_key_cannot_rotate_a_full_tenant_admin_key(platform: Platform) -> None:
    narrowed, full, full_key = _narrowed_and_full(platform)
    response = platform.client.post(
        f"/v1/keys/{full['id']}/rotate", json={}, headers=platform.headers(narrowed)
    )
    assert response.status_code == 403, response.text
    assert platform.client.get("/v1/models", headers=platform.headers(full_key)).status_code == 200


def test_a_narrowed_key_still_revokes_keys_no_stronger_than_itself(platform: Platform) -> None:
    narrowed, _, _ = _narrowed_and_full(platform)
    weaker = platform.client.post(
        "/v1/keys",
        json={"scopes": ["keys"], "role": "tenant_admin", "expires_in_s": 600},
        headers=platform.headers(narrowed),
    )
    assert weaker.status_code == 201, weaker.text
    weak = weaker.json()
    revoked = platform.client.delete(f"/v1/keys/{weak['id']}", headers=platform.headers(narrowed))
    assert revoked.status_code == 204
    assert platform.client.get("/v1/me", headers=platform.headers(weak["key"])).status_code == 401
    # A key may always retire itself: it is no stronger than itself.
    me = platform.client.get("/v1/me", headers=platform.headers(narrowed)).json()
    assert (
        platform.client.delete(f"/v1/keys/{me['key_id']}", headers=platform.headers(narrowed)).status_code
        == 204
    )


def test_a_narrowed_admin_key_cannot_revoke_a_full_admin_key(platform: Platform) -> None:
    narrowed = issue(platform, "platform", role="admin", scopes=["admin"], expires_in_s=3600)["key"]
    full = issue(platform, "platform", role="admin")
    response = platform.client.delete(f"/v1/admin/keys/{full['id']}", headers=platform.headers(narrowed))
    assert response.status_code == 403, response.text
    assert platform.client.get("/v1/me", headers=platform.headers(full["key"])).status_code == 200
