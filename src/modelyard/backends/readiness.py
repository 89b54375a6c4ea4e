"""Whether each model can answer now: importing, loading, ready or failed.

Runtime state of this process, not catalog data: the built-in importer (a background
thread at ``modelyard serve``, or the first load) and the backend pool report into one
registry, the API shows it on the model card, and the gateway waits on it a bounded time
before it answers 503 with ``Retry-After``. A model with no entry is ready as far as this
process knows (its weights load on its first call, which the pool then reports).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from modelyard.errors import ModelNotReady

if TYPE_CHECKING:
    from modelyard.backends.base import BackendContext

__all__ = ["READY", "ModelState", "Readiness", "Status", "not_ready"]

Status = Literal["importing", "loading", "ready", "failed"]
_SHARED_KEY = "readiness"
_POLL_S = 0.05
# What a refused caller is told to wait: an import takes minutes, a load seconds.
_RETRY_AFTER_S: dict[str, int] = {"importing": 15, "loading": 5, "failed": 30}


@dataclass(frozen=True, slots=True)
class ModelState:
    status: Status
    # While importing: a short machine-readable step ("queued", "assembling", "converting",
    # "saving") and the fraction done; the console words both for its reader.
    phase: str | None = None
    progress: float | None = None
    # Why it failed, written for the caller (never a path or a trace).
    reason: str | None = None

    def describe(self) -> str:
        if self.status == "importing":
            done = f" {self.progress:.0%}" if self.progress is not None else ""
            step = f", {self.phase}" if self.phase else ""
            return f"importing{done}{step}"
        if self.status == "loading":
            return "loading its weights"
        if self.status == "failed":
            return f"failed: {self.reason or 'unknown reason'}"
        return "ready"


READY = ModelState("ready")


class Readiness:
    """Thread-safe: the importer reports from its own thread, the pool from the event loop."""

    def __init__(self) -> None:
        self._states: dict[str, ModelState] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, context: BackendContext) -> Readiness:
        """The registry of the process ``context`` belongs to (one per backend context)."""
        return context.shared.setdefault(_SHARED_KEY, cls())  # type: ignore[no-any-return]

    def report(self, model_id: str, state: ModelState) -> None:
        with self._lock:
            if state.status == "ready":
                self._states.pop(model_id, None)
            else:
                self._states[model_id] = state

    def get(self, model_id: str) -> ModelState:
        with self._lock:
            return self._states.get(model_id, READY)

    def of_model(self, model_id: str, base_id: str | None = None) -> ModelState:
        """A fine-tune is as ready as its base while the base is importing or failed."""
        own = self.get(model_id)
        if base_id is None or base_id == model_id or own.status != "ready":
            return own
        base = self.get(base_id)
        return base if base.status in ("importing", "failed") else own

    def importer(self, model_id: str, *, then: Status = "ready") -> Callable[[str, float], None]:
        """A progress callback for an import: ``(phase, fraction)``; at 1.0 the state
        becomes ``then`` ("loading" when a load waits for the import)."""

        def report(phase: str, fraction: float) -> None:
            if phase == "failed":  # whoever called the import may say better why, and will
                self.report(model_id, ModelState("failed", reason="the import failed; see the server log"))
            elif fraction >= 1.0:
                self.report(model_id, ModelState(then))
            else:
                self.report(model_id, ModelState("importing", phase=phase, progress=max(0.0, fraction)))

        return report

    async def while_importing(self, model_id: str, deadline: float) -> ModelState:
        """Wait (until ``deadline``, monotonic) while another party imports the model."""
        while True:
            state = self.get(model_id)
            if state.status != "importing" or time.monotonic() >= deadline:
                return state
            await asyncio.sleep(min(_POLL_S, max(0.0, deadline - time.monotonic())))


def not_ready(model_id: str, state: ModelState) -> ModelNotReady:
    """The 503 a caller gets: what the model is doing, and when to ask again."""
    retry = _RETRY_AFTER_S.get(state.status, 5)
    return ModelNotReady(
        f"the model '{model_id}' is not ready: {state.describe()}; retry in {retry} s",
        param="model",
        headers={"Retry-After": str(retry)},
    )
