"""What a new key may carry, and what the key creating it may hand out.

The rule is that a key never creates, rotates or revokes a key stronger than itself: not
a higher role, not a scope or model it lacks, not a longer life. Without it a narrowed key (say, one made
for a CI job with only ``keys``) could mint itself an unrestricted sibling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from modelyard.errors import InvalidRequest, PermissionDenied
from modelyard.tenancy.keys import Principal
from modelyard.tenancy.roles import GRANTABLE_ROLES, ROLE_SCOPES, ROLES, effective_scopes, unknown_scopes

__all__ = ["KeySpec", "check_grant", "check_manage"]


@dataclass(frozen=True, slots=True)
class KeySpec:
    """Everything a key is, apart from its secret and its tenant."""

    role: str = "member"
    name: str = ""
    scopes: tuple[str, ...] | None = None
    allowed_models: tuple[str, ...] | None = None
    read_only: bool = False
    expires_at: datetime | None = None

    def validate(self) -> None:
        if self.role not in ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(ROLES)}", param="role")
        if self.scopes is None:
            return
        unknown = unknown_scopes(self.scopes)
        if unknown:
            raise InvalidRequest(f"unknown scopes: {', '.join(unknown)}", param="scopes")
        beyond = sorted(set(self.scopes) - ROLE_SCOPES[self.role])
        if beyond:
            raise InvalidRequest(
                f"a {self.role} key cannot hold the scopes: {', '.join(beyond)}", param="scopes"
            )

    @property
    def effective_scopes(self) -> frozenset[str]:
        return effective_scopes(self.role, self.scopes)


def check_manage(granter: Principal, role: str) -> None:
    """``granter`` may create, rotate or revoke keys of ``role``."""
    if role not in GRANTABLE_ROLES.get(granter.role, frozenset()):
        raise PermissionDenied(f"a {granter.role} key cannot manage {role} keys", param="role")


def check_grant(granter: Principal, spec: KeySpec) -> None:
    check_manage(granter, spec.role)
    missing = sorted(spec.effective_scopes - granter.scopes)
    if missing:
        raise PermissionDenied(f"this key cannot grant scopes it lacks: {', '.join(missing)}", param="scopes")
    _check_models(granter, spec)
    _check_expiry(granter, spec)


def _check_models(granter: Principal, spec: KeySpec) -> None:
    if granter.allowed_models is None:
        return
    if spec.allowed_models is None:
        raise PermissionDenied(
            "this key is limited to some models; list them in allowed_models", param="allowed_models"
        )
    beyond = [m for m in spec.allowed_models if not granter.may_use_model(m)]
    if beyond:
        raise PermissionDenied(
            f"this key cannot grant models it lacks: {', '.join(beyond)}", param="allowed_models"
        )


def _check_expiry(granter: Principal, spec: KeySpec) -> None:
    if granter.expires_at is None:
        return
    if spec.expires_at is None or spec.expires_at > granter.expires_at:
        raise PermissionDenied("a key cannot outlive the key that creates it", param="expires_at")
