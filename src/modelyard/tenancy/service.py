"""Tenants and keys: create, list, rotate, revoke, authenticate."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from modelyard.store import ApiKey, Database, Tenant
from modelyard.store.tables import utcnow
from modelyard.tenancy.grants import KeySpec, check_grant
from modelyard.tenancy.keys import Principal, hash_key, matches, new_key, parse_key_id
from modelyard.tenancy.roles import ROLES, effective_scopes

__all__ = ["PLATFORM_TENANT", "ROLES", "IssuedKey", "KeySpec", "TenancyService"]

PLATFORM_TENANT = "platform"
_TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# last_used_at is written on a cache miss at most this often: a write per call would
# make every request a database write.
_LAST_USED_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly created key: the only moment its plaintext exists."""

    id: str
    tenant: str
    role: str
    key: str
    row: ApiKey


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
        # The first key manages the tenant's other keys: without it a new tenant could do
        # nothing about keys until a platform admin issued one. Later keys default to member.
        return tenant, self.create_key(tenant=name, role="tenant_admin", name="first key")

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
    def create_key(
        self,
        *,
        tenant: str,
        role: str = "member",
        name: str = "",
        spec: KeySpec | None = None,
        granted_by: Principal | None = None,
    ) -> IssuedKey:
        """Create a key; ``granted_by`` (the caller's key) may not hand out more than it holds.

        ``spec`` carries every setting; ``role`` and ``name`` are a shorthand for it.
        """
        spec = spec or KeySpec(role=role, name=name)
        spec.validate()
        if granted_by is not None:
            check_grant(granted_by, spec)
        owner = self.get_tenant(tenant)
        with self._db.session() as session:
            return _insert_key(session, owner, spec)

    def list_keys(self, tenant: str) -> list[ApiKey]:
        owner = self.get_tenant(tenant)
        with self._db.session() as session:
            query = select(ApiKey).where(ApiKey.tenant_id == owner.id).order_by(ApiKey.created_at)
            return list(session.scalars(query))

    def get_key(self, key_id: str, *, tenant_id: str | None = None) -> ApiKey:
        with self._db.session() as session:
            return _owned_key(session, key_id, tenant_id)

    def revoke_key(
        self, key_id: str, *, tenant_id: str | None = None, granted_by: Principal | None = None
    ) -> ApiKey:
        """Revoke the key (again is fine); returns its row.

        The grant rule of ``create_key`` applies: a key revokes only keys no stronger than
        itself, or a narrowed key could switch off the full keys it was carved from.
        """
        with self._db.session() as session:
            row = _owned_key(session, key_id, tenant_id)
            if granted_by is not None:
                check_grant(granted_by, _spec_of(row))
            row.revoked_at = row.revoked_at or utcnow()
        self._cache.pop(key_id, None)
        return row

    def rotate_key(
        self,
        key_id: str,
        *,
        tenant_id: str | None = None,
        granted_by: Principal | None = None,
        grace_s: int = 0,
    ) -> IssuedKey:
        """Issue a key with the old one's settings and retire the old one, in one transaction.

        By default the old key is revoked: it fails from the next request, so a leaked key
        is dead the moment it is rotated. With ``grace_s`` it keeps working that much longer
        (never past its own expiry), so services can switch over without an outage. A key
        is rotated once: its successor is rotated next. A rotation replaces the secret, not
        the terms: the new key keeps every setting, its expiry included.
        """
        with self._db.session() as session:
            row = _owned_key(session, key_id, tenant_id)
            _check_rotatable(session, row)
            spec = _spec_of(row)
            if granted_by is not None:
                check_grant(granted_by, spec)
            owner = session.get(Tenant, row.tenant_id)
            issued = _insert_key(session, owner, spec, rotated_from=row.id)
            now = utcnow()
            if grace_s > 0:
                ends = now + timedelta(seconds=grace_s)
                row.expires_at = ends if row.expires_at is None else min(row.expires_at, ends)
            else:
                row.revoked_at = now
        self._cache.pop(key_id, None)
        return issued

    # -- authentication ------------------------------------------------------
    def authenticate(self, key: str) -> Principal:
        principal = self._principal_for(key)
        # Checked after the secret matched, so only the key's holder learns it expired.
        if principal.expired(utcnow()):
            raise AuthenticationFailed("this API key has expired", code="expired_api_key")
        return principal

    def _principal_for(self, key: str) -> Principal:
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
            now = utcnow()
            if row.last_used_at is None or now - row.last_used_at > _LAST_USED_EVERY:
                row.last_used_at = now
        principal = _principal(row, tenant)
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


def _check_rotatable(session: Session, row: ApiKey) -> None:
    if row.revoked_at is not None:
        raise Conflict(f"key '{row.id}' is revoked; create a new key instead", code="key_revoked")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Conflict(f"key '{row.id}' has expired; create a new key instead", code="key_expired")
    successor = session.scalar(select(ApiKey.id).where(ApiKey.rotated_from == row.id).limit(1))
    if successor is not None:
        raise Conflict(
            f"key '{row.id}' was already rotated (its grace period is running); rotate '{successor}'",
            code="key_rotated",
        )


def _owned_key(session: Session, key_id: str, tenant_id: str | None) -> ApiKey:
    row = session.get(ApiKey, key_id)
    # Another tenant's key reads as missing: its existence is not the caller's business.
    if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
        raise NotFound(f"key '{key_id}' not found", param="key_id")
    return row


def _insert_key(
    session: Session, owner: Tenant, spec: KeySpec, *, rotated_from: str | None = None
) -> IssuedKey:
    key_id, key = new_key()
    row = ApiKey(
        id=key_id,
        tenant_id=owner.id,
        name=spec.name,
        key_hash=hash_key(key),
        role=spec.role,
        scopes=list(spec.scopes) if spec.scopes is not None else None,
        allowed_models=list(spec.allowed_models) if spec.allowed_models is not None else None,
        read_only=spec.read_only,
        expires_at=spec.expires_at,
        rotated_from=rotated_from,
        created_at=utcnow(),
    )
    session.add(row)
    return IssuedKey(id=key_id, tenant=owner.name, role=spec.role, key=key, row=row)


def _spec_of(row: ApiKey) -> KeySpec:
    return KeySpec(
        role=row.role,
        name=row.name,
        scopes=tuple(row.scopes) if row.scopes is not None else None,
        allowed_models=tuple(row.allowed_models) if row.allowed_models is not None else None,
        read_only=row.read_only,
        expires_at=row.expires_at,
    )


def _principal(row: ApiKey, tenant: Tenant) -> Principal:
    return Principal(
        key_id=row.id,
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        role=row.role,
        scopes=effective_scopes(row.role, row.scopes),
        allowed_models=tuple(row.allowed_models) if row.allowed_models is not None else None,
        read_only=row.read_only,
        expires_at=row.expires_at,
    )
