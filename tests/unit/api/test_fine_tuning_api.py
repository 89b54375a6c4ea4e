"""Fine-tuning jobs over HTTP without training: validation, states, steering, isolation."""

from __future__ import annotations

import pytest

from modelyard.errors import Conflict
from modelyard.jobs.states import check_transition
from modelyard.store import Database
from modelyard.store.tables import FileRecord, Tenant
from tests.conftest import Platform

JOBS = "/v1/fine_tuning/jobs"


def _file(platform: Platform, tenant: str, file_id: str, purpose: str = "fine-tune") -> str:
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        tenant_id = session.query(Tenant).filter_by(name=tenant).one().id
        session.add(
            FileRecord(
                id=file_id,
                tenant_id=tenant_id,
                filename="x.jsonl",
                purpose=purpose,
                bytes=1,
                format="chat",
                status="processed",
                examples=1,
                stats={},
                problems=[],
            )
        )
    db.dispose()
    return file_id


def _create(platform: Platform, key: str | None = None, **body: object):
    payload = {"model": "gemma-3-270m", "training_file": "file-a", **body}
    return platform.client.post(JOBS, json=payload, headers=platform.headers(key))


@pytest.fixture
def with_file(platform: Platform) -> Platform:
    _file(platform, "acme", "file-a")
    return platform


def test_create_returns_openai_job(with_file: Platform) -> None:
    response = _create(with_file, suffix="sales", seed=7, hyperparameters={"n_epochs": 2})
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["object"] == "fine_tuning.job" and job["id"].startswith("ftjob-")
    assert job["status"] == "validating_files" and job["seed"] == 7
    assert job["hyperparameters"] == {"n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": "auto"}
    events = with_file.client.get(f"{JOBS}/{job['id']}/events", headers=with_file.headers()).json()
    assert events["object"] == "list" and "Created" in events["data"][-1]["message"]  # oldest last


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "nope"}, 404, "model"),
        ({"model": "all-minilm-l6-v2"}, 400, "model"),
        ({"training_file": "file-missing"}, 404, "training_file"),
        ({"validation_file": "file-missing"}, 404, "validation_file"),
        ({"hyperparameters": {"n_epochs": 0}}, 400, "hyperparameters.n_epochs"),
        ({"hyperparameters": {"n_epochs": "lots"}}, 400, "hyperparameters.n_epochs"),
        ({"suffix": "bad suffix!"}, 400, "suffix"),
        ({"method": {"type": "supervised", "lora": {"r": 0}}}, 400, "method.lora.r"),
        ({"tenant_id": "someone-else"}, 400, "tenant_id"),
    ],
)
def test_bad_jobs_are_refused_with_the_field(
    with_file: Platform, body: dict, status: int, param: str
) -> None:
    response = _create(with_file, **body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param


def test_wrong_purpose_file_is_refused(platform: Platform) -> None:
    _file(platform, "acme", "file-e", purpose="evals")
    response = _create(platform, training_file="file-e")
    assert response.status_code == 400 and "purpose" in response.json()["error"]["message"]


def test_cancel_is_idempotent_and_final(with_file: Platform) -> None:
    job_id = _create(with_file).json()["id"]
    for _ in range(2):
        response = with_file.client.post(f"{JOBS}/{job_id}/cancel", headers=with_file.headers())
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["finished_at"] is not None
    for action in ("pause", "resume"):
        refused = with_file.client.post(f"{JOBS}/{job_id}/{action}", headers=with_file.headers())
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"


def test_pause_and_resume(with_file: Platform) -> None:
    job_id = _create(with_file).json()["id"]
    paused = with_file.client.post(f"{JOBS}/{job_id}/pause", headers=with_file.headers()).json()
    assert paused["status"] == "paused"
    assert with_file.client.app.state.services.queue.state(job_id) == "held"
    resumed = with_file.client.post(f"{JOBS}/{job_id}/resume", headers=with_file.headers()).json()
    assert resumed["status"] == "queued"
    assert with_file.client.app.state.services.queue.state(job_id) == "queued"


def test_other_tenant_gets_404_everywhere(with_file: Platform) -> None:
    job_id = _create(with_file).json()["id"]
    other = with_file.new_tenant("globex")
    for method, path in [
        ("GET", f"{JOBS}/{job_id}"),
        ("GET", f"{JOBS}/{job_id}/events"),
        ("GET", f"{JOBS}/{job_id}/checkpoints"),
        ("POST", f"{JOBS}/{job_id}/cancel"),
        ("POST", f"{JOBS}/{job_id}/pause"),
        ("POST", f"{JOBS}/{job_id}/resume"),
    ]:
        response = with_file.client.request(method, path, headers=with_file.headers(other))
        assert response.status_code == 404, (method, path)
    listed = with_file.client.get(JOBS, headers=with_file.headers(other)).json()["data"]
    assert listed == []
    # and cannot train on another tenant's file
    assert _create(with_file, key=other).status_code == 404


def test_list_pages_newest_first(with_file: Platform) -> None:
    ids = [_create(with_file).json()["id"] for _ in range(3)]
    page = with_file.client.get(JOBS, params={"limit": 2}, headers=with_file.headers()).json()
    assert [j["id"] for j in page["data"]] == ids[::-1][:2] and page["has_more"]
    rest = with_file.client.get(
        JOBS, params={"limit": 2, "after": ids[1]}, headers=with_file.headers()
    ).json()
    assert [j["id"] for j in rest["data"]] == [ids[0]] and not rest["has_more"]


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        ("validating_files", "queued", True),
        ("queued", "running", True),
        ("running", "succeeded", True),
        ("running", "paused", True),
        ("paused", "queued", True),
        ("succeeded", "running", False),
        ("cancelled", "queued", False),
        ("failed", "running", False),
        ("queued", "succeeded", False),
    ],
)
def test_status_machine(current: str, target: str, ok: bool) -> None:
    if ok:
        check_transition(current, target)
    else:
        with pytest.raises(Conflict):
            check_transition(current, target)
