"""Trust: key scopes and expiry, provider-published models, quotas, audit log, outbound allow-list.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("allowed_models", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("read_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("expires_at", _TS, nullable=True))
        batch.add_column(sa.Column("rotated_from", sa.String(40), nullable=True))
        batch.add_column(sa.Column("last_used_at", _TS, nullable=True))
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("publisher_tenant_id", sa.String(40), nullable=True))
        batch.add_column(
            sa.Column("price_training_per_1k", sa.Float(), nullable=False, server_default=sa.text("0"))
        )
        batch.create_index("ix_models_publisher_tenant_id", ["publisher_tenant_id"])
    op.create_table(
        "quotas",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_type", sa.String(10), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_minute", sa.Integer(), nullable=True),
        sa.Column("spend_budget", sa.Float(), nullable=True),
        sa.Column("budget_period", sa.String(10), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=True),
        sa.Column("max_upload_bytes", sa.Integer(), nullable=True),
        sa.Column("max_concurrent_jobs", sa.Integer(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("subject_type", "subject_id", name="uq_quota_subject"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=True, index=True),
        sa.Column("key_id", sa.String(40), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("method", sa.String(10), nullable=True),
        sa.Column("route", sa.String(200), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("action", sa.String(60), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "outbound_allowlist",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("created_by", sa.String(40), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbound_allowlist")
    op.drop_table("audit_log")
    op.drop_table("quotas")
    with op.batch_alter_table("models") as batch:
        batch.drop_index("ix_models_publisher_tenant_id")
        batch.drop_column("price_training_per_1k")
        batch.drop_column("publisher_tenant_id")
    with op.batch_alter_table("api_keys") as batch:
        for column in ("last_used_at", "rotated_from", "expires_at", "read_only", "allowed_models", "scopes"):
            batch.drop_column(column)
