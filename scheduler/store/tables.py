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
    phone: str | None = Field(default=None, max_length=40)


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
    due: dt.date  # the effective due date: the plan's, or an extension's while one is granted
    # While an extension is granted: its date, and the plan's own due date kept beside `due` (both
    # NULL when there is none). `due` is the later of the two; sync updates `plan_due` from the plan
    # and keeps the extension; revoking it puts the plan's date back into `due`.
    extended_until: dt.date | None = None
    plan_due: dt.date | None = None
    # An extension the agency asked for and the secretariat has not yet granted or refused: its date.
    extension_requested: dt.date | None = None
    recipient: str | None = Field(default=None, max_length=64)
    title_kk: str
    status: str = Field(default="active", max_length=16)  # active | cancelled
    sequence: int = 0  # raised whenever `due` moves
    # No ladder step before this instant is left to plan; NULL when the ladder is done. A tick reads
    # only occurrences with `next_step_at <= now`, so its cost follows the work due, not the plan's size.
    next_step_at: dt.datetime | None = None
    # The answer: open | submitted | accepted | returned | closed (see scheduler/answers), the fold of
    # its events, written with them in one transaction; `version` rises with every event, and an
    # event is written only if the version is still the one its actor saw (optimistic check).
    state: str = Field(default="open", max_length=16, sa_column_kwargs={"server_default": "open"})
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    submission_id: int | None = None  # the submission in force (that of a returned answer too)
    # No ladder step before this instant is sent for the present due date: set when the ladder
    # resumes (returned, reopened) or the date is extended, so that history is not mailed.
    ladder_from: dt.datetime | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class SubmissionRow(SQLModel, table=True):
    """One answer as it came: never changed or deleted. A new answer (after a return) is a new row;
    the occurrence's `submission_id` names the one in force."""

    __tablename__ = "submission"

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: str = Field(foreign_key="occurrence.id", index=True, max_length=160)
    submitted_at: dt.datetime  # when it came (may be given: a paper backlog)
    note: str | None = None
    recorded_at: dt.datetime
    ref: str | None = None  # the outgoing letter's registration number
    ref_date: dt.date | None = None  # and its date
    held_on: dt.date | None = None  # an event row's answer: the day the event was held
    text: str | None = None  # the information itself
    by: str | None = Field(default=None, max_length=320)  # who recorded it: an email, or "operator"


