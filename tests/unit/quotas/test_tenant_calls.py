"""Every call made for a tenant passes its quotas: HTTP, evaluations, and fine-tuning's bill.

Refused calls are in the audit log, never in usage; an evaluation asks each call of the
quota guard and stops when the budget runs out; a fine-tune that cannot be paid never starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelyard.jobs.worker import Worker
from tests.conftest import Platform
from tests.helpers.mock_upstream import MockUpstream
from tests.unit.quotas.conftest import add_model

PER_TOKEN = {"price_input_per_1k": 1000.0, "price_output_per_1k": 1000.0}  # $1 a token


def put_quota(platform: Platform, path: str, **limits: Any) -> None:
    response = platform.client.put(
        f"/v1/admin/quotas/{path}", json=limits, headers=platform.headers(platform.admin_key)
    )
    assert response.status_code == 200, response.text


def upload(platform: Platform, rows: int, purpose: str) -> str:
    lines = [
        {
            "messages": [
                {"role": "user", "content": f"code {i}"},
                {"role": "assistant", "content": f"answer {i}"},
            ]
        }
        for i in range(rows)
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    response = platform.client.post(
        "/v1/files", files={"file": ("d.jsonl", data)}, data={"purpose": purpose}, headers=platform.headers()
    )
    assert response.status_code == 200, response.text
    return response.json()["id"]


def run_jobs(platform: Platform) -> None:
    with Worker(platform.settings) as worker:
        while worker.run_once():
            pass


@pytest.fixture
def remote(platform: Platform) -> Iterator[MockUpstream]:
    """A priced remote chat model 'far' on the loopback mock provider."""
    with MockUpstream() as upstream:
        platform.allow_outbound(f"127.0.0.1:{upstream.port}")
        body = {"kind": "remote", "id": "far", "base_url": upstream.base_url, "upstream_model": "mock-model"}
        response = platform.client.post(
            "/v1/models", json={**body, **PER_TOKEN}, headers=platform.headers(platform.admin_key)
        )
        assert response.status_code == 201, response.text
        yield upstream


# -- 3: a refused call is audited, not metered -------------------------------------------
def test_a_call_refused_for_max_tokens_leaves_no_usage_row_but_an_audit_entry(platform: Platform) -> None:
    add_model(platform.settings, "cheap")
    put_quota(platform, "tenants/acme", max_tokens=8)
    body = {"model": "cheap", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100}
    response = platform.client.post("/v1/chat/completions", json=body, headers=platform.headers())
    assert response.status_code == 400 and response.json()["error"]["code"] == "max_tokens_above_quota"
    assert platform.usage_rows() == []
    platform.flush_audit()
    entries = platform.client.get(
        "/v1/admin/audit", params={"tenant": "acme"}, headers=platform.headers(platform.admin_key)
    ).json()["data"]
    refused = [e for e in entries if e["route"] == "/v1/chat/completions"]
    assert refused and refused[0]["status_code"] == 400 and refused[0]["model"] == "cheap"


# -- 2: evaluations ask the quota guard --------------------------------------------------------
def test_an_evaluation_asking_max_tokens_above_the_cap_is_refused_at_create(
    platform: Platform, remote: MockUpstream
) -> None:
    put_quota(platform, "tenants/acme", max_tokens=8, spend_budget=0.05, budget_period="day")
    data = upload(platform, 5, "evals")
    body = {"file": data, "models": ["far"], "metrics": [{"name": "exact_match"}]}
    response = platform.client.post(
        "/v1/evaluations", json={**body, "generation": {"max_tokens": 4096}}, headers=platform.headers()
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "generation.max_tokens" and error["code"] == "max_tokens_above_quota"
    # Without max_tokens the cap is applied, and every call the provider sees stays under it.
    accepted = platform.client.post("/v1/evaluations", json=body, headers=platform.headers())
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["generation"]["max_tokens"] == 8


def test_an_evaluation_stops_when_the_budget_runs_out_and_what_it_spent_is_billed(
    platform: Platform, remote: MockUpstream
) -> None:
    # A call here costs about $6 ("code i" -> "You said: code i"), and reserves ~$22.
    budget = 40.0
    put_quota(platform, "tenants/acme", spend_budget=budget, budget_period="day")
    data = upload(platform, 10, "evals")
    created = platform.client.post(
        "/v1/evaluations",
        json={
            "file": data,
            "models": ["far"],
            "metrics": [{"name": "exact_match"}],
            "generation": {"max_tokens": 8},
            "concurrency": 1,
        },
        headers=platform.headers(),
    )
    assert created.status_code == 200, created.text
    run_jobs(platform)
    evaluation_id = created.json()["id"]
    evaluation = platform.client.get(f"/v1/evaluations/{evaluation_id}", headers=platform.headers()).json()
    assert evaluation["status"] == "failed", evaluation
    assert "spend budget" in json.dumps(evaluation["error"])
    events = platform.client.get(f"/v1/evaluations/{evaluation_id}/events", headers=platform.headers()).json()
    assert any("spend budget" in event["message"] for event in events["data"])
    billed = [row for row in platform.usage_rows() if row.endpoint == "evaluation"]
    assert 1 <= len(billed) < 10 and len(remote.requests) == len(billed)
    assert 0 < sum(row.cost for row in billed) <= budget
    assert all(request.json["max_tokens"] == 8 for request in remote.requests)


# -- 2: fine-tuning's estimated bill against what is left --------------------------------------
def test_a_fine_tune_costing_more_than_the_budget_left_is_refused(
    platform: Platform, tiny_model_dir: Path
) -> None:
    body = {"kind": "local", "id": "tiny", "path": str(tiny_model_dir), "price_training_per_1k": 1000.0}
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 201, response.text
    training = upload(platform, 12, "fine-tune")
    job = {"model": "tiny", "training_file": training, "hyperparameters": {"n_epochs": 2}}
    put_quota(platform, "tenants/acme", spend_budget=10.0, budget_period="month")
    refused = platform.client.post("/v1/fine_tuning/jobs", json=job, headers=platform.headers())
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "spend_quota_exceeded"
    assert "estimated training cost" in refused.json()["error"]["message"]
    assert platform.client.get("/v1/fine_tuning/jobs", headers=platform.headers()).json()["data"] == []
    put_quota(platform, "tenants/acme", spend_budget=100_000.0, budget_period="month")
    accepted = platform.client.post("/v1/fine_tuning/jobs", json=job, headers=platform.headers())
    assert accepted.status_code == 200, accepted.text
