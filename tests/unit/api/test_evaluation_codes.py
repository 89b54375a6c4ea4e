"""Evaluation events and recommendations carry a code and numbers next to their English text,
so the console can say them in the reader's language (issue 12, item 11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelyard.evals.reasons import REASONS, render_reason
from modelyard.evals.service import add_event
from tests.conftest import Platform
from tests.unit.api.test_evaluations_flow import EVALS, _evaluate, _rows, _upload, sqlite_only  # noqa: F401


def _events(platform: Platform, evaluation_id: str) -> list[dict[str, Any]]:
    response = platform.client.get(f"{EVALS}/{evaluation_id}/events", headers=platform.headers())
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["data"]))  # oldest first


def test_events_and_reasons_carry_codes(platform: Platform, tiny_model_dir: Path, sqlite_only: None) -> None:  # noqa: F811
    admin = platform.headers(platform.admin_key)
    created = platform.client.post(
        "/v1/models", json={"kind": "local", "id": "tiny", "path": str(tiny_model_dir)}, headers=admin
    )
    assert created.status_code == 201, created.text
    data = _upload(platform, _rows(3), "evals")
    evaluation = _evaluate(platform, data, ["tiny"], [{"name": "exact_match"}])

    events = _events(platform, evaluation["id"])
    assert [(e["message"], e["data"]) for e in events] == [
        ("Created evaluation of 1 models on 3 items", {"code": "created", "models": 1, "items": 3}),
        ("Evaluation started", {"code": "started"}),
        ("Asking tiny 3 items", {"code": "asking", "model": "tiny", "pending": 3}),
        ("All answers in; scoring", {"code": "scoring"}),
        ("Evaluation completed", {"code": "completed"}),
    ]

    report = platform.client.get(f"{EVALS}/{evaluation['id']}/report", headers=platform.headers()).json()
    for entry in report["recommendation"].values():
        if isinstance(entry, dict):
            assert entry["code"] in REASONS
            assert render_reason(entry["code"], entry["params"]) == entry["reason"]

    again = platform.client.post(
        EVALS,
        json={"file": data, "models": ["tiny"], "metrics": [{"name": "exact_match"}]},
        headers=platform.headers(),
    ).json()
    cancelled = platform.client.post(f"{EVALS}/{again['id']}/cancel", headers=platform.headers())
    assert cancelled.status_code == 200, cancelled.text
    assert _events(platform, again["id"])[-1]["data"] == {"code": "cancelled"}


class _Session:
    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)


def test_a_failure_from_the_job_lifecycle_gets_its_code() -> None:
    session = _Session()
    add_event(session, "eval-1", "Job failed: the worker stopped 5 times on this job", level="error")
    add_event(session, "eval-1", "Something new")
    assert session.added[0].data == {"code": "failed", "error": "the worker stopped 5 times on this job"}
    assert session.added[1].data is None  # an unknown sentence: the client shows the English
