"""Whose fault a failed call was: the caller's, or the replica's (and whether to try elsewhere).

A retryable failure is one another replica or provider may well not have: 5xx from
upstream, a timeout, a 429 from a provider, a refused or dropped connection, a model still
loading. The caller's own mistakes (4xx) and its own quota are raised at once, since every
replica would refuse them alike, and they say nothing against the replica's health.
"""

from __future__ import annotations

from enum import StrEnum

from modelyard.errors import LoopDetected, ModelyardError, QuotaExceeded, RateLimited

__all__ = ["Fault", "classify"]


class Fault(StrEnum):
    CALLER = "caller"  # raise at once; the replica answered and is healthy
    RETRYABLE = "retryable"  # count against the replica, try the next one
    FATAL = "fatal"  # count against the replica, raise at once (a bug, not a bad day)


def classify(exc: BaseException) -> Fault:
    if isinstance(exc, ModelyardError):
        return _classify_ours(exc)
    if isinstance(exc, (OSError, TimeoutError)):  # refused, reset, unreachable, timed out
        return Fault.RETRYABLE
    return Fault.FATAL


def _classify_ours(exc: ModelyardError) -> Fault:
    if isinstance(exc, QuotaExceeded):  # the caller's own quota: no other replica helps
        return Fault.CALLER
    if isinstance(exc, RateLimited):  # the provider is saturated: another may not be
        return Fault.RETRYABLE
    if isinstance(exc, LoopDetected):  # a provider pointing back at us: misconfigured, not flaky
        return Fault.FATAL
    if exc.status_code >= 500:
        return Fault.RETRYABLE
    return Fault.CALLER