class EventRow(SQLModel, table=True):
    """The append-only log of everything done to an occurrence's answer; the state is its fold."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_chain_seq", "chain_seq", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: str = Field(foreign_key="occurrence.id", index=True, max_length=160)
    at: dt.datetime  # when it was recorded
    actor: str = Field(max_length=320)  # an email, or "operator"
    action: str = Field(max_length=32)
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    details: str  # JSON: reason, ref, text, dates, files…
    client: str | None = Field(default=None, max_length=64)  # the address it came from, on the web
    # The record's hash chain (scheduler/store/chain.py): the event's place in the one chain of the
    # database, the previous link's hash and the SHA-256 of this event's canonical form with it.
    chain_seq: int | None = None
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AdminEventRow(SQLModel, table=True):
    """The append-only log of what was done to the system rather than to an occurrence (an API
    token added or revoked); its rows are links of the same chain as the events'."""

    __tablename__ = "admin_event"
    __table_args__ = (Index("ix_admin_event_chain_seq", "chain_seq", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime
    actor: str = Field(max_length=320)
    action: str = Field(max_length=32)  # token-add, token-revoke
    subject: str = Field(max_length=200)  # what it concerns: "token:NAME"
    details: str  # JSON
    client: str | None = Field(default=None, max_length=64)
    chain_seq: int | None = None
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class ChainHeadRow(SQLModel, table=True):
    """The chain's head: one row (id 1), its last link. Appending locks it (PostgreSQL: a row lock;
    SQLite has one writer), so instances append one after another; it also names the last link, so
    that a deleted tail is seen."""

    __tablename__ = "chain_head"

    id: int = Field(primary_key=True)
    seq: int = 0  # the number of links
    hash: str = Field(max_length=64)  # the last link's hash (the genesis value when there is none)
    kind: str | None = Field(default=None, max_length=16)  # the last link's table: event | admin_event
    row_id: int | None = None  # and its id there


class ApiTokenRow(SQLModel, table=True):
    """A token of another system for the API. Only the token's SHA-256 is kept; it is shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)  # observer | reviewer | agency
    agency: str | None = Field(default=None, max_length=64)  # the agency of an agency token
    created_at: dt.datetime
    created_by: str = Field(max_length=320)
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None


class FileRow(SQLModel, table=True):
    """A document attached to an answer. The bytes are in the database, so that every instance and
    one backup have them; content type and size are what the content was checked to be."""

    __tablename__ = "file"

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: str = Field(foreign_key="occurrence.id", index=True, max_length=160)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    event_id: int | None = Field(default=None, foreign_key="event.id")
    name: str = Field(max_length=255)
    content_type: str = Field(max_length=128)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes
    uploaded_at: dt.datetime
    uploaded_by: str = Field(max_length=320)


class UserRow(SQLModel, table=True):
    """Secretariat staff. Contacts (focal points, supervisors, heads) come from the contacts file."""

    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    role: str = Field(max_length=16)  # admin | reviewer | observer
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None
    language: str | None = Field(default=None, max_length=2)  # kk | ru | en: her pages and emails; None: not said


class PersonLinkRow(SQLModel, table=True):
    """A person's personal links: they carry the `generation` they were minted under, and a link of
    an older generation is revoked. No row: generation 0, never revoked."""

    __tablename__ = "person_link"

    email: str = Field(primary_key=True, max_length=320)
    generation: int = 0
    revoked_at: dt.datetime | None = None  # the latest revocation


class WebSessionRow(SQLModel, table=True):
    """A browser signed in by a personal link. Only the session id's SHA-256 is kept."""

    __tablename__ = "web_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    email: str = Field(index=True, max_length=320)
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime  # the absolute end; idle ones end sooner (last_seen_at + the idle timeout)
    revoked_at: dt.datetime | None = None  # signed out, or the person's links revoked
    client: str | None = Field(default=None, max_length=64)  # the address that opened the link


class SignInRow(SQLModel, table=True):
    """A one-time sign-in link asked for on the sign-in page. Only the token's SHA-256 is kept."""

    __tablename__ = "sign_in"

    id_hash: str = Field(primary_key=True, max_length=64)
    email: str = Field(index=True, max_length=320)
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None = None  # a link works once
    client: str | None = Field(default=None, max_length=64)  # the address that asked for it


class ThrottleAttemptRow(SQLModel, table=True):
    """One counted attempt of a throttle (app/throttle.py): a failed Basic login, a sign-in request,
    by client address. Shared by every instance; operational data, not the record: rows older
    than their throttle's window are deleted."""

    __tablename__ = "throttle_attempt"
    __table_args__ = (Index("ix_throttle_attempt_purpose_key_at", "purpose", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=32)  # which throttle: "login", "sign-in"
    key: str = Field(max_length=100)  # what it counts by: the client's address
    at: dt.datetime
    refused: bool = False  # this attempt reached the limit: the key is refused for a window from `at`


class NotificationRow(SQLModel, table=True):
    """The ledger: one row per (occurrence, step, recipient, due date), whatever became of it.

    Keyed per due date: when a date moves, the ladder is planned afresh for the new date."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "step", "recipient", "due", "event_id", name="uq_notification_key"),
        Index("ix_notification_state_next", "state", "next_attempt_at"),
        Index("ix_notification_recipient_step", "recipient", "step"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: str = Field(index=True, max_length=160)  # or a digest key, "digest:2022-W49"
    step: str = Field(max_length=32)
    recipient: str = Field(max_length=320)  # email, lowercased
    due: dt.date  # the due date the step was planned for (a digest: its day)
    event_id: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # a notice's event; 0: a step
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


class WebhookEndpointRow(SQLModel, table=True):
    """A receiver of webhooks (`scheduler webhooks add`): its URL, its signing secret (kept as it is:
    every message is signed with it), the event types it wants. Removed or disabled (it answered 410
    Gone), it is kept, with its deliveries, for the record."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=128)  # whsec_ + base64 of the key's bytes
    events: str  # the event types it wants, comma-separated
    created_at: dt.datetime
    created_by: str = Field(max_length=320)
    removed_at: dt.datetime | None = None
    disabled_at: dt.datetime | None = None  # the receiver answered 410 Gone
    disabled_reason: str | None = None


class WebhookDeliveryRow(SQLModel, table=True):
    """The webhooks' outbox: one message to one endpoint, written in the transaction of the event it
    tells of; claimed by a sending process under a lease, as the email ledger's rows are."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_state_next", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    message_id: str = Field(max_length=64, unique=True)  # webhook-id: the same for every attempt
    type: str = Field(max_length=64)
    body: str  # the JSON sent, the same for every attempt
    created_at: dt.datetime
    # pending → claimed → sent | retry → claimed … | failed; dropped (its endpoint removed or gone)
    state: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    claim_token: str | None = Field(default=None, max_length=64)
    lease_until: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    last_status: int | None = None
    last_error: str | None = None


class WebhookAttemptRow(SQLModel, table=True):
    """One attempt at a delivery: when, the status the receiver answered or the error, how long it took."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    at: dt.datetime
    status: int | None = None
    error: str | None = None
    duration_ms: int


# Event rows are linked into the record's hash chain by whoever writes them (`chain.append`), and
# any left unlinked when their session commits are linked then: the listeners live in chain.py.
from scheduler.store import chain as _chain  # noqa: E402,F401
