"""Tenants and keys on both databases: keys hashed, shown once, revocable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from modelyard.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from modelyard.store import ApiKey, Database
from modelyard.tenancy import KeySpec, TenancyService
from modelyard.tenancy.keys import KEY_PATTERN, hash_key


@pytest.fixture
def tenancy(database_url: str) -> TenancyService:
    db = Database(database_url)
    db.migrate()
    return TenancyService(db, cache_ttl_s=60)


def test_tenant_gets_a_working_first_key(tenancy: TenancyService) -> None:
    tenant, issued = tenancy.create_tenant("acme")
    assert KEY_PATTERN.match(issued.key)
    principal = tenancy.authenticate(issued.key)
    assert (principal.tenant_id, principal.tenant_name, principal.role) == (tenant.id, "acme", "tenant_admin")


def test_key_is_stored_only_as_its_hash(tenancy: TenancyService, database_url: str) -> None:
    _, issued = tenancy.create_tenant("acme")
    db = Database(database_url)
    with db.engine.connect() as conn:
        dump = " ".join(str(row) for row in conn.execute(text("select * from api_keys")))
    assert issued.key not in dump and issued.key.split("-")[2] not in dump
    with db.session() as session:
        assert session.scalars(select(ApiKey)).one().key_hash == hash_key(issued.key)
    db.dispose()


@pytest.mark.parametrize(
    "bad",
    ["", "nonsense", "my-000000000000-" + "0" * 48, "Bearer x", "my-abc-def"],
)
def test_wrong_and_malformed_keys_fail(tenancy: TenancyService, bad: str) -> None:
    tenancy.create_tenant("acme")
    with pytest.raises(AuthenticationFailed):
        tenancy.authenticate(bad)


def test_right_id_wrong_secret_fails_even_when_cached(tenancy: TenancyService) -> None:
    _, issued = tenancy.create_tenant("acme")
    tenancy.authenticate(issued.key)  # now cached
    forged = issued.key[:-1] + ("0" if issued.key[-1] != "0" else "1")
    with pytest.raises(AuthenticationFailed):
        tenancy.authenticate(forged)


def test_revoked_key_fails_at_once(tenancy: TenancyService) -> None:
    _, issued = tenancy.create_tenant("acme")
    tenancy.authenticate(issued.key)
    tenancy.revoke_key(issued.id)
    with pytest.raises(AuthenticationFailed):
        tenancy.authenticate(issued.key)


def test_tenant_names_are_validated_and_unique(tenancy: TenancyService) -> None:
    tenancy.create_tenant("acme")
    with pytest.raises(Conflict):
        tenancy.create_tenant("acme")
    with pytest.raises(InvalidRequest):
        tenancy.create_tenant("Bad Name!")
    with pytest.raises(NotFound):
        tenancy.create_key(tenant="nobody")


def test_admin_bootstrap_happens_once(tenancy: TenancyService, tmp_path: Path) -> None:
    key_file = tmp_path / "admin.key"
    issued = tenancy.ensure_admin_key(key_file)
    assert issued is not None and key_file.read_text().strip() == issued.key
    assert key_file.stat().st_mode & 0o077 == 0
    assert tenancy.authenticate(issued.key).is_admin
    assert tenancy.ensure_admin_key(key_file) is None


# -- roles, scopes, expiry and rotation (both databases) ---------------------------
def _spec(**fields: object) -> KeySpec:
    return KeySpec(**fields)  # type: ignore[arg-type]


def test_key_settings_round_trip_into_the_principal(tenancy: TenancyService) -> None:
    tenancy.create_tenant("acme")
    expires = datetime.now(UTC) + timedelta(hours=1)
    spec = _spec(role="tenant_admin", scopes=("chat", "keys"), allowed_models=("ft:*",), read_only=True,
                 expires_at=expires)  # fmt: skip
    principal = tenancy.authenticate(tenancy.create_key(tenant="acme", spec=spec).key)
    assert principal.is_tenant_admin and principal.scopes == frozenset({"chat", "keys"})
    assert principal.allowed_models == ("ft:*",) and principal.read_only
    assert principal.may_use_model("ft:x:acme:y") and not principal.may_use_model("gemma-3-270m")
    assert abs((principal.expires_at - expires).total_seconds()) < 1


def test_unscoped_key_gets_its_roles_scopes(tenancy: TenancyService) -> None:
    tenancy.create_tenant("acme")
    member = tenancy.authenticate(tenancy.create_key(tenant="acme").key)
    provider = tenancy.authenticate(tenancy.create_key(tenant="acme", role="provider").key)
    assert member.has_scope("files") and not member.has_scope("keys") and not member.has_scope("admin")
    assert provider.has_scope("chat") and not provider.has_scope("files")


def test_expired_key_fails_with_its_own_code(tenancy: TenancyService) -> None:
    tenancy.create_tenant("acme")
    issued = tenancy.create_key(
        tenant="acme", spec=_spec(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    with pytest.raises(AuthenticationFailed) as raised:
        tenancy.authenticate(issued.key)
    assert raised.value.code == "expired_api_key"


def test_rotation_is_one_step_and_refuses_dead_keys(tenancy: TenancyService) -> None:
    tenancy.create_tenant("acme")
    old = tenancy.create_key(tenant="acme", spec=_spec(name="svc", scopes=("chat",)))
    tenancy.authenticate(old.key)
    new = tenancy.rotate_key(old.id)
    with pytest.raises(AuthenticationFailed):
        tenancy.authenticate(old.key)
    principal = tenancy.authenticate(new.key)
    assert principal.scopes == frozenset({"chat"}) and new.row.rotated_from == old.id
    with pytest.raises(Conflict):
        tenancy.rotate_key(old.id)
    expired = tenancy.create_key(
        tenant="acme", spec=_spec(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    with pytest.raises(Conflict):
        tenancy.rotate_key(expired.id)


def test_keys_are_scoped_to_their_tenant(tenancy: TenancyService) -> None:
    acme, _ = tenancy.create_tenant("acme")
    tenancy.create_tenant("globex")
    theirs = tenancy.create_key(tenant="globex")
    for act in (tenancy.get_key, tenancy.revoke_key, tenancy.rotate_key):
        with pytest.raises(NotFound):
            act(theirs.id, tenant_id=acme.id)
    tenancy.authenticate(theirs.key)


def test_last_used_is_recorded(tenancy: TenancyService) -> None:
    tenancy.create_tenant("acme")
    issued = tenancy.create_key(tenant="acme")
    assert tenancy.get_key(issued.id).last_used_at is None
    tenancy.authenticate(issued.key)
    assert tenancy.get_key(issued.id).last_used_at is not None


def test_a_graced_old_key_fails_once_its_grace_ends(
    tenancy: TenancyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard.tenancy import service as service_module

    tenancy.create_tenant("acme")
    old = tenancy.create_key(tenant="acme", spec=_spec(name="svc"))
    new = tenancy.rotate_key(old.id, grace_s=600)
    tenancy.authenticate(old.key)  # within the grace period (and now cached)
    later = datetime.now(UTC) + timedelta(seconds=601)
    monkeypatch.setattr(service_module, "utcnow", lambda: later)
    with pytest.raises(AuthenticationFailed) as raised:
        tenancy.authenticate(old.key)
    assert raised.value.code == "expired_api_key"
    assert tenancy.authenticate(new.key).expires_at is None  # the successor keeps the old terms
