"""Quotas per tenant and per key: stored, cached, and the checks that need the store.

A caller is held to both its tenant's quota and its key's; the stricter wins. Lookups
on the request path are cached for ``cache_ttl_s`` (a PUT clears this process's cache;
other processes pick a change up within the TTL), so a call costs no query of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from modelyard.errors import NotFound, QuotaExceeded
from modelyard.jobs.states import ACTIVE as ACTIVE_JOBS
from modelyard.quotas.limits import LIMIT_FIELDS, NO_LIMITS, Limits, period_bounds, stricter
from modelyard.store import ApiKey, Database, Tenant
from modelyard.store.tables import Evaluation, FineTuningJob, Quota, UsageEvent, utcnow
from modelyard.tenancy import Principal

__all__ = ["BudgetLeft", "CallerQuotas", "QuotaService", "StoredQuota"]

# A job slot frees when a job ends; there is no sooner moment to name.
_JOB_RETRY_AFTER_S = 60
# Names the job-slot lock among PostgreSQL advisory locks ("mjob" in ASCII).
_JOBS_LOCK_KEY = 0x6D6A6F62


@dataclass(frozen=True, slots=True)
class CallerQuotas:
    """The two quotas a caller is held to."""

    tenant: Limits
    key: Limits

    def stricter(self, field: str) -> int | float | None:
        return stricter(getattr(self.tenant, field), getattr(self.key, field))

    @property
    def limits_calls(self) -> bool:
        return self.tenant.limits_calls or self.key.limits_calls


@dataclass(frozen=True, slots=True)
class BudgetLeft:
    subject: str  # "tenant" or "key"
    amount: float
    resets_in_s: float  # until the budget period ends


@dataclass(frozen=True, slots=True)
class StoredQuota:
    subject_type: str
    subject_id: str
    name: str
    limits: Limits
    updated_at: datetime | None
    tenant_id: str  # the tenant the quota limits: its own, or its key's


class QuotaService:
    def __init__(
        self, db: Database, *, cache_ttl_s: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._db = db
        self._ttl = cache_ttl_s
        self._clock = clock
        self._limits: dict[str, tuple[float, CallerQuotas]] = {}  # key id -> (expires, quotas)
        self._spent: dict[tuple[str, str, datetime], tuple[float, float]] = {}

    # -- administration -------------------------------------------------------
    def get_tenant_quota(self, tenant_name: str) -> StoredQuota:
        tenant = self._tenant(tenant_name)
        return self._stored("tenant", tenant.id, tenant.name, tenant_id=tenant.id)

    def set_tenant_quota(self, tenant_name: str, limits: Limits) -> StoredQuota:
        tenant = self._tenant(tenant_name)
        return self._store("tenant", tenant.id, tenant.name, limits, tenant_id=tenant.id)

    def get_key_quota(self, key_id: str) -> StoredQuota:
        key = self._key(key_id)
        return self._stored("key", key.id, key_id, tenant_id=key.tenant_id)

    def set_key_quota(self, key_id: str, limits: Limits) -> StoredQuota:
        key = self._key(key_id)
        return self._store("key", key.id, key_id, limits, tenant_id=key.tenant_id)

    def _tenant(self, name: str) -> Tenant:
        with self._db.session() as session:
            tenant = session.scalar(select(Tenant).where(Tenant.name == name))
        if tenant is None:
            raise NotFound(f"tenant '{name}' not found", param="tenant")
        return tenant

    def _key(self, key_id: str) -> ApiKey:
        with self._db.session() as session:
            key = session.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"key '{key_id}' not found", param="key_id")
        return key

    def _stored(self, subject_type: str, subject_id: str, name: str, *, tenant_id: str) -> StoredQuota:
        with self._db.session() as session:
            row = session.scalar(_subject_query(subject_type, subject_id))
        limits = _limits_of(row) if row else NO_LIMITS
        return StoredQuota(subject_type, subject_id, name, limits, row.updated_at if row else None, tenant_id)

    def _store(
        self, subject_type: str, subject_id: str, name: str, limits: Limits, *, tenant_id: str
    ) -> StoredQuota:
        with self._db.session() as session:
            row = session.scalar(_subject_query(subject_type, subject_id).with_for_update())
            if row is None:
                row = Quota(subject_type=subject_type, subject_id=subject_id)
                session.add(row)
            for field in LIMIT_FIELDS:
                setattr(row, field, getattr(limits, field))
            row.updated_at = utcnow()
            updated = row.updated_at
        self._limits.clear()
        return StoredQuota(subject_type, subject_id, name, limits, updated, tenant_id)

    # -- the request path -----------------------------------------------------
    def for_caller(self, principal: Principal) -> CallerQuotas:
        cached = self._limits.get(principal.key_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        quotas = self._load(principal)
        self._limits[principal.key_id] = (self._clock() + self._ttl, quotas)
        return quotas

    def _load(self, principal: Principal) -> CallerQuotas:
        query = select(Quota).where(
            or_(
                and_(Quota.subject_type == "tenant", Quota.subject_id == principal.tenant_id),
                and_(Quota.subject_type == "key", Quota.subject_id == principal.key_id),
            )
        )
        with self._db.session() as session:
            rows = {row.subject_type: _limits_of(row) for row in session.scalars(query)}
        return CallerQuotas(tenant=rows.get("tenant", NO_LIMITS), key=rows.get("key", NO_LIMITS))

    async def spent(self, subject_type: str, subject_id: str, since: datetime) -> float:
        """The subject's recorded spend since ``since``, at most ``cache_ttl_s`` old."""
        cache_key = (subject_type, subject_id, since)
        cached = self._spent.get(cache_key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        value = await asyncio.to_thread(self._sum_spend, subject_type, subject_id, since)
        self._spent[cache_key] = (self._clock() + self._ttl, value)
        return value

    def budget_left(self, principal: Principal) -> BudgetLeft | None:
        """What is left of the caller's spend budget this period, for whichever of its tenant
        and key has less left, read from the store now; None without a budget."""
        quotas = self.for_caller(principal)
        now = utcnow()
        left: BudgetLeft | None = None
        for subject, subject_id, limits in (
            ("tenant", principal.tenant_id, quotas.tenant),
            ("key", principal.key_id, quotas.key),
        ):
            if limits.spend_budget is None:
                continue
            start, end = period_bounds(limits.budget_period, now)
            remaining = max(limits.spend_budget - self._sum_spend(subject, subject_id, start), 0.0)
            if left is None or remaining < left.amount:
                left = BudgetLeft(subject, remaining, (end - now).total_seconds())
        return left

    def _sum_spend(self, subject_type: str, subject_id: str, since: datetime) -> float:
        column = UsageEvent.tenant_id if subject_type == "tenant" else UsageEvent.key_id
        query = select(func.coalesce(func.sum(UsageEvent.cost), 0.0)).where(
            column == subject_id, UsageEvent.created_at >= since
        )
        with self._db.session() as session:
            return float(session.scalar(query) or 0.0)

    # -- checks that need the store --------------------------------------------
    def upload_limit(self, principal: Principal, hard_cap: int) -> int:
        """The largest upload the caller may send: its quota, never above the server's cap."""
        quota = self.for_caller(principal).stricter("max_upload_bytes")
        return hard_cap if quota is None else min(int(quota), hard_cap)

    def active_jobs(
        self, principal: Principal, *, by_key: bool = False, session: Session | None = None
    ) -> int:
        """Fine-tuning jobs and evaluations of the tenant (or of the key) not yet finished."""
        owner_ft: ColumnElement[bool] = FineTuningJob.tenant_id == principal.tenant_id
        owner_ev: ColumnElement[bool] = Evaluation.tenant_id == principal.tenant_id
        if by_key:
            owner_ft, owner_ev = (
                FineTuningJob.key_id == principal.key_id,
                Evaluation.key_id == principal.key_id,
            )
        fine_tunes = select(func.count()).where(owner_ft, FineTuningJob.status.in_(ACTIVE_JOBS))
        evaluations = select(func.count()).where(owner_ev, Evaluation.status.in_(ACTIVE_JOBS))
        if session is not None:
            return int(session.scalar(fine_tunes) or 0) + int(session.scalar(evaluations) or 0)
        with self._db.session() as own:
            return self.active_jobs(principal, by_key=by_key, session=own)

    @contextmanager
    def job_slot(self, principal: Principal) -> Iterator[Session]:
        """A session to insert one new job in, given only while the caller is under its job cap.

        With a cap, the count and the insert share one write lock (across processes too:
        ``Database.serialized``), so creates racing for the last slot cannot both take it.
        Raises ``QuotaExceeded`` (429) when the tenant or the key already runs its maximum.
        """
        quotas = self.for_caller(principal)
        caps = {"tenant": quotas.tenant.max_concurrent_jobs, "key": quotas.key.max_concurrent_jobs}
        if all(cap is None for cap in caps.values()):
            with self._db.session() as session:
                yield session
            return
        with self._db.serialized_session(_JOBS_LOCK_KEY) as session:
            self._check_job_caps(principal, caps, session)
            yield session

    def _check_job_caps(self, principal: Principal, caps: dict[str, int | None], session: Session) -> None:
        for subject, cap in caps.items():
            if cap is None:
                continue
            if self.active_jobs(principal, by_key=subject == "key", session=session) >= cap:
                raise QuotaExceeded(
                    f"this {subject} already has {cap} queued or running jobs (its quota); "
                    "wait for one to finish",
                    code="concurrent_jobs_exceeded",
                    headers={"Retry-After": str(_JOB_RETRY_AFTER_S)},
                )


def _subject_query(subject_type: str, subject_id: str) -> Select[tuple[Quota]]:
    return select(Quota).where(Quota.subject_type == subject_type, Quota.subject_id == subject_id)


def _limits_of(row: Quota) -> Limits:
    return Limits(**{field: getattr(row, field) for field in LIMIT_FIELDS})


def job_session(
    db: Database, quotas: QuotaService | None, principal: Principal
) -> AbstractContextManager[Session]:
    """Where a service inserts a new job: under the caller's job cap when quotas are on."""
    return db.session() if quotas is None else quotas.job_slot(principal)
