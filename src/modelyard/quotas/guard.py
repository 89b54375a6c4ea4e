"""Admits a model call under its caller's quotas, before any work, and settles it after.

Tokens per minute: **reserve the worst case, then reconcile**. A call reserves an upper
bound of what it can consume: its prompt's UTF-8 bytes (a byte-level tokenizer never
makes more tokens than bytes) plus a small per-message allowance, plus ``max_tokens`` for
every choice. When it finishes, the reservation is cut to the tokens really used. So
concurrent calls cannot together pass the limit, and the unused part frees at once.

Spend per period (calendar UTC day or month): the recorded spend of the period (usage
rows, read at most ``cache_ttl`` old) plus every call in flight at its worst-case cost
must stay within the budget. A finished call's cost lingers in the limiter a little
longer than the usage rows take to be written and re-read, so no spend is ever missed
(for that moment it may count twice: the check errs on refusing).

A refused call raises :class:`QuotaExceeded` (429, ``Retry-After``) and is never billed.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from modelyard.backends.base import Usage
from modelyard.errors import InvalidRequest, QuotaExceeded
from modelyard.quotas.limiter import Check, Limiter, Refusal
from modelyard.quotas.limits import Limits, period_bounds
from modelyard.quotas.service import CallerQuotas, QuotaService
from modelyard.store import ModelRecord
from modelyard.store.tables import utcnow
from modelyard.tenancy import Principal

__all__ = ["OPEN_TICKET", "Demand", "QuotaGuard", "Ticket", "prompt_bound"]

MINUTE_S = 60.0
# How long a call in flight holds its worst-case cost against the budget, at most.
IN_FLIGHT_HOLD_S = 900.0
_PER_MESSAGE_TOKENS = 8
_KIND_NAMES = {"rpm": "requests per minute", "tpm": "tokens per minute", "spend": "spend budget"}


def prompt_bound(texts: Sequence[str]) -> int:
    """An upper bound of the tokens ``texts`` make, with room for a chat template."""
    # surrogatepass: a lone surrogate is refused at the API's edge, but a bound must not raise.
    encoded = sum(len(text.encode("utf-8", "surrogatepass")) for text in texts)
    return encoded + _PER_MESSAGE_TOKENS * len(texts)


@dataclass(frozen=True, slots=True)
class Demand:
    """The most a call can consume."""

    prompt_tokens: int
    max_tokens: int | None  # per choice, as the request asked; None: it named none
    choices: int = 1  # completions produced (n, times the prompts of a batch)
    completes: bool = True  # False for embeddings: no completion tokens


@dataclass(slots=True, eq=False)
class Ticket:
    """An admitted call. ``max_tokens``: a cap the gateway must apply (the request named none)."""

    limiter: Limiter | None = None
    entry: str = ""
    token_buckets: tuple[str, ...] = ()
    spend_buckets: tuple[str, ...] = ()
    max_tokens: int | None = None
    linger_s: float = 0.0
    _settled: bool = field(default=False)

    def settle(self, usage: Usage | None, cost: float) -> None:
        """Replace the reservation with what the call used; a second call does nothing."""
        if self._settled or self.limiter is None:
            return
        self._settled = True
        tokens = usage.prompt_tokens + usage.completion_tokens if usage else 0
        for bucket in self.token_buckets:
            self.limiter.adjust(self.entry, bucket, tokens)
        for bucket in self.spend_buckets:
            self.limiter.adjust(self.entry, bucket, cost, ttl_s=self.linger_s)


OPEN_TICKET = Ticket()


class QuotaGuard:
    def __init__(
        self, quotas: QuotaService, limiter: Limiter, *, default_max_tokens: int, linger_s: float
    ) -> None:
        self._quotas = quotas
        self._limiter = limiter
        self._default_max_tokens = default_max_tokens
        self._linger_s = linger_s

    @property
    def limiter(self) -> Limiter:
        return self._limiter

    async def admit(self, principal: Principal, record: ModelRecord, demand: Demand) -> Ticket:
        quotas = self._quotas.for_caller(principal)
        if not quotas.limits_calls:
            return OPEN_TICKET
        bound = self._completion_bound(quotas, demand)
        tokens = demand.prompt_tokens + (bound or 0) * demand.choices
        cost = (
            demand.prompt_tokens / 1000 * record.price_input_per_1k
            + (bound or 0) * demand.choices / 1000 * record.price_output_per_1k
        )
        checks = await self._checks(principal, quotas, tokens, cost)
        entry = secrets.token_hex(8)
        refusal = await self._limiter.acquire(entry, checks)
        if refusal is not None:
            raise _refused(refusal, quotas, principal)
        return Ticket(
            limiter=self._limiter,
            entry=entry,
            token_buckets=tuple(c.bucket for c in checks if c.bucket.startswith("tpm:")),
            spend_buckets=tuple(c.bucket for c in checks if c.bucket.startswith("spend:")),
            max_tokens=bound if demand.max_tokens is None and demand.completes else None,
            linger_s=self._linger_s,
        )

    def _completion_bound(self, quotas: CallerQuotas, demand: Demand) -> int | None:
        """The per-choice completion cap the call runs under (None: no quota needs one)."""
        if not demand.completes:
            return None
        cap = quotas.stricter("max_tokens")
        if cap is not None and demand.max_tokens is not None and demand.max_tokens > cap:
            raise InvalidRequest(
                f"max_tokens {demand.max_tokens} is above this key's quota of {int(cap)} tokens per request",
                param="max_tokens",
                code="max_tokens_above_quota",
            )
        needs_bound = cap is not None or any(
            limits.tokens_per_minute is not None or limits.spend_budget is not None
            for limits in (quotas.tenant, quotas.key)
        )
        if not needs_bound:
            return demand.max_tokens
        return demand.max_tokens or int(cap if cap is not None else self._default_max_tokens)

    async def _checks(
        self, principal: Principal, quotas: CallerQuotas, tokens: int, cost: float
    ) -> list[Check]:
        checks: list[Check] = []
        now = utcnow()
        for subject, subject_id, limits in _subjects(principal, quotas):
            name = f"{subject}:{subject_id}"
            if limits.requests_per_minute is not None:
                checks.append(Check(f"rpm:{name}", 1, limits.requests_per_minute, MINUTE_S))
            if limits.tokens_per_minute is not None:
                _check_fits(tokens, limits.tokens_per_minute, subject)
                checks.append(Check(f"tpm:{name}", tokens, limits.tokens_per_minute, MINUTE_S))
            if limits.spend_budget is not None:
                start, _ = period_bounds(limits.budget_period, now)
                spent = await self._quotas.spent(subject, subject_id, start)
                checks.append(
                    Check(f"spend:{name}", cost, limits.spend_budget, IN_FLIGHT_HOLD_S, floor=spent)
                )
        return checks

    # -- the caller's view ----------------------------------------------------
    async def usage_now(self, principal: Principal) -> dict[str, dict[str, float | None]]:
        """Per subject: requests and tokens in the last minute, spend of the period so far."""
        quotas = self._quotas.for_caller(principal)
        now = utcnow()
        view: dict[str, dict[str, float | None]] = {}
        for subject, subject_id, limits in _subjects(principal, quotas):
            name = f"{subject}:{subject_id}"
            rpm, tpm = await self._limiter.used([f"rpm:{name}", f"tpm:{name}"])
            start, _ = period_bounds(limits.budget_period, now)
            view[subject] = {
                "requests_this_minute": rpm if limits.requests_per_minute is not None else None,
                "tokens_this_minute": tpm if limits.tokens_per_minute is not None else None,
                "spend_this_period": await self._quotas.spent(subject, subject_id, start),
                "active_jobs": await asyncio.to_thread(
                    self._quotas.active_jobs, principal, by_key=subject == "key"
                ),
            }
        return view


def _subjects(principal: Principal, quotas: CallerQuotas) -> tuple[tuple[str, str, Limits], ...]:
    return (("tenant", principal.tenant_id, quotas.tenant), ("key", principal.key_id, quotas.key))


def _check_fits(tokens: int, limit: int, subject: str) -> None:
    if tokens > limit:
        raise InvalidRequest(
            f"this request may use up to {tokens} tokens, more than the {subject}'s quota of {limit} "
            "tokens per minute; send a shorter prompt or a lower max_tokens",
            param="max_tokens",
            code="request_above_quota",
        )


def _refused(refusal: Refusal, quotas: CallerQuotas, principal: Principal) -> QuotaExceeded:
    kind, subject = refusal.check.bucket.split(":", 2)[:2]
    retry = refusal.retry_after_s
    if retry is None:
        limits = quotas.tenant if subject == "tenant" else quotas.key
        retry = _until_period_end(limits, utcnow()) if kind == "spend" else MINUTE_S
    who = f"tenant '{principal.tenant_name}'" if subject == "tenant" else f"key {principal.key_id}"
    return QuotaExceeded(
        f"{who} is over its {_KIND_NAMES[kind]} quota ({refusal.check.limit:g}); retry later",
        code=f"{kind}_quota_exceeded",
        headers={"Retry-After": str(max(1, math.ceil(retry)))},
    )


def _until_period_end(limits: Limits, now: datetime) -> float:
    return (period_bounds(limits.budget_period, now)[1] - now).total_seconds()
