"""Quotas end to end over HTTP: admin API, 429 with Retry-After, nothing billed when refused."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import httpx
import pytest

from modelyard.store import Database, UsageEvent
from modelyard.store.tables import Evaluation, FineTuningJob
from tests.conftest import Platform
from tests.unit.quotas.conftest import add_model

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def put_quota(platform: Platform, path: str, **limits: Any) -> dict[str, Any]:
    response = platform.client.put(
        f"/v1/admin/quotas/{path}", json=limits, headers=platform.headers(platform.admin_key)
    )
    assert response.status_code == 200, response.text
    return response.json()


def key_id(key: str) -> str:
    return key.split("-")[1]


def chat(platform: Platform, model: str = "cheap", key: str | None = None, **body: Any) -> httpx.Response:
    payload = {"model": model, "messages": [{"role": "user", "content": "hello there"}], **body}
    return platform.client.post("/v1/chat/completions", json=payload, headers=platform.headers(key))


def concurrently(platform: Platform, requests: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    """Sends every request at once, on the app's own event loop."""
    app = platform.client.app

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(client.post(path, json=body, headers=platform.headers()) for path, body in requests)
            )

    return platform.client.portal.call(send_all)


def assert_quota_refusal(response: httpx.Response, code: str) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["type"] == "rate_limit_error" and error["code"] == code
    assert int(response.headers["retry-after"]) >= 1


# -- the acceptance race --------------------------------------------------------
@sqlite_only
def test_fifty_concurrent_calls_against_ten_per_minute_admit_exactly_ten(limited: Platform) -> None:
    put_quota(limited, "tenants/acme", requests_per_minute=10)
    body = {"model": "vec", "input": "a b c"}
    responses = concurrently(limited, [("/v1/embeddings", body)] * 50)
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 10 and statuses.count(429) == 40
    for refused in (r for r in responses if r.status_code == 429):
        assert_quota_refusal(refused, "rpm_quota_exceeded")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Refused calls leave no usage row: only the ten admitted ones were metered.
    assert len(limited.usage_rows()) == 10


@sqlite_only
def test_a_key_quota_is_held_apart_from_its_tenant(limited: Platform) -> None:
    second = limited.client.post(
        "/v1/admin/tenants/acme/keys", json={"name": "second"}, headers=limited.headers(limited.admin_key)
    ).json()["key"]
    put_quota(limited, f"keys/{key_id(limited.tenant_key)}", requests_per_minute=2)
    assert [chat(limited).status_code for _ in range(3)] == [200, 200, 429]
    assert chat(limited, key=second).status_code == 200  # the other key of the tenant is not limited


# -- tokens, spend, max_tokens -------------------------------------------------------
@sqlite_only
def test_tokens_per_minute_reserve_the_worst_case_then_reconcile(limited: Platform) -> None:
    # "hello there": 11 bytes + 8 for the message, plus max_tokens 3 = 22 reserved; 5 used.
    put_quota(limited, "tenants/acme", tokens_per_minute=40)
    first = chat(limited, max_tokens=3)
    assert first.status_code == 200 and first.json()["usage"]["total_tokens"] == 5
    second = chat(limited, max_tokens=3)  # 5 used + 22 reserved fits in 40 only because of the cut
    assert second.status_code == 200
    third = chat(limited, max_tokens=20)  # 10 used + 39 reserved > 40
    assert_quota_refusal(third, "tpm_quota_exceeded")


@sqlite_only
def test_a_request_that_could_never_fit_the_tokens_quota_is_a_400(limited: Platform) -> None:
    put_quota(limited, "tenants/acme", tokens_per_minute=20)
    response = chat(limited, max_tokens=100)
    assert response.status_code == 400 and response.json()["error"]["code"] == "request_above_quota"


@sqlite_only
def test_spend_budget_refuses_and_a_refused_call_charges_nothing(limited: Platform) -> None:
    add_model(limited.settings, "priced", price_in=1000.0, price_out=1000.0)  # $1 per token
    # Worst case of one call: 19 prompt tokens reserved + 3 completion = $22; it costs $5.
    put_quota(limited, "tenants/acme", spend_budget=25.0, budget_period="day")
    assert chat(limited, "priced", max_tokens=3).status_code == 200
    rows_before = limited.usage_rows()
    assert sum(row.cost for row in rows_before) == pytest.approx(5.0)
    refused = chat(limited, "priced", max_tokens=3)  # $5 spent + $22 worst case > $25
    assert_quota_refusal(refused, "spend_quota_exceeded")
    assert chat(limited, "priced", max_tokens=1).status_code == 200  # $5 + $20 fits exactly
    rows_after = limited.usage_rows()
    assert len(rows_after) == len(rows_before) + 1  # the refused call left no row
    assert sum(row.cost for row in rows_after) == pytest.approx(5.0 + 3.0)


