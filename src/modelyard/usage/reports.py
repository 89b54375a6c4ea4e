"""Usage reports: requests, tokens and cost per day / model / key, summed in the database.

A tenant's report reads only its own rows. A provider's report reads the rows of the
models it published and names only day and model: never a consumer, a key or a prompt.
Days are UTC; ``start`` and ``end`` are both included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

from modelyard.store import Database, ModelRecord, UsageEvent

__all__ = ["GROUPS", "PROVIDER_GROUPS", "Report", "UsageReports", "report_csv"]

MEASURES = ("requests", "prompt_tokens", "completion_tokens", "cost")


def _day_sqlite(column: Any) -> ColumnElement[str]:
    return func.strftime("%Y-%m-%d", column)


def _day_postgresql(column: Any) -> ColumnElement[str]:
    # The session's time zone must not move a row to another day.
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


_DAY_BY_DIALECT: dict[str, Callable[[Any], ColumnElement[str]]] = {
    "sqlite": _day_sqlite,
    "postgresql": _day_postgresql,
}
# group name -> column of usage_events it groups by ("day" is built per dialect)
GROUPS: dict[str, Any] = {
    "day": None,
    "model": UsageEvent.model,
    "key": UsageEvent.key_id,
    "endpoint": UsageEvent.endpoint,
}
PROVIDER_GROUPS = ("day", "model")


@dataclass(frozen=True, slots=True)
class Report:
    start: date
    end: date
    group_by: tuple[str, ...]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] = field(default_factory=dict)
    cost_name: str = "cost"  # "revenue" in a provider's report


class UsageReports:
    def __init__(self, db: Database) -> None:
        self._db = db

    def tenant_report(self, tenant_id: str, *, start: date, end: date, group_by: Sequence[str]) -> Report:
        return self._report(UsageEvent.tenant_id == tenant_id, start=start, end=end, group_by=group_by)

    def provider_report(
        self, publisher_id: str, *, start: date, end: date, group_by: Sequence[str]
    ) -> Report:
        """Aggregates over the models ``publisher_id`` published; groups only by day and model."""
        published = select(ModelRecord.id).where(ModelRecord.publisher_tenant_id == publisher_id)
        report = self._report(UsageEvent.model.in_(published), start=start, end=end, group_by=group_by)
        return Report(report.start, report.end, report.group_by, report.rows, report.totals, "revenue")

    def _report(
        self, owner: ColumnElement[bool], *, start: date, end: date, group_by: Sequence[str]
    ) -> Report:
        groups = [(name, self._group_column(name)) for name in group_by]
        columns = [column.label(name) for name, column in groups]
        query = (
            select(
                *columns,
                func.count().label("requests"),
                func.coalesce(func.sum(UsageEvent.prompt_tokens), 0).label("prompt_tokens"),
                func.coalesce(func.sum(UsageEvent.completion_tokens), 0).label("completion_tokens"),
                func.coalesce(func.sum(UsageEvent.cost), 0.0).label("cost"),
            )
            .where(
                owner, UsageEvent.created_at >= _midnight(start), UsageEvent.created_at < _midnight(end, 1)
            )
            .group_by(*(column for _, column in groups))
            .order_by(*(column for _, column in groups))
        )
        with self._db.session() as session:
            rows = [_row(r._mapping) for r in session.execute(query)]
        return Report(start, end, tuple(group_by), rows, _totals(rows))

    def _group_column(self, name: str) -> Any:
        if name == "day":
            return _DAY_BY_DIALECT[self._db.engine.dialect.name](UsageEvent.created_at)
        return GROUPS[name]


def _midnight(day: date, plus_days: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=plus_days), time(), tzinfo=UTC)


def _row(mapping: Any) -> dict[str, Any]:
    row = dict(mapping)
    row["requests"], row["cost"] = int(row["requests"]), round(float(row["cost"]), 8)
    row["prompt_tokens"], row["completion_tokens"] = int(row["prompt_tokens"]), int(row["completion_tokens"])
    return row


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {name: sum(row[name] for row in rows) for name in MEASURES}
    totals["cost"] = round(totals["cost"], 8)
    return totals


def report_csv(report: Report) -> str:
    """One header row, then one row per group; the cost column is named as in JSON."""
    out = io.StringIO()
    names = [*report.group_by, "requests", "prompt_tokens", "completion_tokens", report.cost_name]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in report.rows:
        writer.writerow([*(_cell(row[g]) for g in report.group_by), *(row[m] for m in MEASURES)])
    return out.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """``value`` safe to open in a spreadsheet: a text cell that could start a formula is
    prefixed with a quote, which spreadsheets show as text; numbers are left as numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
