"""The day an event was held.

An answer to an event row (a commission sitting, a training: `kind = "event"` in the plan) records
the day the event took place, within the period it is owed for (`submission.held_on`).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submission") as batch:
        batch.add_column(sa.Column("held_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("held_on")