@sqlite_only
def test_spend_already_recorded_this_period_counts(limited: Platform) -> None:
    add_model(limited.settings, "priced", price_in=1000.0, price_out=1000.0)
    db = Database(limited.settings.resolved_database_url)
    tenant_id = limited.client.app.state.services.tenancy.get_tenant("acme").id
    with db.session() as session:
        session.add(
            UsageEvent(
                tenant_id=tenant_id, key_id="old", model="priced", endpoint="chat", status_code=200, cost=99.0
            )
        )
    db.dispose()
    put_quota(limited, "tenants/acme", spend_budget=100.0)
    response = chat(limited, "priced", max_tokens=1)
    assert_quota_refusal(response, "spend_quota_exceeded")
    assert int(response.headers["retry-after"]) > 60  # until the month ends, not a minute


@sqlite_only
def test_max_tokens_above_the_cap_is_a_400_and_a_missing_one_is_capped(limited: Platform) -> None:
    put_quota(limited, f"keys/{key_id(limited.tenant_key)}", max_tokens=2)
    response = chat(limited, max_tokens=3)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "max_tokens_above_quota"
    assert response.json()["error"]["param"] == "max_tokens"
    capped = chat(limited)  # the model would say three words; the quota stops it at two
    assert capped.status_code == 200 and capped.json()["usage"]["completion_tokens"] == 2


@sqlite_only
def test_streaming_is_limited_and_settled_too(limited: Platform) -> None:
    put_quota(limited, "tenants/acme", requests_per_minute=1, tokens_per_minute=100)
    first = chat(limited, stream=True, max_tokens=3)
    assert first.status_code == 200 and first.text.rstrip().endswith("data: [DONE]")
    assert_quota_refusal(chat(limited, stream=True, max_tokens=3), "rpm_quota_exceeded")
    status = limited.client.get("/v1/quotas", headers=limited.headers()).json()
    assert status["tenant"]["used"]["tokens_this_minute"] == 5  # the reservation cut to use


