"""What a request's handlers tell its audit entry, without knowing the middleware.

The middleware puts a fresh, mutable dict in :data:`CURRENT` for each request; code deep
in the call (the gateway's meter, a management service) adds facts to it. The dict is
mutable on purpose: a streamed body is produced in a task that runs on a *copy* of the
request's context, and only a shared object carries its facts back.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

__all__ = ["CURRENT", "RequestFacts", "annotate", "concerning", "note_usage"]

RequestFacts = dict[str, Any]
CURRENT: ContextVar[RequestFacts | None] = ContextVar("modelyard_audit_facts", default=None)


def note_usage(model: str, prompt_tokens: int, completion_tokens: int, status: int) -> None:
    """The model a call used, the tokens it counted (never its text) and how it ended."""
    facts = CURRENT.get()
    if facts is not None:
        facts["model"] = model
        facts["status"] = status
        facts["prompt_tokens"] = facts.get("prompt_tokens", 0) + prompt_tokens
        facts["completion_tokens"] = facts.get("completion_tokens", 0) + completion_tokens


def annotate(**detail: str | int | bool | None) -> None:
    """Identifiers an administrative change names (a tenant, a model id), never a secret."""
    facts = CURRENT.get()
    if facts is not None:
        facts.setdefault("detail", {}).update(detail)


def concerning(tenant_id: str) -> None:
    """The tenant an administrative change acts on. Its entry is filed under that tenant, so
    the tenant's own audit trail shows what a platform admin did to it; the entry's key id and
    role still name who did it."""
    facts = CURRENT.get()
    if facts is not None:
        facts["subject_tenant_id"] = tenant_id
