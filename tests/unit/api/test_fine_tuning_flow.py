"""A fine-tuning job end to end in one process: upload, train a tiny model, publish, chat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from modelyard.jobs.worker import Worker
from modelyard.store import Database
from modelyard.store.tables import ModelRecord, UsageEvent
from tests.conftest import Platform

JOBS = "/v1/fine_tuning/jobs"


def _examples(n: int) -> bytes:
    lines = []
    for i in range(n):
        messages = [
            {"role": "user", "content": f"code {i}"},
            {"role": "assistant", "content": f"answer {i % 3}"},
        ]
        lines.append(json.dumps({"messages": messages}))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def tuned(platform: Platform, tiny_model_dir: Path) -> tuple[Platform, dict]:
    admin = platform.headers(platform.admin_key)
    body = {
        "kind": "local",
        "id": "tiny",
        "path": str(tiny_model_dir),
        "price_input_per_1k": 0.5,
        "price_training_per_1k": 2.0,
    }
    assert platform.client.post("/v1/models", json=body, headers=admin).status_code == 201
    upload = platform.client.post(
        "/v1/files",
        files={"file": ("train.jsonl", _examples(12))},
        data={"purpose": "fine-tune"},
        headers=platform.headers(),
    )
    assert upload.status_code == 200, upload.text
    job = platform.client.post(
        JOBS,
        json={
            "model": "tiny",
            "training_file": upload.json()["id"],
            "validation_file": upload.json()["id"],
            "suffix": "codes",
            "seed": 3,
            "hyperparameters": {"n_epochs": 2, "batch_size": 4},
        },
        headers=platform.headers(),
    ).json()
    settings = platform.settings.model_copy(update={"checkpoint_every_steps": 2, "keep_checkpoints": 2})
    with Worker(settings) as worker:
        assert worker.run_once()
    return platform, platform.client.get(f"{JOBS}/{job['id']}", headers=platform.headers()).json()


def test_job_succeeds_and_publishes_a_model_for_its_tenant_only(tuned: tuple[Platform, dict]) -> None:
    platform, job = tuned
    assert job["status"] == "succeeded", job
    name = job["fine_tuned_model"]
    assert name.startswith("ft:tiny:acme:codes:") and job["trained_tokens"] > 0
    mine = [m["id"] for m in platform.client.get("/v1/models", headers=platform.headers()).json()["data"]]
    assert name in mine
    other = platform.new_tenant("globex")
    theirs = [
        m["id"] for m in platform.client.get("/v1/models", headers=platform.headers(other)).json()["data"]
    ]
    assert name not in theirs
    refused = platform.client.post(
        "/v1/chat/completions",
        json={"model": name, "messages": [{"role": "user", "content": "code 1"}]},
        headers=platform.headers(other),
    )
    assert refused.status_code == 404


def _answers_at_once(platform: Platform, job: dict) -> None:
    reply = platform.client.post(
        "/v1/chat/completions",
        json={
            "model": job["fine_tuned_model"],
            "messages": [{"role": "user", "content": "code 1"}],
            "max_tokens": 8,
            "temperature": 0,
        },
        headers=platform.headers(),
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["usage"]["completion_tokens"] > 0


def _events_and_checkpoints_are_listed(platform: Platform, job: dict) -> None:
    events = platform.client.get(
        f"{JOBS}/{job['id']}/events", params={"limit": 100}, headers=platform.headers()
    ).json()["data"]
    messages = [e["message"] for e in events]
    assert any("successfully completed" in m for m in messages)
    metrics = [e["data"] for e in events if e["type"] == "metrics"]
    assert metrics and {"step", "train_loss", "tokens_per_s", "eta_s"} <= set(metrics[0])
    assert any(m.get("val_loss") is not None for m in metrics)
    checkpoints = platform.client.get(f"{JOBS}/{job['id']}/checkpoints", headers=platform.headers()).json()[
        "data"
    ]
    assert checkpoints and checkpoints[0]["object"] == "fine_tuning.job.checkpoint"
    steps = [c["step_number"] for c in checkpoints]
    # 12 examples in batches of 4 for 2 epochs: steps 1-6, a checkpoint every 2 steps and at
    # each epoch's end; only the newest 2 are kept, on disk and in the list, newest first.
    assert steps == [6, 4]
    on_disk = platform.settings.jobs_dir / job["id"] / "checkpoints"
    assert sorted(p.name for p in on_disk.iterdir()) == ["step-000004", "step-000006"]
    assert "/" not in json.dumps(checkpoints).replace("ft:tiny", "")  # no file paths


def _exactly_one_model_and_one_bill_with_lineage(platform: Platform, job: dict) -> None:
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        models = session.scalars(select(ModelRecord).where(ModelRecord.id == job["fine_tuned_model"])).all()
        bills = session.scalars(select(UsageEvent).where(UsageEvent.ref_id == job["id"])).all()
    db.dispose()
    assert len(models) == 1 and len(bills) == 1
    lineage = models[0].lineage
    assert lineage["base_model"] == "tiny" and lineage["job"] == job["id"]
    assert lineage["training_file"] == job["training_file"] and lineage["hyperparameters"]["n_epochs"] == 2
    assert bills[0].endpoint == "fine_tuning" and bills[0].prompt_tokens == job["trained_tokens"]
    assert bills[0].cost == pytest.approx(job["trained_tokens"] / 1000 * 2.0)  # the training price
    # running the worker again finds nothing to do and publishes nothing twice
    with Worker(platform.settings) as worker:
        assert not worker.run_once()


def test_tuned_model_serves_and_the_job_is_fully_recorded(tuned: tuple[Platform, dict]) -> None:
    # One training run, several checks: training is the slow part of this file.
    platform, job = tuned
    _answers_at_once(platform, job)
    _events_and_checkpoints_are_listed(platform, job)
    _exactly_one_model_and_one_bill_with_lineage(platform, job)
    _the_adapter_downloads_for_its_tenant_only(platform, job)
    _publishing_is_an_audited_admin_change(platform, job)


def _the_adapter_downloads_for_its_tenant_only(platform: Platform, job: dict) -> None:
    import io
    import zipfile

    from safetensors.numpy import load

    url = f"{JOBS}/{job['id']}/adapter"
    response = platform.client.get(url, headers=platform.headers())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["adapter_config.json", "adapter_model.safetensors"]
    weights = load(archive.read("adapter_model.safetensors"))
    assert weights and all("lora" in name for name in weights)
    assert json.loads(archive.read("adapter_config.json"))["peft_type"] == "LORA"
    assert str(platform.settings.home).encode() not in response.content  # no server paths
    other = platform.new_tenant("initech")
    assert platform.client.get(url, headers=platform.headers(other)).status_code == 404


def _publishing_is_an_audited_admin_change(platform: Platform, job: dict) -> None:
    platform.flush_audit()
    admin = platform.headers(platform.admin_key)
    query = {"action": "publish_fine_tuned_model"}
    entries = platform.client.get("/v1/admin/audit", params=query, headers=admin).json()["data"]
    assert [(e["model"], e["detail"]["job"]) for e in entries] == [(job["fine_tuned_model"], job["id"])]
    verified = platform.client.get("/v1/admin/audit/verify", headers=admin)
    assert verified.json()["ok"] is True