# -- uploads and jobs ---------------------------------------------------------------
def _upload(platform: Platform, size: int) -> httpx.Response:
    line = json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
    data = (line + "\n") * (size // (len(line) + 1) + 1)
    files = {"file": ("data.jsonl", io.BytesIO(data.encode()))}
    return platform.client.post(
        "/v1/files", files=files, data={"purpose": "fine-tune"}, headers=platform.headers()
    )


@sqlite_only
def test_an_upload_above_the_quota_is_a_413(limited: Platform) -> None:
    put_quota(limited, "tenants/acme", max_upload_bytes=2000)
    assert _upload(limited, 1000).status_code == 200
    response = _upload(limited, 5000)
    assert response.status_code == 413
    assert "2000 bytes" in response.json()["error"]["message"]


def _add_job(platform: Platform, kind: type, status: str) -> None:
    services = platform.client.app.state.services
    tenant_id = services.tenancy.get_tenant("acme").id
    common = {"tenant_id": tenant_id, "key_id": key_id(platform.tenant_key), "status": status}
    with services.db.session() as session:
        if kind is FineTuningJob:
            session.add(FineTuningJob(id=f"ftjob-{status}", model="m", training_file="f", **common))
        else:
            session.add(Evaluation(id=f"eval-{status}", file_id="f", **common))


@sqlite_only
def test_concurrent_jobs_cap_refuses_with_429(limited: Platform) -> None:
    services = limited.client.app.state.services
    put_quota(limited, "tenants/acme", max_concurrent_jobs=2)
    _add_job(limited, FineTuningJob, "running")
    _add_job(limited, FineTuningJob, "succeeded")  # finished jobs hold no slot
    upload = _upload(limited, 1000).json()
    body = {"name": "e", "file": upload["id"], "models": ["cheap"], "metrics": [{"name": "exact_match"}]}
    # One slot left: an evaluation takes it (queued), the next job is refused.
    first = limited.client.post("/v1/evaluations", json=body, headers=limited.headers())
    assert first.status_code in (200, 201), first.text
    second = limited.client.post("/v1/evaluations", json=body, headers=limited.headers())
    assert_quota_refusal(second, "concurrent_jobs_exceeded")
    principal = services.tenancy.authenticate(limited.tenant_key)
    assert services.quotas.active_jobs(principal) == 2


@pytest.mark.parametrize("limited", ["memory"], indirect=True)
def test_creates_racing_for_the_last_slot_never_overshoot(
    limited: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """8 evaluations created at once against a cap of 1: one is queued, 7 get 429 (both databases).

    The count is slowed down, as a busy database would, so that without the lock every
    create would count zero before any inserts."""
    from modelyard.quotas.service import QuotaService

    put_quota(limited, "tenants/acme", max_concurrent_jobs=1)
    upload = _upload(limited, 1000).json()
    body = {"name": "e", "file": upload["id"], "models": ["cheap"], "metrics": [{"name": "exact_match"}]}
    counted = QuotaService.active_jobs

    def slow_count(self: QuotaService, *args: Any, **kwargs: Any) -> int:
        found = counted(self, *args, **kwargs)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(QuotaService, "active_jobs", slow_count)
    responses = concurrently(limited, [("/v1/evaluations", body)] * 8)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [429] * 7, [r.text for r in responses]
    monkeypatch.setattr(QuotaService, "active_jobs", counted)
    principal = limited.client.app.state.services.tenancy.authenticate(limited.tenant_key)
    assert limited.client.app.state.services.quotas.active_jobs(principal) == 1


# -- the admin API and the caller's view -------------------------------------------
@sqlite_only
def test_admin_quota_api_round_trips_and_forbids_extras(limited: Platform) -> None:
    admin = limited.headers(limited.admin_key)
    empty = limited.client.get("/v1/admin/quotas/tenants/acme", headers=admin).json()
    assert empty["requests_per_minute"] is None and empty["updated_at"] is None
    stored = put_quota(limited, "tenants/acme", requests_per_minute=5, spend_budget=2.5, budget_period="day")
    got = limited.client.get("/v1/admin/quotas/tenants/acme", headers=admin).json()
    assert got == stored and got["spend_budget"] == 2.5 and got["budget_period"] == "day"
    extra = limited.client.put("/v1/admin/quotas/tenants/acme", json={"rpm": 5}, headers=admin)
    assert extra.status_code == 400 and extra.json()["error"]["param"] == "rpm"
    assert limited.client.put("/v1/admin/quotas/keys/nope", json={}, headers=admin).status_code == 404
    tenant_put = limited.client.put("/v1/admin/quotas/tenants/acme", json={}, headers=limited.headers())
    assert tenant_put.status_code == 403


@pytest.mark.parametrize("limited", ["memory"], indirect=True)
@pytest.mark.parametrize(
    "field",
    ["requests_per_minute", "tokens_per_minute", "max_tokens", "max_upload_bytes", "max_concurrent_jobs"],
)
def test_limits_past_what_the_database_holds_are_a_400(limited: Platform, field: str) -> None:
    """Found by the fuzzer: a limit past the column's range was a 500 (both databases)."""
    admin = limited.headers(limited.admin_key)
    largest = put_quota(limited, "tenants/acme", **{field: 2**31 - 1})
    assert largest[field] == 2**31 - 1
    for value in (2**31, 2**64):
        refused = limited.client.put("/v1/admin/quotas/tenants/acme", json={field: value}, headers=admin)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == field, refused.text
    budget = limited.client.put("/v1/admin/quotas/tenants/acme", json={"spend_budget": 1e308}, headers=admin)
    assert budget.status_code == 400 and budget.json()["error"]["param"] == "spend_budget"


@sqlite_only
def test_caller_sees_the_stricter_limit_and_what_is_left(limited: Platform) -> None:
    put_quota(limited, "tenants/acme", requests_per_minute=10, max_tokens=100)
    put_quota(limited, f"keys/{key_id(limited.tenant_key)}", requests_per_minute=4, max_tokens=500)
    assert chat(limited).status_code == 200
    status = limited.client.get("/v1/quotas", headers=limited.headers()).json()
    assert status["effective"]["requests_per_minute"] == 4
    assert status["effective"]["max_tokens"] == 100
    assert status["remaining"]["requests_this_minute"] == 3
    assert status["tenant"]["used"]["requests_this_minute"] == 1
    assert status["remaining"]["spend_this_period"] is None  # no budget, nothing to run out of
