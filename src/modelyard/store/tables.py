"""Tables. Column types stay portable between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Evaluation",
    "EvaluationEvent",
    "EvaluationOutput",
    "EvaluationRating",
    "FileRecord",
    "FineTuningCheckpoint",
    "FineTuningEvent",
    "FineTuningJob",
    "ModelRecord",
    "OutboundAllow",
    "QueuedJob",
    "Quota",
    "Tenant",
    "UTCDateTime",
    "UsageEvent",
    "unix_seconds",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def unix_seconds(value: datetime | None) -> int | None:
    """A stored timestamp as OpenAI's wire format has it: whole seconds, or None."""
    return int(value.timestamp()) if value is not None else None


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every database; SQLite would hand back naive datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    # sha256 of the whole secret key; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64))
    # admin (platform), provider, tenant_admin, member.
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Endpoint scopes the key may call (None: every scope its role allows).
    scopes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # Models the key may use (None: any model its tenant can see).
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rotated_from: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ModelRecord(Base):
    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    # Set for tenant-private models (fine-tunes): only that tenant sees them.
    owner_tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), nullable=True, index=True)
    # The provider tenant that published a public model: it sees aggregate usage only.
    publisher_tenant_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    backend: Mapped[str] = mapped_column(String(40))
    task: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(80))
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Fernet token of the upstream API key (remote providers only).
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    parameters: Mapped[int | None] = mapped_column(Integer, nullable=True)
    context_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    licence: Mapped[str] = mapped_column(String(80), default="unknown")
    price_input_per_1k: Mapped[float] = mapped_column(Float, default=0.0)
    price_output_per_1k: Mapped[float] = mapped_column(Float, default=0.0)
    price_training_per_1k: Mapped[float] = mapped_column(Float, default=0.0)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="ready")
    description: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(default=False)
    # For fine-tuned models: base model, files, hyperparameters, job.
    lineage: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageEvent(Base):
    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(40), index=True)
    key_id: Mapped[str] = mapped_column(String(40), index=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    endpoint: Mapped[str] = mapped_column(String(40))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    status_code: Mapped[int] = mapped_column(Integer)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The job a usage event bills (training): unique, so a job is never billed twice.
    ref_id: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)


class FileRecord(Base):
    """An uploaded file. Its bytes live under <home>/files by a generated name."""

    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(40))
    bytes: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(20), default="processed")
    examples: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FineTuningJob(Base):
    __tablename__ = "fine_tuning_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    training_file: Mapped[str] = mapped_column(String(40))
    validation_file: Mapped[str | None] = mapped_column(String(40), nullable=True)
    suffix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    method: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(24), index=True)
    fine_tuned_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    trained_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    estimated_finish: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FineTuningEvent(Base):
    __tablename__ = "fine_tuning_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("fine_tuning_jobs.id"), index=True)
    level: Mapped[str] = mapped_column(String(10), default="info")
    type: Mapped[str] = mapped_column(String(20), default="message")
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FineTuningCheckpoint(Base):
    __tablename__ = "fine_tuning_checkpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("fine_tuning_jobs.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QueuedJob(Base):
    """The work queue: which job a worker holds, and until when (its lease)."""

    __tablename__ = "job_queue"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    tenant_id: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Evaluation(Base):
    __tablename__ = "evaluations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="")
    file_id: Mapped[str] = mapped_column(String(40))
    models: Mapped[list[str]] = mapped_column(JSON, default=list)
    metrics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    generation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tolerance_points: Mapped[float] = mapped_column(Float, default=2.0)
    primary_metric: Mapped[str | None] = mapped_column(String(60), nullable=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EvaluationOutput(Base):
    """One model's answer to one item, with its measurements and scores."""

    __tablename__ = "evaluation_outputs"
    __table_args__ = (UniqueConstraint("evaluation_id", "item", "model", name="uq_evaluation_output"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("evaluations.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(200))
    output: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EvaluationEvent(Base):
    __tablename__ = "evaluation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("evaluations.id"), index=True)
    level: Mapped[str] = mapped_column(String(10), default="info")
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvaluationRating(Base):
    """A person's A/B preference between two models' answers, or a score of one."""

    __tablename__ = "evaluation_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("evaluations.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    model_a: Mapped[str] = mapped_column(String(200))
    model_b: Mapped[str | None] = mapped_column(String(200), nullable=True)
    winner: Mapped[str | None] = mapped_column(String(8), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    key_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Quota(Base):
    """Limits for one tenant or one key; a None limit is no limit."""

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", name="uq_quota_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_type: Mapped[str] = mapped_column(String(10))  # "tenant" or "key"
    subject_id: Mapped[str] = mapped_column(String(40))
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    spend_budget: Mapped[float | None] = mapped_column(Float, nullable=True)
    budget_period: Mapped[str] = mapped_column(String(10), default="month")  # "day" or "month"
    max_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_upload_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_concurrent_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One append-only audit record; ``hash`` covers its fields and ``prev_hash``."""

    __tablename__ = "audit_log"

    # 64-bit: a busy platform can pass 2^31 entries, and a paging cursor may name any seq.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # "request" or "admin"
    tenant_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    route: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    action: Mapped[str | None] = mapped_column(String(60), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A read the console's own polling made (it says so in a header): hidden by default views.
    poll: Mapped[bool] = mapped_column(Boolean, default=False)
    # The route's path parameters (a job id, a file id, a key id): what the call acted on.
    resource: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutboundAllow(Base):
    """A destination an admin allowed outbound calls to despite the private-address guard.

    ``entry`` is its canonical spelling (``host``, ``host:port`` or ``scheme://host:port``);
    ``scheme`` None means http or https, ``port`` None means ports 80 and 443.
    """

    __tablename__ = "outbound_allowlist"

    entry: Mapped[str] = mapped_column(String(300), primary_key=True)
    scheme: Mapped[str | None] = mapped_column(String(5), nullable=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
