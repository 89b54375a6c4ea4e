"""Who may grant what: a key never creates a key stronger than itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelyard.errors import InvalidRequest, PermissionDenied
from modelyard.tenancy import KeySpec, Principal
from modelyard.tenancy.grants import check_grant
from modelyard.tenancy.roles import ROLE_SCOPES, ROLES, SCOPES, effective_scopes

SOON = datetime.now(UTC) + timedelta(days=1)


def principal(role: str, scopes: set[str] | None = None, **fields: object) -> Principal:
    return Principal(
        key_id="k", tenant_id="t", tenant_name="acme", role=role,
        scopes=effective_scopes(role, scopes), **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def test_every_role_has_known_scopes_and_only_admins_hold_admin() -> None:
    assert set(ROLES) == {"admin", "provider", "tenant_admin", "member"}
    for role, scopes in ROLE_SCOPES.items():
        assert scopes <= set(SCOPES)
        assert ("admin" in scopes) == (role == "admin")
    assert "keys" not in ROLE_SCOPES["member"] and "files" not in ROLE_SCOPES["provider"]


@pytest.mark.parametrize(
    ("granter", "role", "allowed"),
    [
        ("admin", "admin", True),
        ("admin", "provider", True),
        ("tenant_admin", "tenant_admin", True),
        ("tenant_admin", "member", True),
        ("tenant_admin", "provider", False),
        ("tenant_admin", "admin", False),
        ("member", "member", False),
        ("provider", "member", False),
    ],
)
def test_nobody_grants_a_role_above_their_own(granter: str, role: str, allowed: bool) -> None:
    spec = KeySpec(role=role)
    if allowed:
        check_grant(principal(granter), spec)
    else:
        with pytest.raises(PermissionDenied):
            check_grant(principal(granter), spec)


def test_scopes_models_and_life_cannot_grow() -> None:
    narrow = principal("tenant_admin", {"keys", "chat"}, allowed_models=("echo*",), expires_at=SOON)
    check_grant(narrow, KeySpec(scopes=("chat",), allowed_models=("echo-1",), expires_at=SOON))
    for spec in (
        KeySpec(scopes=("files",), allowed_models=("echo",), expires_at=SOON),
        KeySpec(scopes=("chat",), expires_at=SOON),
        KeySpec(scopes=("chat",), allowed_models=("gemma",), expires_at=SOON),
        KeySpec(scopes=("chat",), allowed_models=("echo",)),
        KeySpec(scopes=("chat",), allowed_models=("echo",), expires_at=SOON + timedelta(seconds=1)),
    ):
        with pytest.raises(PermissionDenied):
            check_grant(narrow, spec)


@pytest.mark.parametrize("spec", [KeySpec(role="root"), KeySpec(scopes=("nope",)), KeySpec(scopes=("keys",))])
def test_invalid_specs_are_400(spec: KeySpec) -> None:
    with pytest.raises(InvalidRequest):
        spec.validate()
