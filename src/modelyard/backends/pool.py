"""Keeps loaded backends, one per model, within a budget of weights held in memory.

``max_loaded`` counts *weights*, not backends: a backend names the weights it holds in
``weights_key`` (backends sharing weights share the key, as LoRA adapters share their base),
and ``None`` when it holds none (a remote provider: a connection pool, nothing to evict for).
A backend without the attribute counts as holding weights of its own. Over budget, the
least recently used weights go, with every backend on them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.backends.registry import Backend, create_backend

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
        entry = self._backends.pop(model_id, None)
        if entry is not None:
            await entry[1].close()
