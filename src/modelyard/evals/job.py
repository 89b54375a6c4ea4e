"""The evaluation as the worker runs it: ask every model every item, then score.

Each answer is stored as soon as it arrives, so a worker killed mid-run resumes with
the items still missing; scoring is recomputed from the stored answers, so it is safe to
run again. Calls to one model go out concurrently (``concurrency`` at a time): a local
model batches them, a remote one answers them in parallel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modelyard.backends.base import GenerationParams
from modelyard.errors import ModelyardError
from modelyard.evals.items import to_items
from modelyard.evals.results import EvalItem
from modelyard.evals.service import EVAL_KIND, TERMINAL, add_event
from modelyard.jobs.worker import JobContext, register_job_kind
from modelyard.prompting import Message
from modelyard.store.tables import Evaluation, EvaluationOutput, Tenant, utcnow
from modelyard.tenancy import Principal

__all__ = ["run_evaluation"]

log = logging.getLogger(__name__)


class _Run:
    """One attempt at one evaluation: its row, its caller, and whether to stop."""

    def __init__(
        self, context: JobContext, evaluation: Evaluation, caller: Any, principal: Principal
    ) -> None:
        self.context = context
        self.evaluation = evaluation
        self.caller = caller
        self.principal = principal
        self._checked = 0.0
        self._stopped = False

    def stopped(self) -> bool:
        if self.context.lost.is_set() or self.context.shutdown.is_set():
            return True
        now = time.monotonic()
        if not self._stopped and now - self._checked > 0.5:
            self._checked = now
            with self.context.db.session() as session:
                self._stopped = session.get(Evaluation, self.evaluation.id).status in TERMINAL
        return self._stopped

    def event(self, message: str, **data: Any) -> None:
        with self.context.db.session() as session:
            add_event(session, self.evaluation.id, message, data=data or None)


@register_job_kind(EVAL_KIND)
def run_evaluation(context: JobContext) -> None:
    with context.db.session() as session:
        evaluation = session.get(Evaluation, context.lease.job_id)
        tenant = session.get(Tenant, evaluation.tenant_id) if evaluation else None
    if evaluation is None or evaluation.status in TERMINAL or tenant is None:
        context.queue.finish(context.lease.job_id)
        return
    principal = Principal(
        key_id=evaluation.key_id, tenant_id=tenant.id, tenant_name=tenant.name, role="member"
    )
    try:
        finished = asyncio.run(_evaluate(context, evaluation, principal))
    except Exception as exc:  # noqa: BLE001 - recorded as the evaluation's error
        log.exception("evaluation %s failed", evaluation.id)
        message = (
            exc.message if isinstance(exc, ModelyardError) else "the evaluation failed with an internal error"
        )
        _finish(
            context,
            evaluation.id,
            "failed",
            f"Evaluation failed: {message}",
            error={"code": "evaluation_failed", "message": message},
        )
        return
    if finished:
        _finish(context, evaluation.id, "succeeded", "Evaluation completed")
    elif context.shutdown.is_set() and not context.lost.is_set():
        context.queue.hold(evaluation.id)
        context.queue.enqueue(evaluation.id, kind=EVAL_KIND, tenant_id=evaluation.tenant_id)
    else:
        context.queue.finish(evaluation.id)


def _finish(context: JobContext, evaluation_id: str, status: str, message: str, **fields: Any) -> None:
    with context.db.session() as session:
        evaluation = session.get(Evaluation, evaluation_id, with_for_update=True)
        if evaluation.status not in TERMINAL:
            evaluation.status, evaluation.finished_at = status, utcnow()
            for name, value in fields.items():
                setattr(evaluation, name, value)
            add_event(session, evaluation_id, message, level="error" if status == "failed" else "info")
    context.queue.finish(evaluation_id)


async def _evaluate(context: JobContext, evaluation: Evaluation, principal: Principal) -> bool:
    """True when every answer is in and scored; False when told to stop."""
    from modelyard.files import FilesService
    from modelyard.gateway.measured import MeasuredCaller
    from modelyard.services import build_services
    from modelyard.usage import UsageRecorder

    # Services (and the models they load) outlive the job; metering is per job because
    # its background writer belongs to this job's event loop.
    services = context.resources.get("services") or context.resources.setdefault(
        "services", build_services(context.settings)
    )
    usage = UsageRecorder(context.db, flush_interval_s=context.settings.usage_flush_interval_s)
    await usage.start()
    try:
        caller = MeasuredCaller(services.catalog, services.pool, usage)
        run = _Run(context, evaluation, caller, principal)
        _mark_running(context, evaluation.id)
        examples = FilesService.from_settings(context.db, context.settings).examples(
            evaluation.tenant_id, evaluation.file_id
        )
        items = to_items(examples)
        for model in evaluation.models:
            if not await _answer_all(run, model, items):
                return False
        if run.stopped():
            return False
        run.event("All answers in; scoring")
        await _score(run, items)
        return not run.stopped()
    finally:
        await usage.stop()


def _mark_running(context: JobContext, evaluation_id: str) -> None:
    with context.db.session() as session:
        evaluation = session.get(Evaluation, evaluation_id, with_for_update=True)
        if evaluation.status == "queued":
            evaluation.status, evaluation.started_at = "running", evaluation.started_at or utcnow()
            add_event(session, evaluation_id, "Evaluation started")


def _answered(run: _Run, model: str) -> set[int]:
    with run.context.db.session() as session:
        rows = session.scalars(
            select(EvaluationOutput.item).where(
                EvaluationOutput.evaluation_id == run.evaluation.id, EvaluationOutput.model == model
            )
        )
        return set(rows)


async def _answer_all(run: _Run, model: str, items: Sequence[EvalItem]) -> bool:
    pending = [item for item in items if item.index not in _answered(run, model)]
    if not pending:
        return True
    run.event(f"Asking {model} {len(pending)} items", model=model, pending=len(pending))
    generation = run.evaluation.generation
    params = GenerationParams(
        max_tokens=generation.get("max_tokens", 256),
        temperature=generation.get("temperature", 0.0),
        top_p=generation.get("top_p", 1.0),
        seed=generation.get("seed"),
    )
    gate = asyncio.Semaphore(int(generation.get("concurrency", 8)))

    async def ask(item: EvalItem) -> None:
        async with gate:
            if run.stopped():
                return
            await _ask_one(run, model, item, params)

    await asyncio.gather(*(ask(item) for item in pending))
    return not run.stopped()


async def _ask_one(run: _Run, model: str, item: EvalItem, params: GenerationParams) -> None:
    messages = [Message(m["role"], m["content"]) for m in item.messages]
    row = EvaluationOutput(evaluation_id=run.evaluation.id, item=item.index, model=model, scores={})
    try:
        call = await run.caller.chat(model, messages, params, run.principal)
    except ModelyardError as exc:
        row.output, row.error = None, exc.message
    else:
        row.output, row.latency_ms, row.ttft_ms = call.text, call.latency_ms, call.ttft_ms
        row.prompt_tokens, row.completion_tokens = call.usage.prompt_tokens, call.usage.completion_tokens
        row.cost = call.cost
    _save(run, row)


def _save(run: _Run, row: EvaluationOutput) -> None:
    try:
        with run.context.db.session() as session:
            session.add(row)
            evaluation = session.get(Evaluation, run.evaluation.id, with_for_update=True)
            progress = dict(evaluation.progress)
            progress["done"] = progress.get("done", 0) + 1
            evaluation.progress = progress
    except IntegrityError:
        pass  # answered by an earlier attempt of this job


async def _score(run: _Run, items: Sequence[EvalItem]) -> None:
    from modelyard.evals.metrics import MetricContext, build_metrics

    by_index = {item.index: item for item in items}
    with run.context.db.session() as session:
        rows = list(
            session.scalars(
                select(EvaluationOutput).where(EvaluationOutput.evaluation_id == run.evaluation.id)
            )
        )
    answered = [row for row in rows if row.output is not None]
    context = MetricContext(judge=_judge(run), embed=_embed(run))
    scores: dict[int, dict[str, Any]] = {row.id: {} for row in answered}
    for metric in build_metrics(run.evaluation.metrics):
        verdicts = await metric.score([(by_index[row.item], row.output) for row in answered], context)
        for row, verdict in zip(answered, verdicts, strict=True):
            scores[row.id][metric.name] = {"value": verdict.value, "detail": verdict.detail}
    with run.context.db.session() as session:
        for row_id, values in scores.items():
            session.get(EvaluationOutput, row_id).scores = values


def _judge(run: _Run) -> Any:
    async def judge(model: str, messages: list[dict[str, str]]) -> str:
        params = GenerationParams(max_tokens=256, temperature=0.0)
        chat = [Message(m["role"], m["content"]) for m in messages]
        return (await run.caller.chat(model, chat, params, run.principal, endpoint="evaluation-judge")).text

    return judge


def _embed(run: _Run) -> Any:
    async def embed(model: str, texts: list[str]) -> list[list[float]]:
        return await run.caller.embed(model, texts, run.principal)

    return embed
