"""The platform admin's overview: tenants with their keys and this month's usage, providers
with their models, in two grouped queries (the console's landing page for an admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from modelyard.store import ApiKey, Database, ModelRecord, Tenant, UsageEvent

__all__ = ["PlatformOverview"]


@dataclass(frozen=True, slots=True)
class PlatformOverview:
    db: Database

    def tenants(self, since: datetime) -> list[dict[str, Any]]:
        """Each tenant with its usable keys (not revoked, not expired) and its usage since."""
        now = datetime.now(UTC)
        live = ApiKey.revoked_at.is_(None) & (ApiKey.expires_at.is_(None) | (ApiKey.expires_at > now))
        keys = select(ApiKey.tenant_id, func.count()).where(live).group_by(ApiKey.tenant_id)
        usage = (
            select(
                UsageEvent.tenant_id,
                func.count(),
                func.coalesce(func.sum(UsageEvent.prompt_tokens), 0),
                func.coalesce(func.sum(UsageEvent.completion_tokens), 0),
                func.coalesce(func.sum(UsageEvent.cost), 0.0),
            )
            .where(UsageEvent.created_at >= since)
            .group_by(UsageEvent.tenant_id)
        )
        with self.db.session() as session:
            tenants = list(session.scalars(select(Tenant).order_by(Tenant.created_at)))
            key_counts = {tenant_id: int(n) for tenant_id, n in session.execute(keys)}
            used = {row[0]: row[1:] for row in session.execute(usage)}
        return [
            {
                "id": t.id,
                "name": t.name,
                "keys": key_counts.get(t.id, 0),
                "usage": _usage(used.get(t.id)),
            }
            for t in tenants
        ]

    def providers(self) -> list[dict[str, Any]]:
        """Providers named on the model cards, each with its models' ids."""
        with self.db.session() as session:
            rows = session.execute(select(ModelRecord.provider, ModelRecord.id).order_by(ModelRecord.id))
            grouped: dict[str, list[str]] = {}
            for provider, model_id in rows:
                grouped.setdefault(provider, []).append(model_id)
        return [{"name": name, "models": grouped[name]} for name in sorted(grouped)]


def _usage(row: Any) -> dict[str, Any]:
    requests, prompt, completion, cost = row if row is not None else (0, 0, 0, 0.0)
    return {
        "requests": int(requests),
        "prompt_tokens": int(prompt),
        "completion_tokens": int(completion),
        "cost": float(cost),
    }
