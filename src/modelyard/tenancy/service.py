"""Tenants and keys: create, list, revoke, authenticate."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from modelyard.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from modelyard.store import ApiKey, Database, Tenant
from modelyard.store.tables import utcnow
from modelyard.tenancy.keys import Principal, hash_key, matches, new_key, parse_key_id

__all__ = ["PLATFORM_TENANT", "IssuedKey", "TenancyService"]

PLATFORM_TENANT = "platform"
ROLES = ("admin", "member")
_TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly created key: the only moment its plaintext exists."""

    id: str
    tenant: str
    role: str
    key: str


class TenancyService:
    def __init__(self, db: Database, *, cache_ttl_s: float = 5.0) -> None:
        self._db = db
        self._ttl = cache_ttl_s
        # key id -> (expires at, hash, principal); revocation drops the entry at once.
        self._cache: dict[str, tuple[float, str, Principal]] = {}

    # -- tenants -------------------------------------------------------------
    def create_tenant(self, name: str) -> tuple[Tenant, IssuedKey]:
        if not _TENANT_NAME.match(name):
            raise InvalidRequest("tenant name must be 1-63 lowercase letters, digits or '-'", param="name")
        with self._db.session() as session:
            if session.scalar(select(Tenant).where(Tenant.name == name)):
                raise Conflict(f"tenant '{name}' already exists", param="name")
            tenant = Tenant(id=f"ten_{new_key()[0]}", name=name)
            session.add(tenant)
        return tenant, self.create_key(tenant=name, role="member", name="first key")

    def list_tenants(self) -> list[Tenant]:
        with self._db.session() as session:
            return list(session.scalars(select(Tenant).order_by(Tenant.created_at)))

    def get_tenant(self, name: str) -> Tenant:
        with self._db.session() as session:
            tenant = session.scalar(select(Tenant).where(Tenant.name == name))
        if tenant is None:
            raise NotFound(f"tenant '{name}' not found", param="tenant")
        return tenant

    # -- keys ----------------------------------------------------------------
    def create_key(self, *, tenant: str, role: str = "member", name: str = "") -> IssuedKey:
        if role not in ROLES:
            raise InvalidRequest(f"role must be one of {', '.join(ROLES)}", param="role")
        owner = self.get_tenant(tenant)
        key_id, key = new_key()

        with self._db.session() as session:
            session.add(ApiKey(id=key_id, tenant_id=owner.id, name=name, key_hash=hash_key(key), role=role))
        return IssuedKey(id=key_id, tenant=tenant, role=role, key=key)

    def list_keys(self, tenant: str) -> list[ApiKey]:
        owner = self.get_tenant(tenant)
        with self._db.session() as session:
            query = select(ApiKey).where(ApiKey.tenant_id == owner.id).order_by(ApiKey.created_at)
            return list(session.scalars(query))

    def revoke_key(self, key_id: str, *, tenant_id: str | None = None) -> None:
        with self._db.session() as session:
            row = session.get(ApiKey, key_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise NotFound(f"key '{key_id}' not found", param="key_id")
            row.revoked_at = row.revoked_at or utcnow()
        self._cache.pop(key_id, None)

    def authenticate(self, key: str) -> Principal:
        key_id = parse_key_id(key)
        if key_id is None:
            raise AuthenticationFailed("malformed API key")
        cached = self._cache.get(key_id)
        if cached and cached[0] > time.monotonic():
            if matches(key, cached[1]):
                return cached[2]
            raise AuthenticationFailed("invalid API key")
        return self._authenticate_from_store(key, key_id)

    def _authenticate_from_store(self, key: str, key_id: str) -> Principal:
        with self._db.session() as session:
            row = session.get(ApiKey, key_id)
            tenant = session.get(Tenant, row.tenant_id) if row else None
        if row is None or tenant is None or row.revoked_at is not None:
            matches(key, None)
            raise AuthenticationFailed("invalid API key")
        if not matches(key, row.key_hash):
            raise AuthenticationFailed("invalid API key")
        principal = Principal(key_id=row.id, tenant_id=tenant.id, tenant_name=tenant.name, role=row.role)
        self._cache[key_id] = (time.monotonic() + self._ttl, row.key_hash, principal)
        return principal

    # -- bootstrap -----------------------------------------------------------
    def ensure_admin_key(self, key_file: Path) -> IssuedKey | None:
        """On an empty store, create the platform tenant and an admin key written to a file."""
        with self._db.session() as session:
            if session.scalar(select(ApiKey).where(ApiKey.role == "admin")):
                return None
            if not session.scalar(select(Tenant).where(Tenant.name == PLATFORM_TENANT)):
                session.add(Tenant(id=f"ten_{new_key()[0]}", name=PLATFORM_TENANT))
        issued = self.create_key(tenant=PLATFORM_TENANT, role="admin", name="bootstrap admin")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(issued.key + "\n")
        return issued
