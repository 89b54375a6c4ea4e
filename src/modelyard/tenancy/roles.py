"""Roles, endpoint scopes, and who may grant what.

A key's role caps what it can ever do; its ``scopes`` (optional) narrow that further.
A key's effective scopes are ``scopes ∩ ROLE_SCOPES[role]`` (all of the role's scopes
when ``scopes`` is None), so a role that loses a scope takes it from its old keys too.

::

    admin         every scope, every tenant (platform operator)
    tenant_admin  its tenant's work, its tenant's keys and audit trail
    member        its tenant's work and the audit entries of its own key
    provider      publishes public models; calls models and reads its own usage,
                  never another tenant's files, jobs or evaluations
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from types import MappingProxyType

__all__ = [
    "GRANTABLE_ROLES",
    "ROLES",
    "ROLE_SCOPES",
    "SCOPES",
    "effective_scopes",
    "grantable_roles",
    "model_allowed",
    "unknown_scopes",
]

SCOPES: tuple[str, ...] = (
    "models",
    "chat",
    "completions",
    "embeddings",
    "files",
    "fine_tuning",
    "evaluations",
    "usage",
    "keys",
    "audit",
    "admin",
)

_INFERENCE = frozenset({"models", "chat", "completions", "embeddings"})
_TENANT_WORK = _INFERENCE | {"files", "fine_tuning", "evaluations", "usage"}

ROLE_SCOPES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "admin": frozenset(SCOPES),
        "tenant_admin": _TENANT_WORK | {"keys", "audit"},
        # A member reads the audit entries of its own key only (api/audit.py narrows it).
        "member": _TENANT_WORK | {"audit"},
        "provider": _INFERENCE | {"usage"},
    }
)
ROLES: tuple[str, ...] = tuple(ROLE_SCOPES)

# The roles a key of each role may hand out; nobody grants a role above their own.
GRANTABLE_ROLES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "admin": frozenset(ROLES),
        "tenant_admin": frozenset({"tenant_admin", "member"}),
        "member": frozenset(),
        "provider": frozenset(),
    }
)


# Weakest first: the order in which roles are offered to someone creating a key.
_GRANT_ORDER: tuple[str, ...] = ("member", "tenant_admin", "provider", "admin")


def grantable_roles(role: str) -> dict[str, list[str]]:
    """The roles a key of ``role`` may hand out, weakest first, each with every scope it can hold
    (in ``SCOPES`` order). Clients read this instead of keeping their own copy of the table."""
    grantable = GRANTABLE_ROLES.get(role, frozenset())
    return {r: [s for s in SCOPES if s in ROLE_SCOPES[r]] for r in _GRANT_ORDER if r in grantable}


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted(set(scopes) - set(SCOPES))


def effective_scopes(role: str, scopes: Iterable[str] | None) -> frozenset[str]:
    allowed = ROLE_SCOPES.get(role, frozenset())
    return allowed if scopes is None else allowed & frozenset(scopes)


def model_allowed(model_id: str, patterns: Iterable[str] | None) -> bool:
    """``patterns`` None allows every model; entries may use shell wildcards (``ft:*``)."""
    return patterns is None or any(fnmatchcase(model_id, pattern) for pattern in patterns)
