"""Files, fine-tuning jobs with events and checkpoints, the job queue, lineage.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "fine_tuning_jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("training_file", sa.String(40), nullable=False),
        sa.Column("validation_file", sa.String(40), nullable=True),
        sa.Column("suffix", sa.String(64), nullable=True),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("hyperparameters", sa.JSON(), nullable=False),
        sa.Column("method", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("fine_tuned_model", sa.String(200), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("trained_tokens", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("estimated_finish", _TS, nullable=True),
    )
    op.create_table(
        "fine_tuning_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("fine_tuning_jobs.id"), nullable=False, index=True),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "fine_tuning_checkpoints",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("job_id", sa.String(40), sa.ForeignKey("fine_tuning_jobs.id"), nullable=False, index=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "job_queue",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("tenant_id", sa.String(40), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("lease_owner", sa.String(80), nullable=True),
        sa.Column("lease_expires_at", _TS, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("lineage", sa.JSON(), nullable=True))
    with op.batch_alter_table("usage_events") as batch:
        batch.add_column(sa.Column("ref_id", sa.String(40), nullable=True))
        batch.create_unique_constraint("uq_usage_events_ref_id", ["ref_id"])


def downgrade() -> None:
    with op.batch_alter_table("usage_events") as batch:
        batch.drop_constraint("uq_usage_events_ref_id", type_="unique")
        batch.drop_column("ref_id")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("lineage")
    for table in ("job_queue", "fine_tuning_checkpoints", "fine_tuning_events", "fine_tuning_jobs", "files"):
        op.drop_table(table)
