"""Calls made on a tenant's behalf by platform features (evaluations, the judge), timed.

They take the same call path as the HTTP routes (``gateway.calls``): resolution,
visibility, quotas and metering, without HTTP. A worker calls models in-process and needs
time-to-first-token, total latency and cost per call. A per-minute quota makes it wait
for room (a background job can, an HTTP caller is told to); a spent budget refuses it.

A job takes its own caller (:meth:`MeasuredCaller.for_job`): once a quota refuses one
of its calls, that caller refuses every later one at once (a job asks many calls
concurrently; none should reach the guard again), and :meth:`MeasuredCaller.check` raises
the refusal for the job to stop on, after its calls in flight have ended and been billed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace

from modelyard.backends.base import EmbeddingBackend, GenerationParams, TextBackend, Usage
from modelyard.errors import QuotaExceeded
from modelyard.gateway.calls import CallPath, Opened, StreamTally, message_chars
from modelyard.gateway.metering import Meter
from modelyard.prompting import Message
from modelyard.quotas import Demand, prompt_bound
from modelyard.tenancy import Principal

__all__ = ["RATE_PATIENCE_S", "MeasuredCall", "MeasuredCaller"]

# How long one call may wait for a per-minute quota window to make room.
RATE_PATIENCE_S = 120.0


@dataclass(frozen=True, slots=True)
class MeasuredCall:
    text: str
    usage: Usage
    ttft_ms: float | None
    latency_ms: float
    cost: float


class MeasuredCaller:
    def __init__(self, calls: CallPath, *, patience_s: float = RATE_PATIENCE_S) -> None:
        self._calls = calls
        self._patience_s = patience_s
        self._refusal: QuotaExceeded | None = None

    def for_job(self) -> MeasuredCaller:
        """A caller for one job: the same call path, and a quota refusal of its own."""
        return MeasuredCaller(self._calls, patience_s=self._patience_s)

    @property
    def refused(self) -> bool:
        return self._refusal is not None

    def check(self) -> None:
        """Raise the quota refusal that stopped this caller's calls, if one did."""
        if self._refusal is not None:
            raise QuotaExceeded(
                f"stopped by a quota: {self._refusal.message.removesuffix('; retry later')}; "
                "the calls made until then are billed",
                code=self._refusal.code,
            )

    async def _open(self, meter: Meter, model: str, task: str, demand: Demand, endpoint: str) -> Opened:
        if self._refusal is not None:
            meter.refused(self._refusal)
            raise self._refusal
        try:
            return await self._calls.open(
                meter, model, task, demand, use=f"{endpoint} calls", patience_s=self._patience_s
            )
        except QuotaExceeded as exc:
            self._refusal = self._refusal or exc
            raise

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
        meter = self._calls.meter(principal, model, endpoint)
        started = time.perf_counter()
        ttft: float | None = None
        pieces: list[str] = []
        tally = StreamTally(message_chars(messages))
        demand = Demand(prompt_bound([m.content for m in messages]), params.max_tokens, choices=params.n)
        try:
            opened = await self._open(meter, model, "chat", demand, endpoint)
            if opened.max_tokens is not None and params.max_tokens is None:
                params = replace(params, max_tokens=opened.max_tokens)
            backend: TextBackend = opened.backend
            async with aclosing(backend.stream_chat(messages, params)) as stream:  # type: ignore[type-var]
                async for item in stream:
                    tally.add(item)
                    if not isinstance(item, Usage) and item.index == 0 and item.text:
                        ttft = ttft if ttft is not None else (time.perf_counter() - started) * 1000
                        pieces.append(item.text)
        except BaseException as exc:
            meter.failure(exc, tally.reported)
            raise
        usage = tally.usage()
        meter.success(usage)
        latency = (time.perf_counter() - started) * 1000
        return MeasuredCall("".join(pieces), usage, ttft, latency, meter.cost(usage))

    async def embed(self, model: str, texts: Sequence[str], principal: Principal) -> list[list[float]]:
        meter = self._calls.meter(principal, model, "evaluation")
        demand = Demand(prompt_bound(texts), None, completes=False)
        try:
            opened = await self._open(meter, model, "embedding", demand, "evaluation")
            backend: EmbeddingBackend = opened.backend
            result = await backend.embed(list(texts))
        except BaseException as exc:
            meter.failure(exc)
            raise
        meter.success(result.usage)
        return result.vectors
