"""The first tables: agencies, contacts, occurrences, submissions, the notification ledger, state.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("short_kk", sa.String(), nullable=False),
        sa.Column("name_kk", sa.String(), nullable=False),
        sa.Column("name_ru", sa.String(), nullable=True),
        sa.Column("name_en", sa.String(), nullable=True),
        sa.Column("by_agreement", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.UniqueConstraint("agency", "email", "role", name="uq_contact_agency_email_role"),
    )
    op.create_index("ix_contact_agency", "contact", ["agency"])
    op.create_table(
        "occurrence",
        sa.Column("id", sa.String(160), primary_key=True),
        sa.Column("obligation", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("nominal_due", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=True),
        sa.Column("title_kk", sa.String(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("next_step_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_occurrence_obligation", "occurrence", ["obligation"])
    op.create_index("ix_occurrence_agency", "occurrence", ["agency"])
    op.create_index("ix_occurrence_status_due", "occurrence", ["status", "due"])
    op.create_index("ix_occurrence_next_step_at", "occurrence", ["next_step_at"])
    op.create_table(
        "submission",
        sa.Column("occurrence_id", sa.String(160), sa.ForeignKey("occurrence.id"), primary_key=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("occurrence_id", sa.String(160), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("agency", sa.String(64), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.UniqueConstraint("occurrence_id", "step", "recipient", name="uq_notification_key"),
    )
    op.create_index("ix_notification_occurrence_id", "notification", ["occurrence_id"])
    op.create_index("ix_notification_state_next", "notification", ["state", "next_attempt_at"])
    op.create_table(
        "state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )


def downgrade() -> None:
    for table in ("state", "notification", "submission", "occurrence", "contact", "agency"):
        op.drop_table(table)
