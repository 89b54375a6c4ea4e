"""One job lifecycle: kinds registered at start-up, the worker's own services, publishing
through the catalog, usage and audit services (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

import modelyard.services
import modelyard.worker_services
from modelyard.jobs.context import JobContext
from modelyard.jobs.kinds import JobKind, JobKinds
from modelyard.jobs.queue import Lease
from modelyard.jobs.states import ACTIVE, TERMINAL, JobStatus, check_transition
from modelyard.jobs.worker import Worker
from modelyard.store import Database
from modelyard.store.tables import FineTuningJob, ModelRecord, UsageEvent, utcnow
from tests.conftest import Platform
from tests.helpers.trust import add_model, upload

_SRC = str(Path(__file__).parents[3] / "src")


def _imported_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": _SRC}
    )
    return set(json.loads(out.stdout))


def test_job_modules_and_the_worker_do_not_import_each_other() -> None:
    assert "modelyard.jobs.worker" not in _imported_after(
        "import modelyard.finetune.job, modelyard.evals.job"
    )
    loaded = _imported_after("import modelyard.jobs.worker")
    assert not {"modelyard.finetune.job", "modelyard.evals.job"} & loaded


def test_a_kind_registers_once() -> None:
    kind = JobKind(name="k", table=FineTuningJob, add_event=lambda *a, **k: None, run=lambda c: None)
    kinds = JobKinds([kind])
    with pytest.raises(ValueError, match="already registered"):
        kinds.register(kind)
    assert kinds.names == ("k",)


def test_one_status_machine_for_every_kind() -> None:
    from modelyard.quotas import service as quotas

    assert quotas.ACTIVE_JOBS is ACTIVE and not ACTIVE & TERMINAL
    check_transition(JobStatus.QUEUED, JobStatus.RUNNING)
    for ended in TERMINAL:
        with pytest.raises(Exception, match="cannot become") as refused:
            check_transition(ended, JobStatus.CANCELLED)
        assert refused.value.code == "invalid_transition"


def _rows(n: int) -> bytes:
    return "".join(
        json.dumps(
            {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
        )
        + "\n"
        for i in range(n)
    ).encode()


def test_the_worker_builds_its_services_once_and_stops_them(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_model(platform, "echo")
    file_id = upload(platform, _rows(2), "evals")
    body = {"file": file_id, "models": ["echo"], "metrics": [{"name": "exact_match"}]}
    ids = [
        platform.client.post("/v1/evaluations", json=body, headers=platform.headers()).json()["id"]
        for _ in "ab"
    ]

    def web_container(*_args: Any) -> None:
        raise AssertionError("a job built the web Services container")

    built: list[Any] = []
    real = modelyard.worker_services.build_worker_services
    monkeypatch.setattr(modelyard.services, "build_services", web_container)
    monkeypatch.setattr(
        modelyard.worker_services, "build_worker_services", lambda s: built.append(real(s)) or built[-1]
    )
    with Worker(platform.settings) as worker:
        assert worker.run_once() and worker.run_once()
        assert worker.services.pool.loaded() == ["echo"]  # one load served both jobs
    assert len(built) == 1 and built[0] is worker.services
    assert worker.services.pool.loaded() == []  # stopped on exit
    for evaluation_id in ids:
        got = platform.client.get(f"/v1/evaluations/{evaluation_id}", headers=platform.headers()).json()
        assert got["status"] == "succeeded", got
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        metered = session.scalars(select(UsageEvent).where(UsageEvent.endpoint == "evaluation")).all()
    db.dispose()
    assert len(metered) == 4  # flushed by the worker, two answers per evaluation


class _Spy:
    def __init__(self, target: Any, name: str, calls: list[str]) -> None:
        self._real = getattr(target, name)
        self._name, self._calls = name, calls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._calls.append(self._name)
        return self._real(*args, **kwargs)


def test_publishing_goes_through_the_catalog_usage_and_audit_services(platform: Platform) -> None:
    add_model(platform, "echo", price_training_per_1k=2.0)
    me = platform.client.app.state.services.tenancy.authenticate(platform.tenant_key)
    job = FineTuningJob(
        id="ftjob-publish0000000000000000",
        tenant_id=me.tenant_id,
        key_id=me.key_id,
        model="echo",
        training_file="file-x",
        hyperparameters={"n_epochs": 1},
        method={},
        seed=1,
        status="running",
        started_at=utcnow(),
    )
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        session.add(job)
    from modelyard.finetune.job import FINE_TUNE_JOB, publish

    calls: list[str] = []
    result = SimpleNamespace(status="succeeded", trained_tokens=1500, adapter_dir=Path("/nowhere"))
    with Worker(platform.settings) as worker:
        services = worker.services
        services.catalog.add_in = _Spy(services.catalog, "add_in", calls)  # type: ignore[method-assign]
        services.usage.record_in = _Spy(services.usage, "record_in", calls)  # type: ignore[method-assign]
        services.audit.record = _Spy(services.audit, "record", calls)  # type: ignore[method-assign]
        lease = Lease(job.id, FINE_TUNE_JOB.name, me.tenant_id, worker.owner, 1)
        context = JobContext(lease, FINE_TUNE_JOB, worker.settings, worker.queue, services, worker.run_async)
        name = publish(context, job, result)
        assert publish(context, job, result) is None  # exactly once
        worker.run_async(services.flush())
    assert calls == ["add_in", "record_in", "record"]
    with db.session() as session:
        model = session.get(ModelRecord, name)
        bills = session.scalars(select(UsageEvent).where(UsageEvent.ref_id == job.id)).all()
        status = session.get(FineTuningJob, job.id).status
    db.dispose()
    assert model is not None and model.owner_tenant_id == me.tenant_id and status == "succeeded"
    assert [(b.endpoint, b.cost) for b in bills] == [("fine_tuning", pytest.approx(3.0))]
    platform.flush_audit()
    entries = platform.client.get(
        "/v1/admin/audit",
        params={"action": "publish_fine_tuned_model"},
        headers=platform.headers(platform.admin_key),
    ).json()["data"]
    assert [(e["model"], e["detail"]["job"]) for e in entries] == [(name, job.id)]
