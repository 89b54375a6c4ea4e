"""Usage reports: sums equal the rows, CSV parses, tenants are apart, providers see aggregates."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from modelyard.store import ApiKey, Database, ModelRecord, UsageEvent
from modelyard.tenancy.keys import hash_key, new_key
from tests.conftest import Platform

DAY1_LATE = datetime(2024, 3, 1, 23, 30, tzinfo=UTC)
DAY2_EARLY = datetime(2024, 3, 2, 0, 30, tzinfo=UTC)
AFTER_RANGE = datetime(2024, 3, 3, 12, 0, tzinfo=UTC)
RANGE = {"start": "2024-03-01", "end": "2024-03-02"}


def _provider_key(platform: Platform, tenant_id: str) -> str:
    # The provider role comes with the roles change; a row with that role stands in for it.
    key_id, key = new_key()
    with platform.client.app.state.services.db.session() as session:
        session.add(ApiKey(id=key_id, tenant_id=tenant_id, key_hash=hash_key(key), role="provider"))
    return key


@pytest.fixture
def seeded(platform: Platform) -> dict[str, Any]:
    """Two consumer tenants calling a published and an unpublished model over three days."""
    tenancy = platform.client.app.state.services.tenancy
    beta_key = platform.new_tenant("beta")
    platform.new_tenant("maker")
    ids = {name: tenancy.get_tenant(name).id for name in ("acme", "beta", "maker")}
    db = Database(platform.settings.resolved_database_url)
    rows = [
        # tenant, key, model, when, prompt, completion, cost
        ("acme", "ka1", "m-pub", DAY1_LATE, 10, 5, 0.25),
        ("acme", "ka1", "m-pub", DAY1_LATE, 7, 3, 0.125),
        ("acme", "ka2", "m-own", DAY2_EARLY, 100, 0, 1.0),
        ("acme", "ka1", "m-pub", DAY2_EARLY, 1, 1, 0.5),
        ("acme", "ka1", "m-pub", AFTER_RANGE, 1000, 1000, 9.0),
        ("beta", "kb1", "m-pub", DAY1_LATE, 20, 20, 2.0),
    ]
    with db.session() as session:
        for name, published in (("m-pub", ids["maker"]), ("m-own", None)):
            session.add(
                ModelRecord(
                    id=name, backend="x", task="chat", provider="p", source={}, publisher_tenant_id=published
                )
            )
        for tenant, key, model, when, prompt, completion, cost in rows:
            session.add(
                UsageEvent(
                    tenant_id=ids[tenant],
                    key_id=key,
                    model=model,
                    endpoint="chat",
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    status_code=200,
                    cost=cost,
                    created_at=when,
                )
            )
    db.dispose()
    return {
        "rows": rows,
        "ids": ids,
        "beta_key": beta_key,
        "maker_key": _provider_key(platform, ids["maker"]),
    }


def _expected(rows: list[tuple], tenant: str | None, keep: Any = lambda r: True) -> dict[tuple, list[float]]:
    sums: dict[tuple, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for row in rows:
        name, key, model, when, prompt, completion, cost = row
        if (tenant is None or name == tenant) and when < AFTER_RANGE and keep(row):
            group = sums[
                (when.date().isoformat(), model, key) if tenant else (when.date().isoformat(), model)
            ]
            group[0] += 1
            group[1] += prompt
            group[2] += completion
            group[3] += cost
    return dict(sums)


def _get(platform: Platform, path: str, key: str, **params: str) -> Any:
    response = platform.client.get(path, params=params, headers=platform.headers(key))
    assert response.status_code == 200, response.text
    return response


def test_report_sums_equal_the_rows_by_day_model_and_key(platform: Platform, seeded: dict[str, Any]) -> None:
    body = _get(platform, "/v1/usage", platform.tenant_key, **RANGE, group_by="day,model,key").json()
    got = {
        (r["day"], r["model"], r["key"]): [
            r["requests"],
            r["prompt_tokens"],
            r["completion_tokens"],
            r["cost"],
        ]
        for r in body["data"]
    }
    expected = _expected(seeded["rows"], "acme")
    assert got.keys() == expected.keys()
    for group, sums in expected.items():
        assert got[group][:3] == sums[:3] and got[group][3] == pytest.approx(sums[3])
    assert body["totals"]["requests"] == 4 and body["totals"]["cost"] == pytest.approx(1.875)
    # 23:30 UTC belongs to March 1st, whatever the database session's time zone.
    assert ("2024-03-01", "m-pub", "ka1") in got


def test_csv_has_a_header_and_the_same_numbers(platform: Platform, seeded: dict[str, Any]) -> None:
    response = _get(platform, "/v1/usage", platform.tenant_key, **RANGE, group_by="model", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert list(table[0]) == ["model", "requests", "prompt_tokens", "completion_tokens", "cost"]
    by_model = {row["model"]: row for row in table}
    assert int(by_model["m-pub"]["requests"]) == 3 and int(by_model["m-pub"]["prompt_tokens"]) == 18
    assert float(by_model["m-own"]["cost"]) == pytest.approx(1.0)


def test_a_tenant_sees_none_of_another_tenants_rows(platform: Platform, seeded: dict[str, Any]) -> None:
    response = _get(platform, "/v1/usage", seeded["beta_key"], **RANGE, group_by="day,model,key")
    body = response.json()
    assert [(r["model"], r["key"], r["requests"]) for r in body["data"]] == [("m-pub", "kb1", 1)]
    assert "ka1" not in response.text and "ka2" not in response.text
    other = platform.client.get(
        "/v1/usage", params={**RANGE, "tenant": "acme"}, headers=platform.headers(seeded["beta_key"])
    )
    assert other.status_code == 403
    admin = _get(platform, "/v1/usage", platform.admin_key, **RANGE, tenant="acme").json()
    assert admin["tenant"] == "acme" and admin["totals"]["requests"] == 4


def test_provider_sees_only_its_models_and_no_consumers(platform: Platform, seeded: dict[str, Any]) -> None:
    response = _get(platform, "/v1/provider/usage", seeded["maker_key"], **RANGE)
    body = response.json()
    got = {
        (r["day"], r["model"]): [r["requests"], r["prompt_tokens"], r["completion_tokens"]]
        for r in body["data"]
    }
    expected = _expected(seeded["rows"], None, keep=lambda row: row[2] == "m-pub")
    assert got == {group: sums[:3] for group, sums in expected.items()}
    assert body["totals"]["revenue"] == pytest.approx(0.25 + 0.125 + 0.5 + 2.0)
    for secret in (*seeded["ids"].values(), "ka1", "kb1", "acme", "beta", "m-own"):
        if secret != seeded["ids"]["maker"]:
            assert secret not in response.text
    assert set(body["data"][0]) == {
        "day",
        "model",
        "requests",
        "prompt_tokens",
        "completion_tokens",
        "revenue",
    }
    refused = platform.client.get("/v1/provider/usage", headers=platform.headers())
    assert refused.status_code == 403
    grouped_by_key = platform.client.get(
        "/v1/provider/usage", params={"group_by": "key"}, headers=platform.headers(seeded["maker_key"])
    )
    assert grouped_by_key.status_code == 400


def test_bad_report_parameters_are_400(platform: Platform) -> None:
    for params in ({"group_by": "day,tenant"}, {"start": "2024-03-05", "end": "2024-03-01"}, {"start": "x"}):
        response = platform.client.get("/v1/usage", params=params, headers=platform.headers())
        assert response.status_code == 400, params
