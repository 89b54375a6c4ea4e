"""A finished job's phases, its checkpoints published as models, and the estimate before a job.

On SQLite and PostgreSQL (the ``platform`` fixture runs on both).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from modelyard.jobs.worker import Worker
from modelyard.store import Database
from modelyard.store.tables import FineTuningCheckpoint, FineTuningJob, ModelRecord, UsageEvent
from tests.conftest import Platform
from tests.unit.api.test_fine_tuning_flow import _examples

JOBS = "/v1/fine_tuning/jobs"
ESTIMATES = "/v1/fine_tuning/estimates"
PHASES = ["queued", "loading_base", "tokenizing", "training", "saving", "publishing"]


def _register_tiny(platform: Platform, tiny_model_dir: Path) -> None:
    body = {"kind": "local", "id": "tiny", "path": str(tiny_model_dir), "price_training_per_1k": 2.0}
    response = platform.client.post("/v1/models", json=body, headers=platform.headers(platform.admin_key))
    assert response.status_code == 201, response.text


def _upload(platform: Platform, n: int = 12, key: str | None = None) -> str:
    upload = platform.client.post(
        "/v1/files",
        files={"file": ("train.jsonl", _examples(n))},
        data={"purpose": "fine-tune"},
        headers=platform.headers(key),
    )
    assert upload.status_code == 200, upload.text
    return upload.json()["id"]


def _job_body(file_id: str) -> dict:
    return {
        "model": "tiny",
        "training_file": file_id,
        "seed": 3,
        "hyperparameters": {"n_epochs": 2, "batch_size": 4},
    }


@pytest.fixture
def finished(platform: Platform, tiny_model_dir: Path) -> tuple[Platform, dict]:
    _register_tiny(platform, tiny_model_dir)
    job = platform.client.post(JOBS, json=_job_body(_upload(platform)), headers=platform.headers()).json()
    queued = platform.client.get(f"{JOBS}/{job['id']}", headers=platform.headers()).json()
    assert queued["phase"] == "queued"
    settings = platform.settings.model_copy(update={"checkpoint_every_steps": 2, "keep_checkpoints": 3})
    with Worker(settings) as worker:
        assert worker.run_once()
    return platform, platform.client.get(f"{JOBS}/{job['id']}", headers=platform.headers()).json()


def _events(platform: Platform, job_id: str) -> list[dict]:
    page = platform.client.get(f"{JOBS}/{job_id}/events", params={"limit": 100}, headers=platform.headers())
    return list(reversed(page.json()["data"]))  # oldest first


def _publish(platform: Platform, job_id: str, step: int, key: str | None = None):
    return platform.client.post(f"{JOBS}/{job_id}/checkpoints/{step}/publish", headers=platform.headers(key))


def _bills(platform: Platform, job_id: str) -> list[UsageEvent]:
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        rows = list(session.scalars(select(UsageEvent).where(UsageEvent.ref_id == job_id)))
    db.dispose()
    return rows


def test_phases_are_events_in_order_and_the_job_says_which(finished: tuple[Platform, dict]) -> None:
    platform, job = finished
    assert job["status"] == "succeeded" and job["phase"] is None  # finished: the status says all
    events = _events(platform, job["id"])
    phases = [e["data"]["phase"] for e in events if e["data"] and "phase" in e["data"]]
    assert phases == PHASES
    assert all(e["type"] == "message" for e in events if e["data"] and "phase" in e["data"])
    first_step = next(i for i, e in enumerate(events) if e["type"] == "metrics")
    before = [e["data"]["phase"] for e in events[:first_step] if e["data"] and "phase" in e["data"]]
    assert before == ["queued", "loading_base", "tokenizing", "training"]


def test_a_checkpoint_is_published_once_callable_at_once_and_not_billed_again(
    finished: tuple[Platform, dict],
) -> None:
    platform, job = finished
    listed = platform.client.get(f"{JOBS}/{job['id']}/checkpoints", headers=platform.headers()).json()["data"]
    assert [c["step_number"] for c in listed] == [6, 4, 3]  # every 2 steps and at each epoch's end; 3 kept
    assert not any(c["published"] for c in listed)
    name = f"{job['fine_tuned_model']}:ckpt-step-4"
    assert listed[1]["fine_tuned_model_checkpoint"] == name

    response = _publish(platform, job["id"], 4)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == name
    reply = platform.client.post(
        "/v1/chat/completions",
        json={"model": name, "messages": [{"role": "user", "content": "code 1"}], "max_tokens": 4},
        headers=platform.headers(),
    )
    assert reply.status_code == 200, reply.text
    card = platform.client.get(f"/v1/models/{name}", headers=platform.headers()).json()
    assert card["id"] == name
    listed = platform.client.get(f"{JOBS}/{job['id']}/checkpoints", headers=platform.headers()).json()["data"]
    assert [c["published"] for c in listed] == [False, True, False]
    assert len(_bills(platform, job["id"])) == 1  # the training bill of the job, nothing more

    again = _publish(platform, job["id"], 4)
    assert again.status_code == 409 and again.json()["error"]["code"] == "checkpoint_already_published"
    assert name in again.json()["error"]["message"]
    missing = _publish(platform, job["id"], 5)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "checkpoint_not_found"
    assert "3, 4, 6" in missing.json()["error"]["message"]
    other = platform.new_tenant("globex")
    assert _publish(platform, job["id"], 6, key=other).status_code == 404
    theirs = [
        m["id"] for m in platform.client.get("/v1/models", headers=platform.headers(other)).json()["data"]
    ]
    assert name not in theirs


def test_a_cancelled_job_is_billed_once_on_its_first_publish(finished: tuple[Platform, dict]) -> None:
    """A cancelled job was never billed; publishing its checkpoint bills the training its
    checkpoints hold, once, however many of them are published."""
    platform, done = finished
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        source = session.get(FineTuningJob, done["id"])
        copy = FineTuningJob(
            id="ftjob-cancelled0000000000000",
            tenant_id=source.tenant_id,
            key_id=source.key_id,
            model=source.model,
            training_file=source.training_file,
            seed=source.seed,
            hyperparameters=dict(source.hyperparameters),
            method=dict(source.method),
            status="cancelled",
        )
        session.add(copy)
        session.flush()
        for step in (3, 4):
            session.add(
                FineTuningCheckpoint(id=f"ftckpt-cancelled-{step}", job_id=copy.id, step=step, metrics={})
            )
    db.dispose()
    jobs_dir = platform.settings.jobs_dir
    for step in (3, 4):
        shutil.copytree(
            jobs_dir / done["id"] / "checkpoints" / f"step-{step:06d}",
            jobs_dir / copy.id / "checkpoints" / f"step-{step:06d}",
        )

    assert _publish(platform, copy.id, 3).status_code == 200
    bills = _bills(platform, copy.id)
    # 12 examples, 3 steps an epoch: step 4 (the latest checkpoint) is 4 of 6 steps.
    assert len(bills) == 1 and 0 < bills[0].prompt_tokens < done["trained_tokens"]
    assert bills[0].cost == pytest.approx(bills[0].prompt_tokens / 1000 * 2.0)
    second = _publish(platform, copy.id, 4)
    assert second.status_code == 200
    assert len(_bills(platform, copy.id)) == 1
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        record = session.get(ModelRecord, second.json()["model"])
        assert record.lineage["checkpoint_step"] == 4 and record.lineage["job"] == copy.id
    db.dispose()


def test_a_running_job_cannot_publish_yet(platform: Platform, tiny_model_dir: Path) -> None:
    _register_tiny(platform, tiny_model_dir)
    job = platform.client.post(JOBS, json=_job_body(_upload(platform)), headers=platform.headers()).json()
    refused = _publish(platform, job["id"], 2)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "job_not_finished"
    platform.client.post(f"{JOBS}/{job['id']}/cancel", headers=platform.headers())
    none = _publish(platform, job["id"], 2)
    assert none.status_code == 400 and "has none" in none.json()["error"]["message"]


def test_estimate_counts_tokens_times_epochs_prices_them_and_times_them(
    finished: tuple[Platform, dict],
) -> None:
    platform, job = finished
    response = platform.client.post(
        ESTIMATES, json=_job_body(job["training_file"]), headers=platform.headers()
    )
    assert response.status_code == 200, response.text
    estimate = response.json()
    assert estimate["epochs"] == 2 and estimate["examples"] == 12
    assert estimate["token_counter"] == "tokenizer"
    # Counted with the base's tokenizer: what the job really trained on.
    assert estimate["trained_tokens"] == job["trained_tokens"]
    assert estimate["cost"] == pytest.approx(job["trained_tokens"] / 1000 * 2.0)
    # An earlier job on this base measured this machine's speed.
    assert estimate["basis"] == "measured" and estimate["tokens_per_s"] > 0
    assert estimate["seconds"] == pytest.approx(
        estimate["trained_tokens"] / estimate["tokens_per_s"], abs=0.1
    )


def test_estimate_refuses_bad_input_clearly(platform: Platform, tiny_model_dir: Path) -> None:
    _register_tiny(platform, tiny_model_dir)
    mine = _upload(platform, 4)
    first = platform.client.post(ESTIMATES, json=_job_body(mine), headers=platform.headers())
    assert first.status_code == 200, first.text
    assert first.json()["basis"] in ("hardware_probe", "unknown")  # no job has run on it here
    other = platform.new_tenant("globex")
    theirs = platform.client.post(ESTIMATES, json=_job_body(mine), headers=platform.headers(other))
    assert theirs.status_code == 404 and theirs.json()["error"]["param"] == "training_file"
    unknown = platform.client.post(
        ESTIMATES, json={**_job_body(mine), "model": "nope"}, headers=platform.headers()
    )
    assert unknown.status_code == 404
    bad = platform.client.post(ESTIMATES, json={"model": "tiny"}, headers=platform.headers())
    assert bad.status_code == 400
    epochs = platform.client.post(
        ESTIMATES, json={**_job_body(mine), "hyperparameters": {"n_epochs": 0}}, headers=platform.headers()
    )
    assert epochs.status_code == 400
