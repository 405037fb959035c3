"""The notification ledger: recording what is due, claiming it for sending, marking the outcome.

Claims are made in the database, never in memory: a row moves from `pending` (or `retry` whose time
has come, or `claimed` whose lease ran out after a crash) to `claimed` under a fresh token in one
conditional UPDATE; on PostgreSQL the candidate rows are also locked with SKIP LOCKED, so several
instances take disjoint batches. The unique key (occurrence, step, recipient) makes a second insert
of the same notification a no-op.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler.notify.ladder import OpenOccurrence, Planned
from scheduler.store.db import session
from scheduler.store.tables import NotificationRow, OccurrenceRow, SubmissionRow

LEASE = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 8


def as_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


def open_occurrences(db: Session, first_due: dt.date, last_due: dt.date) -> list[OpenOccurrence]:
    """Active, unsubmitted occurrences due in [first_due, last_due] (index on status, due)."""
    rows = db.exec(
        select(OccurrenceRow.id, OccurrenceRow.agency, OccurrenceRow.due, OccurrenceRow.recipient)
        .outerjoin(SubmissionRow, col(SubmissionRow.occurrence_id) == col(OccurrenceRow.id))
        .where(OccurrenceRow.status == "active", col(OccurrenceRow.due).between(first_due, last_due))
        .where(col(SubmissionRow.occurrence_id).is_(None))
    )
    return [OpenOccurrence(*row) for row in rows]


def recorded_keys(db: Session, first_due: dt.date, last_due: dt.date, extra_ids: Iterable[str] = ()) -> set[tuple[str, str, str]]:
    """Ledger keys already written for occurrences due in the window (and for `extra_ids`)."""
    joined = db.exec(
        select(NotificationRow.occurrence_id, NotificationRow.step, NotificationRow.recipient)
        .join(OccurrenceRow, col(OccurrenceRow.id) == col(NotificationRow.occurrence_id))
        .where(col(OccurrenceRow.due).between(first_due, last_due))
    )
    keys = {tuple(row) for row in joined}
    extra = list(extra_ids)
    if extra:
        keys |= {
            tuple(row)
            for row in db.exec(
                select(NotificationRow.occurrence_id, NotificationRow.step, NotificationRow.recipient).where(
                    col(NotificationRow.occurrence_id).in_(extra)
                )
            )
        }
    return keys


def record(db: Session, planned: Sequence[Planned]) -> None:
    if not planned:
        return
    rows = [
        {
            "occurrence_id": p.occurrence_id,
            "step": p.step,
            "recipient": p.email.lower(),
            "name": p.name,
            "language": p.language,
            "agency": p.agency,
            "scheduled_at": as_utc(p.scheduled_at),
            "state": "pending" if p.send else "skipped",
            "reason": p.reason,
            "attempts": 0,
        }
        for p in planned
    ]
    dialect = db.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(NotificationRow)
    db.exec(insert.on_conflict_do_nothing(index_elements=["occurrence_id", "step", "recipient"]), params=rows)


def claimable(now: dt.datetime):
    moment = as_utc(now)
    return or_(
        NotificationRow.state == "pending",
        and_(NotificationRow.state == "retry", col(NotificationRow.next_attempt_at) <= moment),
        and_(NotificationRow.state == "claimed", col(NotificationRow.lease_until) < moment),
    )


def claim(engine: Engine, now: dt.datetime, limit: int = 500) -> list[NotificationRow]:
    """Take up to `limit` sendable rows for this process; returns them with their new token."""
    token = secrets.token_hex(16)
    moment = as_utc(now)
    with session(engine) as db:
        candidates = (
            select(NotificationRow.id)
            .where(claimable(now))
            .order_by(NotificationRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        db.exec(
            update(NotificationRow)
            .where(col(NotificationRow.id).in_(candidates.scalar_subquery()), claimable(now))
            .values(state="claimed", claim_token=token, lease_until=moment + LEASE, attempts=NotificationRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    with session(engine) as db:
        return list(db.exec(select(NotificationRow).where(NotificationRow.claim_token == token).order_by(NotificationRow.id)))


def _finish(engine: Engine, ids: Sequence[int], token: str, **values) -> None:
    with session(engine) as db:
        db.exec(
            update(NotificationRow)
            .where(col(NotificationRow.id).in_(ids), NotificationRow.claim_token == token, NotificationRow.state == "claimed")
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def mark_sent(engine: Engine, rows: Sequence[NotificationRow], now: dt.datetime, message_id: str) -> None:
    _finish(engine, [r.id for r in rows], rows[0].claim_token, state="sent", sent_at=as_utc(now), message_id=message_id, lease_until=None, error=None)


def mark_failed(engine: Engine, rows: Sequence[NotificationRow], now: dt.datetime, error: str, transient: bool) -> None:
    """A transient failure is retried with exponential backoff; a permanent one, or too many tries, is final."""
    attempts = max(r.attempts for r in rows)
    if transient and attempts < MAX_ATTEMPTS:
        delay = dt.timedelta(minutes=min(2 ** (attempts - 1), 240))
        _finish(engine, [r.id for r in rows], rows[0].claim_token, state="retry", next_attempt_at=as_utc(now) + delay, lease_until=None, error=error)
    else:
        final = error if not transient else f"gave up after {attempts} attempts: {error}"
        _finish(engine, [r.id for r in rows], rows[0].claim_token, state="failed", lease_until=None, error=final)


def withdraw_closed(engine: Engine, rows: Sequence[NotificationRow]) -> list[NotificationRow]:
    """Drop claimed rows whose occurrence was submitted or cancelled since they were planned."""
    ids = [r.occurrence_id for r in rows]
    with session(engine) as db:
        closed = set(db.exec(select(SubmissionRow.occurrence_id).where(col(SubmissionRow.occurrence_id).in_(ids))))
        closed |= set(db.exec(select(OccurrenceRow.id).where(col(OccurrenceRow.id).in_(ids), OccurrenceRow.status != "active")))
    gone = [r for r in rows if r.occurrence_id in closed]
    if gone:
        _finish(engine, [r.id for r in gone], gone[0].claim_token, state="withdrawn", lease_until=None, reason="submitted or cancelled")
    return [r for r in rows if r.occurrence_id not in closed]
