"""Quotas per tenant and per key, and the rate limiter that enforces them."""

from modelyard.quotas import redis_limiter as _redis_limiter  # noqa: F401 - registers "redis"
from modelyard.quotas.guard import OPEN_TICKET, Demand, QuotaGuard, Ticket, prompt_bound
from modelyard.quotas.limiter import Check, InProcessLimiter, Limiter, Refusal, build_limiter
from modelyard.quotas.limits import LIMIT_FIELDS, Limits
from modelyard.quotas.service import CallerQuotas, QuotaService, StoredQuota

__all__ = [
    "LIMIT_FIELDS",
    "OPEN_TICKET",
    "CallerQuotas",
    "Check",
    "Demand",
    "InProcessLimiter",
    "Limiter",
    "Limits",
    "QuotaGuard",
    "QuotaService",
    "Refusal",
    "StoredQuota",
    "Ticket",
    "build_limiter",
    "prompt_bound",
]
