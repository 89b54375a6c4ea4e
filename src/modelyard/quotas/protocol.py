"""Wire models for quotas: the admin's PUT body and the objects the API answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.quotas.limits import LIMIT_FIELDS, Limits, stricter
from modelyard.quotas.service import CallerQuotas, StoredQuota
from modelyard.store.tables import unix_seconds
from modelyard.tenancy import Principal

__all__ = ["QuotaIn", "caller_quota_object", "quota_object"]


# Limits are stored in 32-bit integer columns (PostgreSQL's INTEGER); a larger number would
# fail in the database instead of in validation. Found by the fuzzer.
_COLUMN_MAX = 2**31 - 1
_BUDGET_MAX = 1e12


class QuotaIn(BaseModel):
    """A whole quota: a field left out (or null) is no limit."""

    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int | None = Field(default=None, ge=0, le=_COLUMN_MAX)
    tokens_per_minute: int | None = Field(default=None, ge=0, le=_COLUMN_MAX)
    spend_budget: float | None = Field(default=None, ge=0, le=_BUDGET_MAX)
    budget_period: Literal["day", "month"] = "month"
    max_tokens: int | None = Field(default=None, ge=1, le=_COLUMN_MAX)
    max_upload_bytes: int | None = Field(default=None, ge=0, le=_COLUMN_MAX)
    max_concurrent_jobs: int | None = Field(default=None, ge=0, le=_COLUMN_MAX)

    def to_limits(self) -> Limits:
        return Limits(**self.model_dump())


def quota_object(quota: StoredQuota) -> dict[str, Any]:
    return {
        "object": "quota",
        "subject_type": quota.subject_type,
        "subject_id": quota.subject_id,
        "name": quota.name,
        **quota.limits.as_dict(),
        "updated_at": unix_seconds(quota.updated_at),
    }


# remaining-now name -> (used measure, the limit it counts against)
_REMAINING = {
    "requests_this_minute": ("requests_this_minute", "requests_per_minute"),
    "tokens_this_minute": ("tokens_this_minute", "tokens_per_minute"),
    "spend_this_period": ("spend_this_period", "spend_budget"),
    "job_slots": ("active_jobs", "max_concurrent_jobs"),
}


def _remaining(limit: float | None, used: float | None) -> float | None:
    if limit is None:
        return None
    return max(limit - (used or 0), 0)


def _effective(quotas: CallerQuotas) -> dict[str, Any]:
    effective = {name: quotas.stricter(name) for name in LIMIT_FIELDS if name != "budget_period"}
    # Each subject's budget runs over its own period; name both when they differ.
    periods = {quotas.tenant.budget_period, quotas.key.budget_period}
    effective["budget_period"] = periods.pop() if len(periods) == 1 else "day+month"
    return effective


def caller_quota_object(
    principal: Principal, quotas: CallerQuotas, used: dict[str, dict[str, float | None]]
) -> dict[str, Any]:
    """The caller's limits (its tenant's, its key's, the stricter of both) and what is left now."""
    subjects = {"tenant": quotas.tenant, "key": quotas.key}
    remaining: dict[str, Any] = {}
    for out, (measure, limit_field) in _REMAINING.items():
        left = [
            _remaining(getattr(limits, limit_field), used[name][measure]) for name, limits in subjects.items()
        ]
        remaining[out] = stricter(*left)
    return {
        "object": "quota.status",
        "tenant": {"name": principal.tenant_name, "limits": quotas.tenant.as_dict(), "used": used["tenant"]},
        "key": {"id": principal.key_id, "limits": quotas.key.as_dict(), "used": used["key"]},
        "effective": _effective(quotas),
        "remaining": remaining,
        "window": "sliding 60 s for per-minute limits; calendar UTC day or month for spend",
    }
