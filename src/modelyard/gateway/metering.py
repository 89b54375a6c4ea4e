"""Times one API call and records its usage exactly once, success or failure.

The meter also holds the call's quota reservation (its ticket) and settles it when the
call finishes, so the two can never disagree about how a call ended.
"""

from __future__ import annotations

import time

from modelyard.audit.context import note_usage
from modelyard.backends.base import Usage
from modelyard.errors import ModelyardError, QuotaExceeded
from modelyard.quotas import OPEN_TICKET, Ticket
from modelyard.store import ModelRecord
from modelyard.tenancy import Principal
from modelyard.usage import UsageRecord, UsageRecorder, cost_of

__all__ = ["UNRESOLVED_MODEL", "Meter"]

# What a call's usage row names when its model did not resolve: the caller's string is
# anything it liked (a spreadsheet formula, a provider's future model id), never stored as given.
UNRESOLVED_MODEL = "(unresolved)"


class Meter:
    def __init__(self, recorder: UsageRecorder, principal: Principal, model: str, endpoint: str) -> None:
        self._recorder = recorder
        self._principal = principal
        self._model = model
        self._endpoint = endpoint
        self._started = time.perf_counter()
        self._record: ModelRecord | None = None
        self._ticket: Ticket = OPEN_TICKET
        self._done = False

    @property
    def principal(self) -> Principal:
        return self._principal

    def bind(self, record: ModelRecord) -> None:
        self._record = record

    def hold(self, ticket: Ticket) -> None:
        """The quota reservation this call was admitted with."""
        self._ticket = ticket

    def cost(self, usage: Usage) -> float:
        record = self._record
        if record is None:
            return 0.0
        return cost_of(
            usage.prompt_tokens,
            usage.completion_tokens,
            price_in=record.price_input_per_1k,
            price_out=record.price_output_per_1k,
        )

    def success(self, usage: Usage) -> None:
        self._finish(usage, 200, billed=True)

    def failure(self, error: BaseException, usage: Usage | None = None) -> None:
        if isinstance(error, QuotaExceeded):  # refused before any work: nothing to meter
            self.refused(error)
            return
        status = error.status_code if isinstance(error, ModelyardError) else 500
        self._finish(usage or Usage(0, 0), status, billed=False)

    def refused(self, error: ModelyardError) -> None:
        """Refused by the caller's quotas before any work: it goes in the audit log (the
        request's entry names the model), never in usage, and its reservation is void."""
        if self._done:
            return
        self._done = True
        self._ticket.settle(None, 0.0)
        note_usage(self._model, 0, 0, error.status_code)

    def aborted(self, usage: Usage | None = None) -> None:
        # 499: the caller closed the connection before the answer was complete. What was
        # produced until then was produced for it, and is billed like a finished answer.
        self._finish(usage or Usage(0, 0), 499, billed=True)

    def _finish(self, usage: Usage, status: int, *, billed: bool = True) -> None:
        if self._done:
            return
        self._done = True
        # Failed calls are not billed (cost 0); their tokens still count against quotas.
        cost = self.cost(usage) if billed else 0.0
        self._ticket.settle(usage, cost)
        note_usage(self._model, usage.prompt_tokens, usage.completion_tokens, status)
        self._recorder.record(
            UsageRecord(
                tenant_id=self._principal.tenant_id,
                key_id=self._principal.key_id,
                model=self._model if self._record is not None else UNRESOLVED_MODEL,
                endpoint=self._endpoint,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                latency_ms=(time.perf_counter() - self._started) * 1000,
                status_code=status,
                cost=cost,
            )
        )
