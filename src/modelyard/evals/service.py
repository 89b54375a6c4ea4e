"""Evaluations as the API sees them: create, read, cancel, rate, and assemble results."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from modelyard.catalog import CatalogService
from modelyard.errors import InvalidRequest, ModelyardError, NotFound
from modelyard.evals.items import to_items
from modelyard.evals.protocol import CreateEvaluationIn, RatingIn
from modelyard.evals.results import EvalOutput, EvalResults, ModelInfo, Rating, Score
from modelyard.files import FilesService
from modelyard.jobs import JobQueue
from modelyard.jobs.states import JobStatus, check_transition
from modelyard.quotas.service import QuotaService, job_session
from modelyard.store import Database
from modelyard.store.tables import (
    Evaluation,
    EvaluationEvent,
    EvaluationOutput,
    EvaluationRating,
    ModelRecord,
    utcnow,
)
from modelyard.tenancy import Principal

__all__ = ["EVAL_KIND", "EvaluationService", "add_event"]

EVAL_KIND = "evaluation"
# Metrics that call another catalog model, and the option that names it.
_MODEL_OPTIONS = {"judge": "model", "embedding_similarity": "model"}


# The job lifecycle (jobs/lifecycle.py) writes these sentences with no data; their codes are
# added here so that a client can say every event in its reader's language from ``data.code``.
_LIFECYCLE_CODES = {"Evaluation started": "started", "Evaluation completed": "completed"}
_FAILED_PREFIX = "Job failed: "


def add_event(
    session: Any, evaluation_id: str, message: str, *, level: str = "info", data: dict[str, Any] | None = None
) -> None:
    """An event: the English ``message`` and, in ``data``, a ``code`` with the numbers it needs."""
    if data is None:
        data = _lifecycle_data(message)
    session.add(EvaluationEvent(evaluation_id=evaluation_id, level=level, message=message, data=data))


def _lifecycle_data(message: str) -> dict[str, Any] | None:
    if message in _LIFECYCLE_CODES:
        return {"code": _LIFECYCLE_CODES[message]}
    if message.startswith(_FAILED_PREFIX):
        return {"code": "failed", "error": message.removeprefix(_FAILED_PREFIX)}
    return None


class EvaluationService:
    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        catalog: CatalogService,
        files: FilesService,
        quotas: QuotaService | None = None,
    ) -> None:
        self._db = db
        self._queue = queue
        self._catalog = catalog
        self._files = files
        self._quotas = quotas

    def create(self, body: CreateEvaluationIn, principal: Principal) -> Evaluation:
        self._check_models(body, principal)
        metrics = self._check_metrics(body, principal)
        self._check_max_tokens(body, principal)
        record = self._files.get(principal, body.file)
        evaluation = Evaluation(
            id=f"eval-{secrets.token_hex(12)}",
            tenant_id=principal.tenant_id,
            key_id=principal.key_id,
            name=body.name or record.filename,
            file_id=record.id,
            models=list(body.models),
            metrics=metrics,
            generation={**body.generation.model_dump(), "concurrency": body.concurrency},
            tolerance_points=body.tolerance_points,
            primary_metric=body.primary_metric or metrics[0]["name"],
            status=JobStatus.QUEUED,
            progress={"done": 0, "total": record.examples * len(body.models), "items": record.examples},
        )
        # The job cap is checked in the transaction that inserts the job (429 when full).
        with job_session(self._db, self._quotas, principal) as session:
            session.add(evaluation)
            session.flush()
            add_event(
                session,
                evaluation.id,
                f"Created evaluation of {len(body.models)} models on {record.examples} items",
                data={"code": "created", "models": len(body.models), "items": record.examples},
            )
            # In the same transaction: a crash cannot leave an evaluation that never runs.
            self._queue.enqueue(evaluation.id, kind=EVAL_KIND, tenant_id=principal.tenant_id, session=session)
        return evaluation

    def _check_models(self, body: CreateEvaluationIn, principal: Principal) -> None:
        for index, model in enumerate(body.models):
            record = self._catalog.get_visible(model, principal)
            if record.task != "chat":
                raise InvalidRequest(f"model '{model}' is not a chat model", param=f"models.{index}")

    def _check_max_tokens(self, body: CreateEvaluationIn, principal: Principal) -> None:
        """Refuse now what the key's max_tokens quota would refuse on every call; a default
        the caller did not choose is lowered to the cap instead."""
        from modelyard.evals.metrics.judge import JUDGE_MAX_TOKENS

        cap = self._quotas.for_caller(principal).stricter("max_tokens") if self._quotas else None
        if cap is None:
            return
        generation = body.generation
        if "max_tokens" not in generation.model_fields_set:
            generation.max_tokens = min(generation.max_tokens, int(cap))
        elif generation.max_tokens > cap:
            raise InvalidRequest(
                f"generation.max_tokens {generation.max_tokens} is above this key's quota of "
                f"{int(cap)} tokens per request",
                param="generation.max_tokens",
                code="max_tokens_above_quota",
            )
        for index, spec in enumerate(body.metrics):
            if spec.get("name") == "judge" and JUDGE_MAX_TOKENS > cap:
                raise InvalidRequest(
                    f"the judge asks up to {JUDGE_MAX_TOKENS} tokens per verdict, above this key's "
                    f"quota of {int(cap)} tokens per request",
                    param=f"metrics.{index}",
                    code="max_tokens_above_quota",
                )

    def _check_metrics(self, body: CreateEvaluationIn, principal: Principal) -> list[dict[str, Any]]:
        from modelyard.evals.metrics import build_metrics

        built = build_metrics(body.metrics)
        names = [metric.name for metric in built]
        if len(set(names)) != len(names):
            raise InvalidRequest("each metric may appear once", param="metrics")
        if body.primary_metric is not None and body.primary_metric not in names:
            raise InvalidRequest(f"primary_metric must be one of {', '.join(names)}", param="primary_metric")
        for index, spec in enumerate(body.metrics):
            option = _MODEL_OPTIONS.get(spec.get("name", ""))
            if option and spec.get(option):
                try:
                    self._catalog.get_visible(spec[option], principal)
                except NotFound as exc:
                    raise NotFound(exc.message, param=f"metrics.{index}.{option}") from exc
        return [dict(spec) for spec in body.metrics]

    # -- reading -------------------------------------------------------------
    def get(self, evaluation_id: str, principal: Principal) -> Evaluation:
        with self._db.session() as session:
            evaluation = session.get(Evaluation, evaluation_id)
        if evaluation is None or evaluation.tenant_id != principal.tenant_id:
            raise NotFound(f"evaluation '{evaluation_id}' not found", param="evaluation_id")
        return evaluation

    def list(self, principal: Principal, *, limit: int) -> list[Evaluation]:
        query = (
            select(Evaluation)
            .where(Evaluation.tenant_id == principal.tenant_id)
            .order_by(Evaluation.created_at.desc())
            .limit(limit)
        )
        with self._db.session() as session:
            return list(session.scalars(query))

    def events(self, evaluation_id: str, principal: Principal, *, limit: int) -> list[EvaluationEvent]:
        self.get(evaluation_id, principal)
        query = (
            select(EvaluationEvent)
            .where(EvaluationEvent.evaluation_id == evaluation_id)
            .order_by(EvaluationEvent.id.desc())
            .limit(limit)
        )
        with self._db.session() as session:
            return list(session.scalars(query))

    # -- steering ------------------------------------------------------------
    def cancel(self, evaluation_id: str, principal: Principal) -> Evaluation:
        self.get(evaluation_id, principal)
        with self._db.session() as session:
            evaluation = session.get(Evaluation, evaluation_id, with_for_update=True)
            if evaluation.status == JobStatus.CANCELLED:
                return evaluation
            check_transition(evaluation.status, JobStatus.CANCELLED)
            evaluation.status, evaluation.finished_at = JobStatus.CANCELLED, utcnow()
            add_event(session, evaluation_id, "Evaluation cancelled", data={"code": "cancelled"})
        if self._queue.state(evaluation_id) != "running":
            self._queue.finish(evaluation_id)
        return evaluation

    def rate(self, evaluation_id: str, body: RatingIn, principal: Principal) -> EvaluationRating:
        evaluation = self.get(evaluation_id, principal)
        for param, model in (("model_a", body.model_a), ("model_b", body.model_b)):
            if model is not None and model not in evaluation.models:
                raise InvalidRequest(f"'{model}' is not one of this evaluation's models", param=param)
        if body.item >= evaluation.progress.get("items", 0):
            raise InvalidRequest("no such item in this evaluation", param="item")
        rating = EvaluationRating(
            evaluation_id=evaluation_id,
            item=body.item,
            model_a=body.model_a,
            model_b=body.model_b,
            winner=body.winner,
            score=body.score,
            key_id=principal.key_id,
        )
        with self._db.session() as session:
            session.add(rating)
        return rating

    # -- results -------------------------------------------------------------
    def results(self, evaluation_id: str, principal: Principal) -> EvalResults:
        evaluation = self.get(evaluation_id, principal)
        try:
            examples = self._files.examples(principal.tenant_id, evaluation.file_id)
        except NotFound as exc:
            raise ModelyardError("the evaluation's file was deleted; its report cannot be rebuilt") from exc
        with self._db.session() as session:
            outputs = session.scalars(
                select(EvaluationOutput)
                .where(EvaluationOutput.evaluation_id == evaluation_id)
                .order_by(EvaluationOutput.item, EvaluationOutput.model)
            ).all()
            ratings = session.scalars(
                select(EvaluationRating).where(EvaluationRating.evaluation_id == evaluation_id)
            ).all()
            models = [_model_info(session.get(ModelRecord, m), m) for m in evaluation.models]
        return EvalResults(
            id=evaluation.id,
            name=evaluation.name,
            created_at=int(evaluation.created_at.timestamp()),
            models=models,
            metrics=list(evaluation.metrics),
            items=to_items(examples),
            outputs=[_output(row) for row in outputs],
            ratings=[Rating(r.item, r.model_a, r.model_b, r.winner, r.score) for r in ratings],
            tolerance_points=evaluation.tolerance_points,
            primary_metric=evaluation.primary_metric,
        )


def _model_info(record: ModelRecord | None, model_id: str) -> ModelInfo:
    if record is None:  # removed since: keep its answers, price unknown
        return ModelInfo(model_id, "unknown", 0.0, 0.0)
    return ModelInfo(record.id, record.provider, record.price_input_per_1k, record.price_output_per_1k)


def _output(row: EvaluationOutput) -> EvalOutput:
    return EvalOutput(
        item=row.item,
        model=row.model,
        output=row.output,
        error=row.error,
        latency_ms=row.latency_ms,
        ttft_ms=row.ttft_ms,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cost=row.cost,
        scores={name: Score(s.get("value"), s.get("detail")) for name, s in (row.scores or {}).items()},
    )
