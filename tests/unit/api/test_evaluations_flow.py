"""Evaluations end to end in one process: tiny model vs its fine-tune, judge via a mock provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.jobs.worker import Worker
from tests.conftest import Platform
from tests.helpers.mock_upstream import MockUpstream

EVALS = "/v1/evaluations"


def _rows(n: int) -> bytes:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"code {i}"},
                {"role": "assistant", "content": f"answer {i % 2}"},
            ]
        }
        for i in range(n)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _token_f1(output: str, reference: str) -> float:
    """SQuAD-style token F1 for these ASCII answers, recomputed here without the metric's code."""
    predicted, truth = output.lower().split(), reference.lower().split()
    common = sum(min(predicted.count(t), truth.count(t)) for t in set(predicted))
    if not predicted or not truth or common == 0:
        return float(predicted == truth)
    precision, recall = common / len(predicted), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def _upload(platform: Platform, data: bytes, purpose: str, key: str | None = None) -> str:
    response = platform.client.post(
        "/v1/files",
        files={"file": ("d.jsonl", data)},
        data={"purpose": purpose},
        headers=platform.headers(key),
    )
    assert response.status_code == 200, response.text
    return response.json()["id"]


def _run_jobs(platform: Platform) -> None:
    with Worker(platform.settings) as worker:
        while worker.run_once():
            pass


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the flow is database-agnostic; isolation tests cover PostgreSQL")


@pytest.fixture
def two_models(platform: Platform, tiny_model_dir: Path, sqlite_only: None) -> tuple[Platform, str]:
    admin = platform.headers(platform.admin_key)
    assert (
        platform.client.post(
            "/v1/models",
            json={"kind": "local", "id": "tiny", "path": str(tiny_model_dir), "price_output_per_1k": 1.0},
            headers=admin,
        ).status_code
        == 201
    )
    training = _upload(platform, _rows(12), "fine-tune")
    job = platform.client.post(
        "/v1/fine_tuning/jobs",
        json={
            "model": "tiny",
            "training_file": training,
            "suffix": "ev",
            "hyperparameters": {"n_epochs": 3, "batch_size": 4},
        },
        headers=platform.headers(),
    ).json()
    _run_jobs(platform)
    tuned = platform.client.get(f"/v1/fine_tuning/jobs/{job['id']}", headers=platform.headers()).json()
    assert tuned["status"] == "succeeded", tuned
    return platform, tuned["fine_tuned_model"]


def _evaluate(platform: Platform, file_id: str, models: list[str], metrics: list[dict]) -> dict:
    created = platform.client.post(
        EVALS,
        json={"file": file_id, "models": models, "metrics": metrics, "generation": {"max_tokens": 6}},
        headers=platform.headers(),
    )
    assert created.status_code == 200, created.text
    _run_jobs(platform)
    evaluation = platform.client.get(f"{EVALS}/{created.json()['id']}", headers=platform.headers()).json()
    assert evaluation["status"] == "succeeded", evaluation
    return evaluation


def test_two_models_metrics_recomputed_independently(two_models: tuple[Platform, str]) -> None:
    platform, tuned = two_models
    data = _upload(platform, _rows(6), "evals")
    evaluation = _evaluate(platform, data, ["tiny", tuned], [{"name": "exact_match"}, {"name": "token_f1"}])
    assert evaluation["progress"]["done"] == 12
    report = platform.client.get(f"{EVALS}/{evaluation['id']}/report", headers=platform.headers()).json()
    references = {i: f"answer {i % 2}" for i in range(6)}
    for model in ("tiny", tuned):
        outputs = {row["index"]: row["models"][model]["output"] for row in report["examples"]}
        expected = sum(outputs[i].strip() == references[i] for i in range(6)) / 6
        entry = next(m for m in report["models"] if m["id"] == model)
        assert entry["metrics"]["exact_match"]["mean"] == pytest.approx(expected)
        f1 = [_token_f1(outputs[i], references[i]) for i in range(6)]
        assert entry["metrics"]["token_f1"]["mean"] == pytest.approx(sum(f1) / 6)
        assert entry["n_outputs"] == 6 and entry["failures"]["count"] == 0
    html = platform.client.get(
        f"{EVALS}/{evaluation['id']}/report", params={"format": "html"}, headers=platform.headers()
    )
    assert html.headers["content-type"].startswith("text/html") and "<svg" in html.text


@pytest.fixture
def judge(platform: Platform, sqlite_only: None) -> Iterator[MockUpstream]:
    with MockUpstream() as mock:
        platform.allow_outbound(f"127.0.0.1:{mock.port}")
        body = {
            "kind": "remote",
            "id": "judge-remote",
            "base_url": mock.base_url,
            "upstream_model": "mock-model",
        }
        assert (
            platform.client.post(
                "/v1/models", json=body, headers=platform.headers(platform.admin_key)
            ).status_code
            == 201
        )
        yield mock


