"""A job and its queue row commit together (SQLite and PostgreSQL).

A process killed between "create" and "enqueue" must leave no job that never runs: the
create is made in a child process whose enqueue kills it (``kill -9``) on entry.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modelyard.store import Database
from modelyard.store.tables import Evaluation, FineTuningJob, ModelRecord, QueuedJob
from tests.conftest import Platform
from tests.helpers.deadlines import scaled
from tests.helpers.trust import add_model, upload

_CHILD = r"""
import json, os, signal, sys

from modelyard.config import Settings
from modelyard.evals.protocol import CreateEvaluationIn
from modelyard.finetune.protocol import CreateJobIn
from modelyard.jobs.queue import JobQueue
from modelyard.services import build_services

args = json.loads(sys.argv[1])
services = build_services(Settings())
principal = services.tenancy.authenticate(args["key"])


def crash(*_args, **_kwargs):  # the fault: the process dies where it enqueues
    os.kill(os.getpid(), signal.SIGKILL)


JobQueue.enqueue = crash
if args["kind"] == "evaluation":
    body = CreateEvaluationIn(file=args["file"], models=["echo"], metrics=[{"name": "exact_match"}])
    services.evaluations.create(body, principal)
else:
    services.fine_tuning.create(CreateJobIn(model="tunable", training_file=args["file"]), principal)
sys.exit(3)  # not reached when the create enqueues
"""

_ROWS = "".join(
    json.dumps({"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]})
    + "\n"
    for i in range(3)
).encode()


def _add_tunable(database_url: str) -> None:
    """A base model fine-tuning accepts (never loaded: the job never runs here)."""
    db = Database(database_url)
    with db.session() as session:
        session.add(
            ModelRecord(
                id="tunable", backend="transformers", task="chat", provider="test", source={}, tags=[]
            )
        )
    db.dispose()


def _orphans(database_url: str, table: type) -> tuple[int, int]:
    """(job rows, job rows without a queue row)."""
    db = Database(database_url)
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(table))
        queued = select(QueuedJob.id).where(QueuedJob.id == table.id)
        orphans = session.scalar(select(func.count()).select_from(table).where(~queued.exists()))
    db.dispose()
    return int(total or 0), int(orphans or 0)


@pytest.mark.parametrize("kind", ["evaluation", "fine_tune"])
def test_a_crash_between_create_and_enqueue_leaves_no_orphan(platform: Platform, kind: str) -> None:
    add_model(platform, "echo")
    _add_tunable(platform.settings.resolved_database_url)
    file_id = upload(platform, _ROWS, "evals" if kind == "evaluation" else "fine-tune")
    settings = platform.settings
    env = {
        **os.environ,
        "MODELYARD_HOME": str(settings.home),
        "MODELYARD_DATABASE_URL": settings.resolved_database_url,
        "MODELYARD_MODELS_DIR": str(settings.resolved_models_dir),
        "MODELYARD_BUILTIN_MODELS": "false",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parents[3] / "src"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    args = json.dumps({"kind": kind, "file": file_id, "key": platform.tenant_key})
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, args], env=env, capture_output=True, timeout=scaled(120)
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    table = Evaluation if kind == "evaluation" else FineTuningJob
    total, orphans = _orphans(settings.resolved_database_url, table)
    assert orphans == 0, f"{orphans} of {total} {kind} rows have no queue row: they would never run"
