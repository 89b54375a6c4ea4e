"""Calls made on a tenant's behalf by platform features (evaluations), timed and metered.

The same resolution, visibility and metering as the HTTP routes, without HTTP: a worker
calls models in-process and needs time-to-first-token, total latency and cost per call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass

from modelyard.backends.base import EmbeddingBackend, GenerationParams, TextBackend, Usage
from modelyard.backends.pool import BackendPool
from modelyard.catalog import CatalogService
from modelyard.errors import InvalidRequest
from modelyard.gateway.metering import Meter
from modelyard.prompting import Message
from modelyard.tenancy import Principal
from modelyard.usage import UsageRecorder

__all__ = ["MeasuredCall", "MeasuredCaller"]


@dataclass(frozen=True, slots=True)
class MeasuredCall:
    text: str
    usage: Usage
    ttft_ms: float | None
    latency_ms: float
    cost: float


class MeasuredCaller:
    def __init__(self, catalog: CatalogService, pool: BackendPool, usage: UsageRecorder) -> None:
        self._catalog = catalog
        self._pool = pool
        self._usage = usage

    async def _backend(self, model: str, principal: Principal, task: str, meter: Meter) -> object:
        record = self._catalog.get_visible(model, principal)
        meter.bind(record)
        if record.task != task:
            raise InvalidRequest(
                f"model '{model}' serves the '{record.task}' task, not '{task}'", param="model"
            )
        return await self._pool.get(self._catalog.spec_for(record))

    async def chat(
        self,
        model: str,
        messages: Sequence[Message],
        params: GenerationParams,
        principal: Principal,
        *,
        endpoint: str = "evaluation",
    ) -> MeasuredCall:
        """Stream the answer of choice 0 and time it: first token and total."""
        meter = Meter(self._usage, principal, model, endpoint)
        started = time.perf_counter()
        ttft: float | None = None
        pieces: list[str] = []
        usage = Usage(0, 0)
        try:
            backend: TextBackend = await self._backend(model, principal, "chat", meter)  # type: ignore[assignment]
            async with aclosing(backend.stream_chat(messages, params)) as stream:  # type: ignore[type-var]
                async for item in stream:
                    if isinstance(item, Usage):
                        usage = item
                    elif item.index == 0 and item.text:
                        ttft = ttft if ttft is not None else (time.perf_counter() - started) * 1000
                        pieces.append(item.text)
        except BaseException as exc:
            meter.failure(exc, usage)
            raise
        meter.success(usage)
        latency = (time.perf_counter() - started) * 1000
        return MeasuredCall("".join(pieces), usage, ttft, latency, meter.cost(usage))

    async def embed(self, model: str, texts: Sequence[str], principal: Principal) -> list[list[float]]:
        meter = Meter(self._usage, principal, model, "evaluation")
        try:
            backend: EmbeddingBackend = await self._backend(model, principal, "embedding", meter)  # type: ignore[assignment]
            result = await backend.embed(list(texts))
        except BaseException as exc:
            meter.failure(exc)
            raise
        meter.success(result.usage)
        return result.vectors
