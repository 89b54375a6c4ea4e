"""What a quota limits, for one subject (a tenant or a key), and the budget periods."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

__all__ = [
    "LIMIT_FIELDS",
    "NO_LIMITS",
    "Limits",
    "Period",
    "period_bounds",
    "stricter",
]

Period = Literal["day", "month"]


@dataclass(frozen=True, slots=True)
class Limits:
    """One subject's limits; None is no limit."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    spend_budget: float | None = None
    budget_period: Period = "month"
    max_tokens: int | None = None
    max_upload_bytes: int | None = None
    max_concurrent_jobs: int | None = None

    @property
    def limits_calls(self) -> bool:
        """True when a model call has to pass the limiter (or have its max_tokens capped)."""
        return any(
            value is not None
            for value in (
                self.requests_per_minute,
                self.tokens_per_minute,
                self.spend_budget,
                self.max_tokens,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in LIMIT_FIELDS}


LIMIT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Limits))
NO_LIMITS = Limits()


def stricter(a: int | float | None, b: int | float | None) -> int | float | None:
    """The tighter of two limits, where None is no limit."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def period_bounds(period: Period, now: datetime) -> tuple[datetime, datetime]:
    """The calendar (UTC) day or month holding ``now``: [start, end)."""
    now = now.astimezone(UTC)
    if period == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end
