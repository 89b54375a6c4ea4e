"""API key format, hashing and the authenticated principal.

A key reads ``my-<key id>-<secret>``. The key id locates the row; the whole key is
compared by its sha256 in constant time. Keys carry 192 bits of randomness, so a fast
hash is enough: there is nothing to brute-force that a slow hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from modelyard.tenancy.roles import model_allowed

__all__ = ["KEY_PATTERN", "Principal", "hash_key", "matches", "new_key", "parse_key_id"]

KEY_PATTERN = re.compile(r"^my-([0-9a-f]{12})-([0-9a-f]{48})$")
_DUMMY_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: resolved once per request from the bearer key.

    ``scopes`` holds the key's effective scopes (already narrowed by its role);
    ``allowed_models`` None means any model the tenant can see.
    """

    key_id: str
    tenant_id: str
    tenant_name: str
    role: str
    scopes: frozenset[str] = frozenset()
    allowed_models: tuple[str, ...] | None = None
    read_only: bool = False
    expires_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_provider(self) -> bool:
        return self.role == "provider"

    @property
    def is_tenant_admin(self) -> bool:
        return self.role == "tenant_admin"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def may_use_model(self, model_id: str) -> bool:
        return model_allowed(model_id, self.allowed_models)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def new_key() -> tuple[str, str]:
    """Return ``(key_id, plaintext key)``."""
    key_id = secrets.token_hex(6)
    return key_id, f"my-{key_id}-{secrets.token_hex(24)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key_id(key: str) -> str | None:
    match = KEY_PATTERN.match(key)
    return match.group(1) if match else None


def matches(key: str, stored_hash: str | None) -> bool:
    # Compare even when no row was found so a missing id costs the same time.
    return hmac.compare_digest(hash_key(key), stored_hash or _DUMMY_HASH) and bool(stored_hash)
