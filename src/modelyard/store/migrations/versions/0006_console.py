"""Console: schema changes of the console review (issue 12).

Each part of the review adds its own block below, under its own heading, so parallel work
touches separate lines.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _audit()


def downgrade() -> None:
    raise NotImplementedError("modelyard migrations are forward-only")


# -- audit entries: the console's own polling reads, and the resource a call acted on --------
def _audit() -> None:
    # Both hash only when set (see modelyard.audit.chain), so entries written before this
    # migration (poll false, no resource) verify exactly as they did.
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("poll", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("resource", sa.JSON(), nullable=True))
