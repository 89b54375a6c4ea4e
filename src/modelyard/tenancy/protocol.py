"""Wire models for keys and the caller's identity (pydantic only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelyard.store import ApiKey
from modelyard.store.tables import unix_seconds
from modelyard.tenancy.grants import KeySpec
from modelyard.tenancy.keys import Principal
from modelyard.tenancy.roles import effective_scopes, grantable_roles
from modelyard.tenancy.service import IssuedKey

__all__ = ["KeyIn", "RotateIn", "issued_object", "key_object", "principal_object"]

Role = Literal["admin", "provider", "tenant_admin", "member"]
ModelName = Annotated[str, Field(min_length=1, max_length=200)]
_TEN_YEARS_S = 10 * 365 * 24 * 3600
# Long enough to redeploy every service that holds the key, short enough to stay a rotation.
_MAX_GRACE_S = 7 * 24 * 3600


class RotateIn(BaseModel):
    """How long the old key keeps working after a rotation; 0 (the default) revokes it now."""

    model_config = ConfigDict(extra="forbid")

    grace_s: int = Field(default=0, ge=0, le=_MAX_GRACE_S)


class KeyIn(BaseModel):
    """A key to create. The tenant comes from the URL or the caller, never from the body."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=128)
    role: Role = "member"
    scopes: list[str] | None = Field(default=None, max_length=32)
    allowed_models: list[ModelName] | None = Field(default=None, max_length=256)
    read_only: bool = False
    expires_in_s: int | None = Field(default=None, ge=1, le=_TEN_YEARS_S)
    expires_at: int | None = Field(default=None, description="unix seconds")

    @model_validator(mode="after")
    def _one_expiry(self) -> Self:
        if self.expires_in_s is not None and self.expires_at is not None:
            raise ValueError("give expires_in_s or expires_at, not both")
        now = datetime.now(UTC).timestamp()
        if self.expires_at is not None and self.expires_at <= now:
            raise ValueError("expires_at must be in the future")
        # The same ten-year bound as expires_in_s (and a date every database can store).
        if self.expires_at is not None and self.expires_at > now + _TEN_YEARS_S:
            raise ValueError("expires_at must be within ten years")
        return self

    def to_spec(self) -> KeySpec:
        return KeySpec(
            role=self.role,
            name=self.name,
            scopes=tuple(self.scopes) if self.scopes is not None else None,
            allowed_models=tuple(self.allowed_models) if self.allowed_models is not None else None,
            read_only=self.read_only,
            expires_at=self._expiry(),
        )

    def _expiry(self) -> datetime | None:
        if self.expires_in_s is not None:
            return datetime.now(UTC) + timedelta(seconds=self.expires_in_s)
        if self.expires_at is not None:
            return datetime.fromtimestamp(self.expires_at, UTC)
        return None


def key_object(row: ApiKey) -> dict[str, Any]:
    """A key as its managers see it: settings and dates, never the secret or its hash."""
    return {
        "object": "api_key",
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "scopes": sorted(effective_scopes(row.role, row.scopes)),
        "allowed_models": row.allowed_models,
        "read_only": row.read_only,
        "created_at": unix_seconds(row.created_at),
        "expires_at": unix_seconds(row.expires_at),
        "revoked_at": unix_seconds(row.revoked_at),
        "last_used_at": unix_seconds(row.last_used_at),
        "rotated_from": row.rotated_from,
    }


def issued_object(issued: IssuedKey) -> dict[str, Any]:
    # The plaintext key is returned exactly once, here.
    return {**key_object(issued.row), "tenant": issued.tenant, "key": issued.key}


def principal_object(principal: Principal) -> dict[str, Any]:
    return {
        "object": "principal",
        "key_id": principal.key_id,
        "tenant_id": principal.tenant_id,
        "tenant": principal.tenant_name,
        "role": principal.role,
        "scopes": sorted(principal.scopes),
        "allowed_models": list(principal.allowed_models) if principal.allowed_models is not None else None,
        "read_only": principal.read_only,
        "expires_at": unix_seconds(principal.expires_at),
        # role -> the scopes it can hold, for each role this key may give a new key
        "grantable_roles": grantable_roles(principal.role),
    }
