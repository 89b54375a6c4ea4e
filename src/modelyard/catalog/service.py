"""Catalog: what models exist, who may see them, and how to reach their backend."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from modelyard.audit.context import annotate
from modelyard.backends.base import ModelSpec
from modelyard.backends.readiness import READY, ModelState, Readiness
from modelyard.catalog.builtin import BUILTIN_MODELS
from modelyard.catalog.kinds import card_tags, kind_of
from modelyard.catalog.local_folder import inspect_folder
from modelyard.catalog.names import check_not_confusable, check_registrable
from modelyard.catalog.schemas import CardIn, Lineage, LocalModelIn, ModelCard, ModelObject, RemoteModelIn
from modelyard.catalog.secrets import SecretBox
from modelyard.errors import Conflict, NotFound, PermissionDenied
from modelyard.security.outbound import OutboundGuard
from modelyard.store import Database, ModelRecord
from modelyard.store.tables import Evaluation
from modelyard.tenancy import Principal

__all__ = ["CatalogService", "LocalModelIn", "RemoteModelIn", "model_state", "to_model_object"]

# Names the model-id lock among PostgreSQL advisory locks ("mids" in ASCII).
_MODEL_IDS_LOCK_KEY = 0x6D696473
# A card lists the evaluations that used a fine-tune among its tenant's latest ones.
_LINEAGE_EVALUATIONS_SCANNED = 500


class CatalogService:
    def __init__(
        self,
        db: Database,
        secrets: SecretBox,
        *,
        cache_ttl_s: float = 2.0,
        outbound: OutboundGuard | None = None,
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._outbound = outbound or OutboundGuard()
        self._ttl = cache_ttl_s
        # model id -> (expires at, record, spec): every inference call resolves its model,
        # and a database round trip plus a decryption per call is most of the gateway's cost.
        # Misses are not cached, so a model published by another process is usable at once.
        self._cache: dict[str, tuple[float, ModelRecord, ModelSpec]] = {}

    def ensure_builtins(self) -> None:
        """Insert built-in models that are missing; leave edited cards alone."""
        with self._db.session() as session:
            for entry in BUILTIN_MODELS:
                if session.get(ModelRecord, entry["id"]) is None:
                    session.add(ModelRecord(**entry, builtin=True, status="ready"))

    # -- reading -------------------------------------------------------------
    def list_visible(self, principal: Principal, *, published_only: bool = False) -> list[ModelRecord]:
        """Models the caller may use; ``published_only``: those its tenant published."""
        query = select(ModelRecord).order_by(ModelRecord.builtin.desc(), ModelRecord.id)
        if not principal.is_admin:
            query = query.where(
                or_(
                    ModelRecord.owner_tenant_id.is_(None),
                    ModelRecord.owner_tenant_id == principal.tenant_id,
                )
            )
        if published_only:
            query = query.where(ModelRecord.publisher_tenant_id == principal.tenant_id)
        with self._db.session() as session:
            records = list(session.scalars(query))
        return [record for record in records if principal.may_use_model(record.id)]

    def get_visible(self, model_id: str, principal: Principal) -> ModelRecord:
        """The model, if the caller's tenant can see it and the caller's key may use it.

        Unseen models are 404 whether missing or another tenant's. A model the tenant sees
        but the key's ``allowed_models`` leaves out is 403: that tells the caller nothing it
        could not learn from another of its tenant's keys, and names the real fix.
        """
        record = self._lookup(model_id)
        visible = record is not None and (
            principal.is_admin or record.owner_tenant_id in (None, principal.tenant_id)
        )
        if not visible:
            # Same answer whether it does not exist or belongs to someone else.
            raise NotFound(f"The model '{model_id}' does not exist", param="model", code="model_not_found")
        if not principal.may_use_model(model_id):
            raise PermissionDenied(
                f"this key may not use the model '{model_id}'", param="model", code="model_not_allowed"
            )
        return record

    def _lookup(self, model_id: str) -> ModelRecord | None:
        cached = self._cache.get(model_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        with self._db.session() as session:
            record = session.get(ModelRecord, model_id)
        if record is not None:
            self._cache[model_id] = (time.monotonic() + self._ttl, record, self._build_spec(record))
        return record

    def spec_for(self, record: ModelRecord) -> ModelSpec:
        cached = self._cache.get(record.id)
        if cached is not None and cached[1] is record:
            return cached[2]
        return self._build_spec(record)

    def _build_spec(self, record: ModelRecord) -> ModelSpec:
        return ModelSpec(
            id=record.id,
            backend=record.backend,
            task=record.task,
            source=dict(record.source),
            secret=self._secrets.open(record.secret) if record.secret else None,
            context_length=record.context_length,
        )

    def evaluations_using(self, records: list[ModelRecord]) -> dict[str, list[str]]:
        """Fine-tune id -> its own tenant's evaluations that compared it, newest first.

        Scoped by each model's owner tenant, never the caller's: a card only reaches
        callers who may see the model, and another tenant's evaluations never reach it.
        """
        owned = {r.id: r.owner_tenant_id for r in records if r.owner_tenant_id and r.lineage is not None}
        if not owned:
            return {}
        query = (
            select(Evaluation.id, Evaluation.tenant_id, Evaluation.models)
            .where(Evaluation.tenant_id.in_(set(owned.values())))
            .order_by(Evaluation.created_at.desc())
            .limit(_LINEAGE_EVALUATIONS_SCANNED)
        )
        used: dict[str, list[str]] = {}
        with self._db.session() as session:
            for evaluation_id, tenant_id, models in session.execute(query):
                for model_id in models or ():
                    if owned.get(model_id) == tenant_id:
                        used.setdefault(model_id, []).append(evaluation_id)
        return used

    # -- writing -------------------------------------------------------------
    def register_local(self, body: LocalModelIn, principal: Principal) -> ModelRecord:
        _require_admin(principal)
        facts = inspect_folder(Path(body.path))
        record = self._record_from_card(body, backend=_local_backend(body.task), provider="local")
        record.source = {"path": body.path, "prompt_format": body.prompt_format}
        record.parameters = facts.parameters
        record.context_length = body.context_length or facts.context_length
        return self._insert(record)

    def register_remote(self, body: RemoteModelIn, principal: Principal) -> ModelRecord:
        """Admins add platform models; providers publish public models under their tenant."""
        _require_publisher(principal)
        self._outbound.check_url(str(body.base_url))
        default_provider = principal.tenant_name if principal.is_provider else "remote"
        record = self._record_from_card(body, backend="openai-compatible", provider=default_provider)
        if principal.is_provider:
            record.publisher_tenant_id = principal.tenant_id
        record.source = {
            "base_url": str(body.base_url).rstrip("/"),
            "upstream_model": body.upstream_model,
            **({"timeout_s": body.timeout_s} if body.timeout_s else {}),
        }
        record.secret = self._secrets.seal(body.api_key) if body.api_key else None
        return self._insert(record)

    def delete(self, model_id: str, principal: Principal) -> None:
        _require_publisher(principal)
        self.get_visible(model_id, principal)
        with self._db.session() as session:
            record = session.get(ModelRecord, model_id)
            if record is None:
                raise NotFound(f"The model '{model_id}' does not exist", param="model")
            if not principal.is_admin and record.publisher_tenant_id != principal.tenant_id:
                raise PermissionDenied("a provider key can remove only the models its tenant published")
            session.delete(record)
        self._cache.pop(model_id, None)

    def _record_from_card(self, body: CardIn, *, backend: str, provider: str) -> ModelRecord:
        return ModelRecord(
            id=body.id,
            backend=backend,
            task=body.task,
            provider=body.provider or provider,
            licence=body.licence,
            context_length=body.context_length,
            price_input_per_1k=body.price_input_per_1k,
            price_output_per_1k=body.price_output_per_1k,
            price_training_per_1k=body.price_training_per_1k,
            tags=list(body.tags),
            description=body.description,
            status="ready",
            builtin=False,
        )

    def _insert(self, record: ModelRecord) -> ModelRecord:
        """Add a model an admin or provider registered, under an id of its choosing."""
        check_registrable(record.id)
        # One writer at a time: two confusable ids registered at once must not both pass.
        with self._db.serialized_session(_MODEL_IDS_LOCK_KEY) as session:
            if session.get(ModelRecord, record.id) is not None:
                raise Conflict(f"a model named '{record.id}' already exists", param="id")
            check_not_confusable(record.id, session.scalars(select(ModelRecord.id)))
            session.add(record)
        self._cache.pop(record.id, None)
        annotate(model=record.id)
        return record

    def add_in(self, session: Session, record: ModelRecord) -> None:
        """Add a model in the caller's transaction (a fine-tune published with its bill).

        Raises ``Conflict`` when the name is taken. The cache holds no misses, so the new
        model is visible to every process once the caller commits.
        """
        if session.get(ModelRecord, record.id) is not None:
            raise Conflict(f"a model named '{record.id}' already exists", param="id")
        session.add(record)
        self._cache.pop(record.id, None)


def _require_admin(principal: Principal) -> None:
    # Registering a local folder reads the server's disk: a platform operator's privilege.
    if not principal.is_admin:
        raise PermissionDenied("only a platform admin key can register local models")


def _require_publisher(principal: Principal) -> None:
    if not (principal.is_admin or principal.is_provider):
        raise PermissionDenied("only a platform admin or provider key can publish or remove models")


def _local_backend(task: str) -> str:
    return {"chat": "transformers", "embedding": "sentence-transformers"}[task]


def model_state(record: ModelRecord, readiness: Readiness | None = None) -> ModelState:
    """How ready a model is: this server's own view (``backends.readiness``; a fine-tune
    follows its base), else what another process recorded in the catalog."""
    state = readiness.of_model(record.id, (record.source or {}).get("base_model")) if readiness else READY
    if state.status == "ready" and record.status in ("importing", "loading", "failed"):
        return ModelState(record.status)
    return state


def to_model_object(
    record: ModelRecord, state: ModelState | None = None, evaluations: list[str] | None = None
) -> ModelObject:
    """The card; ``state``: the model's readiness (``model_state``), recorded one if None."""
    state = state or model_state(record)
    return ModelObject(
        id=record.id,
        created=int(record.created_at.timestamp()) if record.created_at else 0,
        owned_by=record.provider,
        card=ModelCard(
            provider=record.provider,
            task=record.task,
            backend=record.backend,
            parameters=record.parameters,
            context_length=record.context_length,
            licence=record.licence,
            price_input_per_1k=record.price_input_per_1k,
            price_output_per_1k=record.price_output_per_1k,
            price_training_per_1k=record.price_training_per_1k,
            tags=card_tags(record),
            status=state.status,
            phase=state.phase,
            progress=state.progress,
            reason=state.reason,
            description=record.description,
            owner="tenant" if record.owner_tenant_id else "platform",
            kind=kind_of(record),
            lineage=_lineage(record, evaluations),
        ),
    )


def _lineage(record: ModelRecord, evaluations: list[str] | None) -> Lineage | None:
    # Only a tenant's own model carries lineage: its job and files are that tenant's.
    if not record.lineage or not record.owner_tenant_id:
        return None
    facts = record.lineage
    return Lineage(
        base_model=facts.get("base_model"),
        job=facts.get("job"),
        training_file=facts.get("training_file"),
        validation_file=facts.get("validation_file"),
        evaluations=list(evaluations or ()),
    )
