"""Fine-tuning through the official SDK against a live server, and kill -9 of the worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from sqlalchemy import select

from modelyard.store import Database
from modelyard.store.tables import FineTuningEvent, ModelRecord, UsageEvent
from tests.helpers.deadlines import scaled, wait_until
from tests.integration.conftest import LiveServer, free_port, start_server


def _jsonl(n: int) -> bytes:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"item {i}"},
                {"role": "assistant", "content": f"label {i % 4}"},
            ]
        }
        for i in range(n)
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _register_tiny(server: LiveServer, name: str, folder: Path) -> None:
    body = {"kind": "local", "id": name, "path": str(folder)}
    response = httpx.post(
        f"{server.base_url}/v1/models",
        json=body,
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=scaled(60),
    )
    assert response.status_code in (201, 409), response.text


def _wait(client: openai.OpenAI, job_id: str, timeout_s: float = 300) -> object:
    statuses: list[str] = []

    def finished() -> object | None:
        job = client.fine_tuning.jobs.retrieve(job_id)
        statuses.append(job.status)
        return job if job.status in ("succeeded", "failed", "cancelled") else None

    return wait_until(
        finished, timeout_s, what=f"job {job_id} to finish", interval=0.5, last=lambda: statuses[-1:]
    )


def test_sdk_uploads_tunes_polls_lists_and_chats(live_server: LiveServer, tiny_model_dir: Path) -> None:
    _register_tiny(live_server, "tiny-live", tiny_model_dir)
    tenant_key = live_server.cli("tenants", "create", "sdk-tuner").stdout.strip().splitlines()[-1]
    client = openai.OpenAI(base_url=f"{live_server.base_url}/v1", api_key=tenant_key, max_retries=0)
    uploaded = client.files.create(file=("train.jsonl", _jsonl(16)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="tiny-live",
        training_file=uploaded.id,
        suffix="sdk",
        seed=1,
        hyperparameters={"n_epochs": 2, "batch_size": 4},
    )
    assert job.status == "validating_files"
    job = _wait(client, job.id)
    assert job.status == "succeeded", job.error
    events = client.fine_tuning.jobs.list_events(job.id, limit=50).data
    assert any("successfully completed" in e.message for e in events)
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert checkpoints and checkpoints[0].step_number > 0
    reply = client.chat.completions.create(
        model=job.fine_tuned_model,
        messages=[{"role": "user", "content": "item 3"}],
        max_tokens=6,
        temperature=0,
    )
    assert reply.choices[0].message.content is not None and reply.usage.completion_tokens > 0
    assert job.fine_tuned_model in [m.id for m in client.models.list()]


@pytest.fixture
def crash_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server without its own worker: the test starts and kills workers itself."""
    with start_server(
        tmp_path / "home",
        free_port(),
        worker=False,
        extra_env={"MODELYARD_JOB_LEASE_S": "1", "MODELYARD_CHECKPOINT_EVERY_STEPS": "10"},
    ) as server:
        yield server


def _worker(server: LiveServer) -> subprocess.Popen[bytes]:
    log = (server.home / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "modelyard", "worker"], env=server.env, stdout=log, stderr=subprocess.STDOUT
    )


def _checkpoint_steps(client: openai.OpenAI, job_id: str) -> list[int]:
    return [c.step_number for c in client.fine_tuning.jobs.checkpoints.list(job_id, limit=100).data]


def test_kill_9_of_the_worker_resumes_from_the_last_checkpoint(
    crash_server: LiveServer, tiny_model_dir: Path
) -> None:
    server = crash_server
    _register_tiny(server, "tiny-crash", tiny_model_dir)
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.admin_key, max_retries=0)
    uploaded = client.files.create(file=("train.jsonl", _jsonl(100)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="tiny-crash",
        training_file=uploaded.id,
        seed=5,
        hyperparameters={"n_epochs": 4, "batch_size": 1},
    )
    first = _worker(server)

    def checkpointed() -> list[int]:
        assert first.poll() is None, "the worker exited before its first checkpoint"
        return _checkpoint_steps(client, job.id)

    wait_until(checkpointed, 120, what="the first checkpoint")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert client.fine_tuning.jobs.retrieve(job.id).status == "running"
    last_checkpoint = max(_checkpoint_steps(client, job.id))
    assert last_checkpoint < 400, "the worker finished before it was killed; make the run longer"

    second = _worker(server)
    try:
        finished = _wait(client, job.id)
    finally:
        second.terminate()
        second.wait(timeout=scaled(30))
    assert finished.status == "succeeded", finished.error

    db = Database(f"sqlite:///{server.home / 'modelyard.db'}")
    with db.session() as session:
        events = session.scalars(
            select(FineTuningEvent).where(FineTuningEvent.job_id == job.id).order_by(FineTuningEvent.id)
        ).all()
        models = session.scalars(select(ModelRecord).where(ModelRecord.id == finished.fine_tuned_model)).all()
        bills = session.scalars(select(UsageEvent).where(UsageEvent.ref_id == job.id)).all()
    db.dispose()
    resumed = [i for i, e in enumerate(events) if (e.data or {}).get("resumed_from_step") is not None]
    assert len(resumed) == 1 and events[resumed[0]].data["resumed_from_step"] == last_checkpoint
    steps_after = [
        e.data["step"] for e in events[resumed[0] + 1 :] if e.type == "metrics" and "step" in (e.data or {})
    ]
    assert steps_after[0] == last_checkpoint + 1
    assert len(models) == 1 and len(bills) == 1
    assert bills[0].prompt_tokens == finished.trained_tokens
