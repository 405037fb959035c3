"""The ledger is keyed per due date: (occurrence, step, recipient, due).

A notification sent for one due date no longer blocks the same step for another: when a date moves
(a plan correction, an extension), the ladder is planned afresh for the new date, and nothing is
sent twice for the same date. Rows written before this revision take their occurrence's present due
date (a digest row, the day it was scheduled), which keeps them from going out again.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notification", sa.Column("due", sa.Date(), nullable=True))
    op.execute(
        "UPDATE notification SET due = (SELECT occurrence.due FROM occurrence WHERE occurrence.id = notification.occurrence_id)"
    )
    op.execute("UPDATE notification SET due = date(scheduled_at) WHERE due IS NULL")
    with op.batch_alter_table("notification") as batch:
        batch.alter_column("due", existing_type=sa.Date(), nullable=False)
        batch.drop_constraint("uq_notification_key", type_="unique")
        batch.create_unique_constraint("uq_notification_key", ["occurrence_id", "step", "recipient", "due"])
    op.create_index("ix_notification_recipient_step", "notification", ["recipient", "step"])


def downgrade() -> None:
    op.drop_index("ix_notification_recipient_step", "notification")
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint("uq_notification_key", type_="unique")
        batch.create_unique_constraint("uq_notification_key", ["occurrence_id", "step", "recipient"])
        batch.drop_column("due")
