"""Keeps loaded backends, one per model, evicting the least recently used."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from modelyard.backends.base import BackendContext, ModelSpec
from modelyard.backends.registry import Backend, create_backend

__all__ = ["BackendPool"]


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
            while len(self._backends) > self._max:
                await self._drop(next(iter(self._backends)))
            return backend

    async def evict(self, model_id: str) -> None:
        async with self._lock:
            await self._drop(model_id)

    async def close(self) -> None:
        async with self._lock:
            for model_id in list(self._backends):
                await self._drop(model_id)

    async def _drop(self, model_id: str) -> None:
        entry = self._backends.pop(model_id, None)
        if entry is not None:
            await entry[1].close()
