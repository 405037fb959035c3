"""Answering a deadline: the answer's state on the occurrence, an append-only event log, one row per
submission (with the letter's number and date, the text and who recorded it), documents, extensions,
and the secretariat's users.

Submissions recorded before this revision become the first row of their occurrence and get a
`submit` event (by "operator", at the time it was recorded), so that every state is the fold of its
events.

Revision ID: 0004
Revises: 0003
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("occurrence", sa.Column("extended_until", sa.Date(), nullable=True))
    op.add_column("occurrence", sa.Column("plan_due", sa.Date(), nullable=True))
    op.add_column("occurrence", sa.Column("state", sa.String(16), nullable=False, server_default="open"))
    op.add_column("occurrence", sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("occurrence", sa.Column("submission_id", sa.Integer(), nullable=True))
    op.add_column("occurrence", sa.Column("ladder_from", sa.DateTime(timezone=True), nullable=True))

    # One row per submission, with an id of its own (the old table was keyed by the occurrence).
    op.create_table(
        "submission_new",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("occurrence_id", sa.String(160), sa.ForeignKey("occurrence.id"), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ref", sa.String(), nullable=True),
        sa.Column("ref_date", sa.Date(), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("by", sa.String(320), nullable=True),
    )
    op.execute("INSERT INTO submission_new (occurrence_id, submitted_at, note, recorded_at) "
               "SELECT occurrence_id, submitted_at, note, recorded_at FROM submission ORDER BY recorded_at, occurrence_id")
    op.drop_table("submission")
    op.rename_table("submission_new", "submission")
    op.create_index("ix_submission_occurrence_id", "submission", ["occurrence_id"])
    op.execute("UPDATE occurrence SET state = 'submitted', "
               "submission_id = (SELECT submission.id FROM submission WHERE submission.occurrence_id = occurrence.id) "
               "WHERE id IN (SELECT occurrence_id FROM submission)")

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("occurrence_id", sa.String(160), sa.ForeignKey("occurrence.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("details", sa.String(), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
    )
    op.create_index("ix_event_occurrence_id", "event", ["occurrence_id"])
    op.create_table(
        "file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("occurrence_id", sa.String(160), sa.ForeignKey("occurrence.id"), nullable=False),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submission.id"), nullable=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("event.id"), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(320), nullable=False),
    )
    op.create_index("ix_file_occurrence_id", "file", ["occurrence_id"])
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )

    # Every submission already recorded becomes a `submit` event: the state is the fold of the log.
    bind = op.get_bind()
    submission = sa.table("submission", sa.column("id"), sa.column("occurrence_id"), sa.column("submitted_at"),
                          sa.column("note"), sa.column("recorded_at"))
    event = sa.table("event", sa.column("occurrence_id"), sa.column("at"), sa.column("actor"), sa.column("action"),
                     sa.column("from_state"), sa.column("to_state"), sa.column("details"))
    rows = bind.execute(sa.select(submission.c.id, submission.c.occurrence_id, submission.c.submitted_at,
                                  submission.c.note, submission.c.recorded_at).order_by(submission.c.id)).all()
    if rows:
        bind.execute(event.insert(), [
            {"occurrence_id": oid, "at": recorded, "actor": "operator", "action": "submit", "from_state": "open",
             "to_state": "submitted",
             "details": json.dumps({"submission": sid, "submitted_at": _iso(submitted), "note": note,
                                    "recorded_before_events": True}, ensure_ascii=False)}
            for sid, oid, submitted, note, recorded in rows
        ])


def _iso(moment) -> str:
    text = moment.isoformat() if hasattr(moment, "isoformat") else str(moment)
    return text if "+" in text[10:] or text.endswith("Z") else text + "+00:00"  # SQLite hands back naive UTC


def downgrade() -> None:
    """Back to one submission per occurrence (the one in force, if answered) and the plan's dates."""
    op.drop_table("user")
    op.drop_index("ix_file_occurrence_id", "file")
    op.drop_table("file")
    op.drop_index("ix_event_occurrence_id", "event")
    op.drop_table("event")
    op.create_table(
        "submission_old",
        sa.Column("occurrence_id", sa.String(160), sa.ForeignKey("occurrence.id"), primary_key=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("INSERT INTO submission_old (occurrence_id, submitted_at, note, recorded_at) "
               "SELECT submission.occurrence_id, submission.submitted_at, submission.note, submission.recorded_at "
               "FROM submission JOIN occurrence ON occurrence.submission_id = submission.id "
               "WHERE occurrence.state IN ('submitted', 'accepted')")
    op.drop_index("ix_submission_occurrence_id", "submission")
    op.drop_table("submission")
    op.rename_table("submission_old", "submission")
    op.execute("UPDATE occurrence SET due = plan_due, sequence = sequence + 1 WHERE plan_due IS NOT NULL")
    for column in ("ladder_from", "submission_id", "version", "state", "plan_due", "extended_until"):
        op.drop_column("occurrence", column)
