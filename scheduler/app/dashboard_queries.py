"""What the secretariat's dashboard reads from the store: occurrences with their answer (filtered by
agency, obligation and due date), an agency's contacts and history, and an agency's feed token.

Read-only but for `agency_feed_token`, which registers the agency's feed token on first use (the
token is derived from the deployment's key, so the same link is shown every time and to every
instance, and revoking it with `scheduler feeds revoke` stops it for good)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from scheduler.feeds.tokens import digest
from scheduler.store.db import session
from scheduler.store.ledger import aware
from scheduler.store.tables import ContactRow, EventRow, FeedTokenRow, OccurrenceRow, SubmissionRow


@dataclass(frozen=True)
class Entry:
    """One active occurrence as the dashboard shows it."""

    id: str
    obligation: str
    agency: str
    period: str
    nominal_due: dt.date
    due: dt.date
    extended_until: dt.date | None
    extension_requested: dt.date | None
    state: str
    title_kk: str
    recipient: str | None
    submitted_at: dt.datetime | None  # the answer in force (a returned one's too), aware


def entries(engine: Engine, *, agency: str | None = None, obligation: str | None = None,
            first: dt.date | None = None, last: dt.date | None = None) -> list[Entry]:
    """Active occurrences (closed ones included), due in [first, last] when given, by due date and id."""
    query = (
        select(OccurrenceRow.id, OccurrenceRow.obligation, OccurrenceRow.agency, OccurrenceRow.period,
               OccurrenceRow.nominal_due, OccurrenceRow.due, OccurrenceRow.extended_until,
               OccurrenceRow.extension_requested, OccurrenceRow.state, OccurrenceRow.title_kk,
               OccurrenceRow.recipient, SubmissionRow.submitted_at)
        .outerjoin(SubmissionRow, col(SubmissionRow.id) == col(OccurrenceRow.submission_id))
        .where(OccurrenceRow.status == "active")
        .order_by(OccurrenceRow.due, OccurrenceRow.id)
    )
    if agency:
        query = query.where(OccurrenceRow.agency == agency)
    if obligation:
        query = query.where(OccurrenceRow.obligation == obligation)
    if first:
        query = query.where(col(OccurrenceRow.due) >= first)
    if last:
        query = query.where(col(OccurrenceRow.due) <= last)
    with session(engine) as db:
        rows = db.exec(query).all()
    return [Entry(*row[:-1], aware(row[-1]) if row[-1] else None) for row in rows]


def due_span(engine: Engine) -> tuple[dt.date, dt.date] | None:
    """The first and last due date of the active occurrences; None when there is none."""
    from sqlalchemy import func

    with session(engine) as db:
        found = db.exec(select(func.min(OccurrenceRow.due), func.max(OccurrenceRow.due))
                        .where(OccurrenceRow.status == "active")).one()
    return None if found[0] is None else (found[0], found[1])


def contacts(engine: Engine, agency: str) -> list[ContactRow]:
    with session(engine) as db:
        return list(db.exec(select(ContactRow).where(ContactRow.agency == agency)
                            .order_by(ContactRow.role, ContactRow.name, ContactRow.email)))


def events(engine: Engine, ids: Iterable[str], limit: int = 200) -> list[EventRow]:
    """The latest events of these occurrences, newest first."""
    wanted = list(ids)
    if not wanted:
        return []
    with session(engine) as db:
        return list(db.exec(select(EventRow).where(col(EventRow.occurrence_id).in_(wanted))
                            .order_by(col(EventRow.at).desc(), col(EventRow.id).desc()).limit(limit)))


def agency_token(key: bytes, agency: str) -> str:
    mac = hmac.new(key, b"agency-feed:" + agency.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def agency_feed_token(engine: Engine, key: bytes, agency: str, now: dt.datetime) -> str | None:
    """The token of `agency`'s feed, registered on first use; None once it has been revoked."""
    token = agency_token(key, agency)
    wanted = digest(token)
    with session(engine) as db:
        insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(FeedTokenRow)
        db.exec(insert.values(token_hash=wanted, scope="agency", agency=agency, created_at=now)
                .on_conflict_do_nothing(index_elements=["token_hash"]))
        row = db.exec(select(FeedTokenRow).where(FeedTokenRow.token_hash == wanted)).first()
    return None if row is None or row.revoked_at is not None else token