def test_judge_grades_through_the_platform_and_survives_garbage(
    platform: Platform, judge: MockUpstream
) -> None:
    data = _upload(platform, _rows(4), "evals")
    metrics = [{"name": "judge", "model": "judge-remote", "scale": "pass_fail"}]
    judge.stream_chunks = ['{"score": "pass", ', '"reason": "matches"}']
    graded = _evaluate(platform, data, ["judge-remote"], metrics)
    report = platform.client.get(f"{EVALS}/{graded['id']}/report", headers=platform.headers()).json()
    entry = report["models"][0]["metrics"]["judge"]
    assert entry["mean"] == 1.0 and entry["n_ungraded"] == 0
    assert any("judge" in str(r) for r in judge.requests)  # the judge was really asked

    judge.stream_chunks = ["I ", "cannot ", "decide ", "{not json"]
    garbled = _evaluate(platform, data, ["judge-remote"], metrics)
    report = platform.client.get(f"{EVALS}/{garbled['id']}/report", headers=platform.headers()).json()
    entry = report["models"][0]["metrics"]["judge"]
    assert entry["n_ungraded"] == 4 and entry["mean"] is None


def test_evaluations_are_invisible_across_tenants(platform: Platform) -> None:
    data = _upload(platform, _rows(3), "evals")
    created = platform.client.post(
        EVALS,
        json={"file": data, "models": ["gemma-3-270m"], "metrics": [{"name": "exact_match"}]},
        headers=platform.headers(),
    )
    assert created.status_code == 200, created.text
    evaluation_id = created.json()["id"]
    other = platform.new_tenant("globex")
    for method, path, body in [
        ("GET", f"{EVALS}/{evaluation_id}", None),
        ("GET", f"{EVALS}/{evaluation_id}/report", None),
        ("GET", f"{EVALS}/{evaluation_id}/events", None),
        ("POST", f"{EVALS}/{evaluation_id}/cancel", None),
        ("POST", f"{EVALS}/{evaluation_id}/ratings", {"item": 0, "model_a": "gemma-3-270m", "score": 5}),
    ]:
        response = platform.client.request(method, path, json=body, headers=platform.headers(other))
        assert response.status_code == 404, (method, path, response.text)
    assert platform.client.get(EVALS, headers=platform.headers(other)).json()["data"] == []
    # nor can another tenant evaluate on this tenant's file
    stolen = platform.client.post(
        EVALS,
        json={"file": data, "models": ["gemma-3-270m"], "metrics": [{"name": "exact_match"}]},
        headers=platform.headers(other),
    )
    assert stolen.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "param"),
    [
        ({"models": ["nope"]}, 404, "model"),
        ({"models": ["all-minilm-l6-v2"]}, 400, "models.0"),
        ({"metrics": [{"name": "no_such_metric"}]}, 400, "metrics.0.name"),
        ({"metrics": [{"name": "regex", "pattern": "("}]}, 400, "metrics.0.pattern"),
        ({"metrics": [{"name": "judge", "model": "nope"}]}, 404, "metrics.0.model"),
        ({"file": "file-missing"}, 404, None),
        ({"models": []}, 400, "models"),
    ],
)
def test_bad_evaluations_are_refused(
    platform: Platform, change: dict, status: int, param: str | None
) -> None:
    body = {
        "file": _upload(platform, _rows(2), "evals"),
        "models": ["gemma-3-270m"],
        "metrics": [{"name": "exact_match"}],
        **change,
    }
    response = platform.client.post(EVALS, json=body, headers=platform.headers())
    assert response.status_code == status, response.text
    if param:
        assert response.json()["error"]["param"] == param


def test_ratings_and_cancel(platform: Platform) -> None:
    data = _upload(platform, _rows(3), "evals")
    created = platform.client.post(
        EVALS,
        json={"file": data, "models": ["gemma-3-270m"], "metrics": [{"name": "exact_match"}]},
        headers=platform.headers(),
    ).json()
    url = f"{EVALS}/{created['id']}"
    ok = platform.client.post(
        f"{url}/ratings", json={"item": 1, "model_a": "gemma-3-270m", "score": 7}, headers=platform.headers()
    )
    assert ok.status_code == 201
    for bad in (
        {"item": 9, "model_a": "gemma-3-270m", "score": 1},
        {"item": 0, "model_a": "other", "score": 1},
        {"item": 0, "model_a": "gemma-3-270m", "model_b": "gemma-3-270m"},
    ):
        assert platform.client.post(f"{url}/ratings", json=bad, headers=platform.headers()).status_code == 400
    for _ in range(2):
        cancelled = platform.client.post(f"{url}/cancel", headers=platform.headers())
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
