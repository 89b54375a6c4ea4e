"""One path for every model call made on a tenant's behalf.

HTTP routes, evaluations and the judge (and later batches and apps) all go the same way:
resolve the model, check that the caller may see it and that it serves the task, admit
the call under the caller's quotas, get its backend, and meter it exactly once, settling
the quota reservation with what the call really used. The steps stay separate methods
because the HTTP routes check the request body between resolving and admitting (so an
unknown model is a 404 before a bad body is a 400); :meth:`CallPath.open` runs them all
for callers that have their demand ready.

Nothing here touches the database on the way: the catalog and the quotas are cached.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelyard.backends.base import StreamChunk, Usage
from modelyard.backends.pool import BackendPool
from modelyard.catalog import CatalogService
from modelyard.errors import InvalidRequest, ModelyardError, QuotaExceeded
from modelyard.gateway.metering import Meter
from modelyard.prompting import Message
from modelyard.quotas import Demand, QuotaGuard
from modelyard.store import ModelRecord
from modelyard.tenancy import Principal
from modelyard.usage import UsageRecorder

__all__ = ["CallPath", "Opened", "StreamTally", "estimate_tokens", "message_chars"]

# Quotas a caller may wait out: per-minute windows free up; a spend budget does not.
_WAITABLE = frozenset({"rpm_quota_exceeded", "tpm_quota_exceeded"})


@dataclass(frozen=True, slots=True)
class Opened:
    """A call admitted and ready: its catalog record, its backend, and a max_tokens cap to
    apply when the caller named none (None: no quota needs one)."""

    record: ModelRecord
    backend: Any
    max_tokens: int | None


class CallPath:
    def __init__(
        self,
        catalog: CatalogService,
        pool: BackendPool,
        usage: UsageRecorder,
        guard: QuotaGuard | None = None,
        *,
        ready_wait_s: float | None = None,
    ) -> None:
        self._catalog = catalog
        self._pool = pool
        self._usage = usage
        self._guard = guard
        # None: wait for a model's import and load as long as they take (a job); a number:
        # an interactive caller waits that long, then gets 503 saying why (ModelNotReady).
        self._ready_wait_s = ready_wait_s

    def recording_to(self, usage: UsageRecorder) -> CallPath:
        """The same path metering into ``usage``: a worker's recorder lives on its own loop."""
        return CallPath(self._catalog, self._pool, usage, self._guard, ready_wait_s=self._ready_wait_s)

    def meter(self, principal: Principal, model: str, endpoint: str) -> Meter:
        return Meter(self._usage, principal, model, endpoint)

    def resolve(self, meter: Meter, model: str, task: str, use: str) -> ModelRecord:
        """The model as the caller may see it (404 otherwise), serving ``task``."""
        record = self._catalog.get_visible(model, meter.principal)
        meter.bind(record)
        if record.task != task:
            raise InvalidRequest(
                f"model '{model}' serves the '{record.task}' task and cannot answer {use}",
                param="model",
                code="wrong_model_task",
            )
        return record

    async def admit(
        self, meter: Meter, record: ModelRecord, demand: Demand, *, patience_s: float = 0.0
    ) -> int | None:
        """Quotas first, before a backend is loaded or called: a refused call costs nothing.

        ``patience_s``: how long a background caller may wait for a per-minute window to
        make room instead of being refused. Returns the max_tokens cap to apply, if any.
        """
        if self._guard is None:
            return None
        deadline = time.monotonic() + patience_s
        while True:
            try:
                ticket = await self._guard.admit(meter.principal, record, demand)
                break
            except QuotaExceeded as exc:
                pause = _pause(exc, deadline)
                if pause is None:
                    meter.refused(exc)
                    raise
                await asyncio.sleep(pause)
            except ModelyardError as exc:  # a request no quota lets through (400)
                meter.refused(exc)
                raise
        meter.hold(ticket)
        return ticket.max_tokens

    async def backend(self, record: ModelRecord) -> Any:
        """After admission: a refused call neither waits for nor loads a model."""
        spec = self._catalog.spec_for(record)
        if self._ready_wait_s is None:
            return await self._pool.get(spec)
        return await self._pool.ready(spec, wait_s=self._ready_wait_s)

    async def open(
        self, meter: Meter, model: str, task: str, demand: Demand, *, use: str, patience_s: float = 0.0
    ) -> Opened:
        record = self.resolve(meter, model, task, use)
        cap = await self.admit(meter, record, demand, patience_s=patience_s)
        return Opened(record, await self.backend(record), cap)


def _pause(refusal: QuotaExceeded, deadline: float) -> float | None:
    """Seconds to wait before asking again, or None when waiting cannot help in time."""
    if refusal.code not in _WAITABLE:
        return None
    try:
        pause = float(refusal.headers.get("Retry-After", "1"))
    except ValueError:
        return None
    return pause if time.monotonic() + pause <= deadline else None


def estimate_tokens(chars: int) -> int:
    """Tokens for ``chars`` characters when no tokenizer has counted them: about four
    characters per token, the rule the remote backend bills by when a provider reports none."""
    return math.ceil(chars / 4)


def message_chars(messages: Sequence[Message]) -> int:
    return sum(len(message.content) for message in messages)


class StreamTally:
    """What a stream has produced so far, so that a stream cut short is billed for it.

    The backend's own usage (the provider's figure, or the local model's exact count) wins
    once it arrives. Until then the prompt is estimated from its characters and the
    completion counted from the stream: a piece per token, or four characters per token
    when the pieces are longer, whichever is more.
    """

    __slots__ = ("_chars", "_pieces", "prompt_chars", "reported")

    def __init__(self, prompt_chars: int = 0) -> None:
        self.prompt_chars = prompt_chars  # set once the prompt is known
        self._pieces = 0
        self._chars = 0
        self.reported: Usage | None = None

    def add(self, item: StreamChunk | Usage) -> None:
        if isinstance(item, Usage):
            self.reported = item
        elif item.text:
            self._pieces += 1
            self._chars += len(item.text)

    def usage(self) -> Usage:
        if self.reported is not None:
            return self.reported
        return Usage(estimate_tokens(self.prompt_chars), max(self._pieces, estimate_tokens(self._chars)))
