"""Hardening: schema changes of the trust and reliability review (issue 11).

Each part of the review adds its own block below, under its own heading, so parallel work
touches separate lines.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _outbound()
    _audit()
    _jobs()


def downgrade() -> None:
    raise NotImplementedError("modelyard migrations are forward-only")


# -- outbound allow-list entries name scheme, host and port ------------------------------
def _outbound() -> None:
    # The key becomes the entry's canonical spelling; a bare host keeps meaning ports 80/443.
    op.create_table(
        "outbound_allowlist_0005",
        sa.Column("entry", sa.String(300), primary_key=True),
        sa.Column("scheme", sa.String(5), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO outbound_allowlist_0005 (entry, scheme, host, port, created_by, created_at) "
        "SELECT host, NULL, host, NULL, created_by, created_at FROM outbound_allowlist"
    )
    op.drop_table("outbound_allowlist")
    op.rename_table("outbound_allowlist_0005", "outbound_allowlist")


# -- audit chain keyed with a secret (HMAC) -------------------------------------------------
def _audit() -> None:
    # No schema change: the chain keeps its columns. Re-keying the existing entries needs
    # the key, which lives outside the database (modelyard.audit.keys does it once, when
    # the key is made; `modelyard audit rekey` for a configured key).
    pass


# -- one job lifecycle ------------------------------------------------------------------------
def _jobs() -> None:
    pass
