"""The evaluation as the worker runs it: ask every model every item, then score.

Each answer is stored as soon as it arrives, so a worker killed mid-run resumes with
the items still missing; scoring is recomputed from the stored answers, so it is safe to
run again. Calls to one model go out concurrently (``concurrency`` at a time): a local
model batches them, a remote one answers them in parallel. Every call takes the worker's
one call path (``context.services.caller``) on the worker's one event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modelyard.backends.base import GenerationParams
from modelyard.errors import ModelyardError, QuotaExceeded
from modelyard.evals.items import to_items
from modelyard.evals.metrics.judge import JUDGE_MAX_TOKENS
from modelyard.evals.results import EvalItem
from modelyard.evals.service import EVAL_KIND, add_event
from modelyard.jobs.context import JobContext
from modelyard.jobs.kinds import JobKind
from modelyard.jobs.lifecycle import Lifecycle, safe_message
from modelyard.jobs.states import JobStatus
from modelyard.prompting import Message
from modelyard.store.tables import Evaluation, EvaluationOutput, Tenant, utcnow
from modelyard.tenancy import Principal

__all__ = ["EVALUATION_JOB", "run_evaluation"]

log = logging.getLogger(__name__)


class _Run:
    """One attempt at one evaluation: its row, its caller, and whether to stop."""

    def __init__(
        self, context: JobContext, lifecycle: Lifecycle, evaluation: Evaluation, principal: Principal
    ) -> None:
        self.context = context
        self.lifecycle = lifecycle
        self.evaluation = evaluation
        # Its own caller: a quota refusal stops this evaluation, not the worker's other jobs.
        self.caller = context.services.caller.for_job()
        self.principal = principal

    def stopped(self) -> bool:
        # Any reason stops an evaluation: its answers are stored, a later attempt resumes.
        return self.lifecycle.stop_reason() is not None

    def event(self, message: str, **data: Any) -> None:
        with self.context.db.session() as session:
            add_event(session, self.evaluation.id, message, data=data or None)


def run_evaluation(context: JobContext) -> None:
    lifecycle = Lifecycle(context)
    if not lifecycle.runnable():
        return
    with context.db.session() as session:
        evaluation = session.get(Evaluation, context.job_id)
        tenant = session.get(Tenant, evaluation.tenant_id)
    if tenant is None:
        lifecycle.fail("evaluation_failed", "the evaluation's tenant no longer exists")
        return
    principal = Principal(
        key_id=evaluation.key_id, tenant_id=tenant.id, tenant_name=tenant.name, role="member"
    )
    try:
        finished = context.run_async(_evaluate(_Run(context, lifecycle, evaluation, principal)))
    except Exception as exc:  # noqa: BLE001 - recorded as the evaluation's error
        log.exception("evaluation %s failed", evaluation.id)
        lifecycle.fail("evaluation_failed", safe_message(exc, "the evaluation failed with an internal error"))
        return
    if finished:
        lifecycle.finish(JobStatus.SUCCEEDED, "Evaluation completed")
    else:
        lifecycle.hand_back()


async def _evaluate(run: _Run) -> bool:
    """True when every answer is in and scored; False when told to stop."""
    evaluation = run.evaluation
    run.lifecycle.move(JobStatus.RUNNING, "Evaluation started", started_at=evaluation.started_at or utcnow())
    examples = run.context.services.files.examples(evaluation.tenant_id, evaluation.file_id)
    items = to_items(examples)
    for model in evaluation.models:
        if not await _answer_all(run, model, items):
            return False
    if run.stopped():
        return False
    run.event("All answers in; scoring", code="scoring")
    await _score(run, items)
    run.caller.check()  # a quota that ran out while judging stops the evaluation
    return not run.stopped()


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
    run.event(f"Asking {model} {len(pending)} items", code="asking", model=model, pending=len(pending))
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
            if run.stopped() or run.caller.refused:
                return
            await _ask_one(run, model, item, params)

    await asyncio.gather(*(ask(item) for item in pending))
    run.caller.check()  # out of quota: stop, once the calls in flight are answered and billed
    return not run.stopped()


async def _ask_one(run: _Run, model: str, item: EvalItem, params: GenerationParams) -> None:
    messages = [Message(m["role"], m["content"]) for m in item.messages]
    row = EvaluationOutput(evaluation_id=run.evaluation.id, item=item.index, model=model, scores={})
    try:
        call = await run.caller.chat(model, messages, params, run.principal)
    except QuotaExceeded:
        return  # not an answer: the caller keeps the refusal and the evaluation stops on it
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
        params = GenerationParams(max_tokens=JUDGE_MAX_TOKENS, temperature=0.0)
        chat = [Message(m["role"], m["content"]) for m in messages]
        return (await run.caller.chat(model, chat, params, run.principal, endpoint="evaluation-judge")).text

    return judge


def _embed(run: _Run) -> Any:
    async def embed(model: str, texts: list[str]) -> list[list[float]]:
        return await run.caller.embed(model, texts, run.principal)

    return embed


EVALUATION_JOB = JobKind(name=EVAL_KIND, table=Evaluation, add_event=add_event, run=run_evaluation)
