"""Keeps loaded backends, one per model, within a budget of weights held in memory.

``max_loaded`` counts *weights*, not backends: a backend names the weights it holds in
``weights_key`` (backends sharing weights share the key, as LoRA adapters share their base),
and ``None`` when it holds none (a remote provider: a connection pool, nothing to evict for).
A backend without the attribute counts as holding weights of its own. Over budget, the
least recently used weights go, with every backend on them.

:meth:`BackendPool.ready` is the gateway's way in: it loads a backend's weights in a task
of their own and waits a bounded time, so that a caller learns why a model is slow to
answer (importing, loading, failed) instead of waiting minutes on an open connection;
the load goes on, and the next call finds it done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.backends.readiness import ModelState, Readiness, not_ready
from modelyard.backends.registry import Backend, create_backend
from modelyard.errors import BackendUnavailable, ModelyardError

log = logging.getLogger(__name__)

__all__ = ["BackendPool", "weights_of"]


def weights_of(model_id: str, backend: Backend) -> str | None:
    """What ``backend`` holds in memory: a key shared by backends on the same weights, or None."""
    return getattr(backend, "weights_key", f"model:{model_id}")


class BackendPool:
    def __init__(self, context: BackendContext, *, max_loaded: int = 4) -> None:
        self.context = context
        self._max = max_loaded
        self._backends: OrderedDict[str, tuple[ModelSpec, Backend]] = OrderedDict()
        self._lock = asyncio.Lock()
        self.readiness = Readiness.of(context)
        # model id -> (backend, the task loading its weights): one load per backend.
        self._loads: dict[str, tuple[Backend, asyncio.Task[Any]]] = {}

    async def ready(self, spec: ModelSpec, *, wait_s: float) -> Backend:
        """The backend with its weights in memory, waiting at most ``wait_s`` seconds for an
        import or a load; ``ModelNotReady`` (503, Retry-After) past that or on a failure."""
        deadline = time.monotonic() + wait_s
        base_id = spec.source.get("base_model")
        for model_id in (str(base_id), spec.id) if base_id else (spec.id,):
            state = await self.readiness.while_importing(model_id, deadline)
            if state.status == "importing":
                raise not_ready(spec.id, state)
        backend = await self.get(spec)
        load = self._load_of(spec.id, backend)
        if load is None:
            return backend
        try:
            await asyncio.wait_for(asyncio.shield(load), timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise not_ready(spec.id, self.readiness.of_model(spec.id, base_id)) from None
        except ModelyardError as exc:
            if not isinstance(exc, BackendUnavailable):  # the caller's own mistake, as it was
                raise
            raise not_ready(spec.id, ModelState("failed", reason=_reason(exc))) from exc
        except Exception as exc:
            raise not_ready(spec.id, ModelState("failed", reason=_reason(exc))) from exc
        return backend

    def _load_of(self, model_id: str, backend: Backend) -> asyncio.Task[Any] | None:
        """The task loading ``backend``'s weights; None when there is nothing to wait for.
        A failed load is forgotten once reported, so that the next call tries again."""
        load = getattr(backend, "load", None)
        if load is None:  # a remote provider: nothing to load
            return None
        entry = self._loads.get(model_id)
        if entry is not None and entry[0] is backend:
            task = entry[1]
            if not task.done():
                return task
            if task.exception() is None:
                return None
        task = asyncio.create_task(self._load(model_id, load), name=f"load-{model_id}")
        # A caller that stopped waiting leaves the outcome to the registry, not to a warning.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._loads[model_id] = (backend, task)
        return task

    async def _load(self, model_id: str, load: Any) -> None:
        self.readiness.report(model_id, ModelState("loading"))
        try:
            await load()
        except Exception as exc:
            self.readiness.report(model_id, ModelState("failed", reason=_reason(exc)))
            raise
        self.readiness.report(model_id, ModelState("ready"))

    async def get(self, spec: ModelSpec) -> Backend:
        entry = self._backends.get(spec.id)
        if entry is not None and entry[0] == spec:
            self._backends.move_to_end(spec.id)
            return entry[1]
        async with self._lock:
            entry = self._backends.get(spec.id)
            if entry is not None and entry[0] == spec:
                return entry[1]
            if entry is not None:
                # The catalog entry changed (new key, new URL): rebuild the backend.
                await self._drop(spec.id)
            backend = create_backend(spec, self.context)
            self._backends[spec.id] = (spec, backend)
            await self._fit(keep=weights_of(spec.id, backend))
            return backend

    def loaded(self) -> list[str]:
        """Model ids with a backend, least recently used first."""
        return list(self._backends)

    async def evict(self, model_id: str) -> None:
        async with self._lock:
            await self._drop(model_id)

    async def close(self) -> None:
        async with self._lock:
            for model_id in list(self._backends):
                await self._drop(model_id)

    async def _fit(self, *, keep: str | None) -> None:
        """Drops the least recently used weights (never ``keep``) until the budget holds."""
        while True:
            groups = self._groups()
            if len(groups) <= self._max:
                return
            victim = next((key for key in groups if key != keep), None)
            if victim is None:
                return
            for model_id in groups[victim]:
                await self._drop(model_id)

    def _groups(self) -> dict[str, list[str]]:
        """weights key -> model ids on it; the group whose latest use is oldest comes first
        (a base used a moment ago through one of its adapters is recent, however long ago
        the base itself was called)."""
        groups: dict[str, list[str]] = {}
        for model_id, (_, backend) in reversed(self._backends.items()):
            key = weights_of(model_id, backend)
            if key is not None:
                groups.setdefault(key, []).append(model_id)
        return dict(reversed(groups.items()))

    async def _drop(self, model_id: str) -> None:
        self._loads.pop(model_id, None)
        entry = self._backends.pop(model_id, None)
        if entry is not None:
            await entry[1].close()


def _reason(exc: BaseException) -> str:
    """A failure as a caller may read it: our own errors speak for the caller already."""
    if isinstance(exc, ModelyardError):
        return exc.message
    log.error("loading a model failed", exc_info=exc)
    return "its weights could not be loaded"
