"""Notices and sign-in requests.

A notice is an email that an event causes (an answer received, an answer returned, an extension
granted or refused). It is a row of the ledger, written in the event's own transaction and sent by
the next tick like any step; `event_id` names the event (0 for the ladder's steps and digests), and
joins the ledger's key, so that one occurrence returned twice on one day is told twice.

A sign-in request is a one-time link asked for on the sign-in page: only its token's SHA-256 is
kept, with the address, when it ends, and when it was used.

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
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("event_id", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_notification_key", type_="unique")
        batch.create_unique_constraint("uq_notification_key", ["occurrence_id", "step", "recipient", "due", "event_id"])
    op.create_table(
        "sign_in",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
    )
    op.create_index("ix_sign_in_email", "sign_in", ["email"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_email", "sign_in")
    op.drop_table("sign_in")
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint("uq_notification_key", type_="unique")
        batch.create_unique_constraint("uq_notification_key", ["occurrence_id", "step", "recipient", "due"])
        batch.drop_column("event_id")
