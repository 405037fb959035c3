"""The database tables. Times are timezone-aware, stored as UTC; dates are the plan's local dates.

Changing a table means a new Alembic revision in `migrations/versions/`; a test compares these
models with what the migrations build.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class AgencyRow(SQLModel, table=True):
    __tablename__ = "agency"

    code: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    short_kk: str
    name_kk: str
    name_ru: str | None = None
    name_en: str | None = None
    by_agreement: bool = False


class ContactRow(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("agency", "email", "role", name="uq_contact_agency_email_role"),)

    id: int | None = Field(default=None, primary_key=True)
    agency: str = Field(index=True, max_length=64)
    name: str
    email: str = Field(max_length=320)
    role: str = Field(max_length=16)
    language: str = Field(max_length=2)


class OccurrenceRow(SQLModel, table=True):
    __tablename__ = "occurrence"
    __table_args__ = (
        Index("ix_occurrence_status_due", "status", "due"),
        Index("ix_occurrence_next_step_at", "next_step_at"),
    )

    id: str = Field(primary_key=True, max_length=160)
    obligation: str = Field(index=True, max_length=32)
    agency: str = Field(index=True, max_length=64)
    period: str = Field(max_length=32)
    nominal_due: dt.date
    due: dt.date
    recipient: str | None = Field(default=None, max_length=64)
    title_kk: str
    status: str = Field(default="active", max_length=16)  # active | cancelled
    sequence: int = 0  # raised whenever `due` moves
    # No ladder step before this instant is left to plan; NULL when the ladder is done. A tick reads
    # only occurrences with `next_step_at <= now`, so its cost follows the work due, not the plan's size.
    next_step_at: dt.datetime | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class SubmissionRow(SQLModel, table=True):
    __tablename__ = "submission"

    occurrence_id: str = Field(primary_key=True, foreign_key="occurrence.id", max_length=160)
    submitted_at: dt.datetime
    note: str | None = None
    recorded_at: dt.datetime


class NotificationRow(SQLModel, table=True):
    """The ledger: one row per (occurrence, step, recipient, due date), whatever became of it.

    Keyed per due date: when a date moves, the ladder is planned afresh for the new date."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "step", "recipient", "due", name="uq_notification_key"),
        Index("ix_notification_state_next", "state", "next_attempt_at"),
        Index("ix_notification_recipient_step", "recipient", "step"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: str = Field(index=True, max_length=160)  # or a digest key, "digest:2022-W49"
    step: str = Field(max_length=32)
    recipient: str = Field(max_length=320)  # email, lowercased
    due: dt.date  # the due date the step was planned for (a digest: its day)
    name: str
    language: str = Field(max_length=2)
    agency: str | None = Field(default=None, max_length=64)
    scheduled_at: dt.datetime
    # pending → claimed → sent | retry → claimed … | failed; or skipped / withdrawn
    state: str = Field(max_length=16)
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    claim_token: str | None = Field(default=None, max_length=64)
    lease_until: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    message_id: str | None = None
    error: str | None = None


class SettingRow(SQLModel, table=True):
    """Small facts about what was loaded: the plan's id and digest, when it was synced."""

    __tablename__ = "state"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class FeedTokenRow(SQLModel, table=True):
    """A calendar subscription. Only the token's SHA-256 is kept; the token itself is shown once."""

    __tablename__ = "feed_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    scope: str = Field(max_length=16)  # agency | contact | all
    agency: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
