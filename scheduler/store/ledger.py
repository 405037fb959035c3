"""The notification ledger: recording what is due, claiming it for sending, marking the outcome.

Claims are made in the database, never in memory: rows move from `pending` (or `retry` whose time
has come, or `claimed` whose lease ran out after a crash) to `claimed` under a fresh token in one
conditional UPDATE. A claim takes whole groups — every sendable row of one recipient and step (an
agency's notices, of whatever kind, one group: scheduler/app/notices.py) — so that a person gets one
email per step however many deadlines it lists, and however many instances run: claims are
serialised (SQLite's single writer; on PostgreSQL a transaction-scoped advisory lock held only for
the claiming statement). The unique key (occurrence, step, recipient, due date,
event: 0 but for a notice, see scheduler/app/notices.py) makes a second insert of the same
notification a no-op.

A claim's lease is short (`LEASE`) and renewed while its process delivers (`renew`), on the wall
clock whatever instant the tick works at: a process killed mid-tick leaves claims that lapse within
`LEASE`, and another process (or the same one restarted) sends them then.
"""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_right
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, bindparam, case, func, literal_column, or_, text, tuple_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler.answers import LADDER_RUNS
from scheduler.clocks import clock
from scheduler.notify.ladder import OpenOccurrence, Planned
from scheduler.store import holders
from scheduler.store.db import session
from scheduler.store.tables import NotificationRow, OccurrenceRow

# A claim lapses this long after it was made or last renewed; the delivering process renews it every
# RENEW seconds (scheduler/app/deliver.py), so only a claim whose process is gone (or cut off from
# the database for longer than this) is taken over.
LEASE = dt.timedelta(seconds=30)
RENEW = dt.timedelta(seconds=10)
MAX_ATTEMPTS = 8
# What one process claims at a time, in (recipient, step) groups (a tick's first claims are smaller:
# scheduler/app/deliver.py). Each claim costs its reads and writes whatever its size, and on a
# two-core server the database's work is taken from the SMTP connections': 500 keeps a tick of
# thousands of emails to a handful of claims. What goes out twice after a crash does not depend on
# it: each email is marked sent soon after the server took it (in groups of a few tens), and a
# claimed email not yet sent is sent once, by whoever takes the lapsed claim over.
CLAIM_BATCH = 500
# pg_advisory_xact_lock key for claims: two bytes of "claim" in ASCII, any constant would do.
CLAIM_LOCK = 0x636C61696D


def lease_clock() -> dt.datetime:
    """The wall clock leases are measured on: a lease is about a process being alive, so a tick at a
    replayed or given instant (`tick --now`, `run --clock`) still holds its claims for real seconds."""
    return clock()


def as_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A time read back from the database, aware: SQLite hands back naive UTC, PostgreSQL aware."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment is not None and moment.tzinfo is None else moment


def open_occurrences(
    db: Session, first_due: dt.date, last_due: dt.date, step_due_by: dt.datetime | None = None
) -> list[OpenOccurrence]:
    """Active occurrences whose ladder runs (open or returned: not submitted, accepted or closed) due
    in [first_due, last_due]; with `step_due_by`, only those with a ladder step left to plan by then
    (index on next_step_at; an answer clears it). Steps before `next_step_at` are handled or, after
    a return or an extension, history: it is each one's `not_before`."""
    occurrence = OccurrenceRow.__table__.c
    columns = (occurrence.id, occurrence.agency, occurrence.due, occurrence.recipient, occurrence.next_step_at)
    query = sa_select(*columns).where(occurrence.status == "active", occurrence.state.in_(sorted(LADDER_RUNS)),
                                      occurrence.due.between(first_due, last_due))
    if step_due_by is not None:
        query = query.where(occurrence.next_step_at <= as_utc(step_due_by))
    return [OpenOccurrence(*row) for row in db.connection().execute(query)]


_CHUNK = 5000  # well under SQLite's limit on bound parameters


def recorded_keys(db: Session, occurrence_ids: Iterable[str]) -> set[tuple[str, str, str, dt.date]]:
    """Ledger keys (occurrence, step, recipient, due) already written for these occurrences (or digest keys)."""
    ids = list(occurrence_ids)
    keys: set[tuple[str, str, str, dt.date]] = set()
    table = NotificationRow.__table__.c
    for start in range(0, len(ids), _CHUNK):
        keys |= {
            tuple(row)
            for row in db.connection().execute(
                sa_select(table.occurrence_id, table.step, table.recipient, table.due).where(
                    table.occurrence_id.in_(ids[start : start + _CHUNK])
                )
            )
        }
    return keys


def advance(db: Session, occurrences: Sequence[OpenOccurrence], timing, now: dt.datetime) -> None:
    """After planning at `now`, every step up to `now` is recorded: point each at its next step
    (one statement for them all)."""
    if not occurrences:
        return
    moment = as_utc(now)
    changes = []
    for o in occurrences:
        mine = timing.of(o.id)
        moments = mine.step_moments(o.due, mine.opens(o.id) if mine.period_steps else None)
        later = bisect_right(moments, moment)  # a ladder's instants come in order
        changes.append({"oid": o.id, "next_at": moments[later] if later < len(moments) else None})
    if db.get_bind().dialect.name == "postgresql":
        # One statement for them all, the pairs sent as two arrays (an executemany runs one UPDATE per row).
        db.connection().execute(_ADVANCE_PG, {"ids": [c["oid"] for c in changes], "ats": [c["next_at"] for c in changes],
                                              "states": sorted(LADDER_RUNS)})
        return
    _set_next_steps(db, changes, only_running=True)


# An occurrence answered since it was read (by another process) is left alone: its ladder stays stopped.
_ADVANCE_PG = text(
    "UPDATE occurrence SET next_step_at = v.next_at"
    " FROM unnest(CAST(:ids AS varchar[]), CAST(:ats AS timestamptz[])) AS v(oid, next_at)"
    " WHERE occurrence.id = v.oid AND occurrence.state = ANY(CAST(:states AS varchar[]))"
)


def _set_next_steps(db: Session, changes: list[dict], only_running: bool = False) -> None:
    """With `only_running`, an occurrence answered since it was read (by another process) is left
    alone: its ladder stays stopped."""
    table = OccurrenceRow.__table__  # a Core executemany: one statement, many parameter sets
    statement = update(table).where(table.c.id == bindparam("oid"))
    if only_running:
        statement = statement.where(or_(*(table.c.state == state for state in sorted(LADDER_RUNS))))  # no IN: executemany
    db.connection().execute(statement.values(next_step_at=bindparam("next_at")), changes)


def first_step_from(timing, due: dt.date, floor: dt.datetime, occurrence_id: str = "") -> dt.datetime | None:
    """The instant of the first ladder step for `due` at or after `floor`; None when none is left."""
    moment = as_utc(floor)
    return next((m for m, _ in timing.steps_for(occurrence_id, due) if m >= moment), None)


def reschedule(db: Session, timing) -> None:
    """Recompute every occurrence's `next_step_at` from the ledger: the earliest step with no ledger
    row yet for its present due date and not before its `ladder_from`, or NULL once answered, closed
    or cancelled. Run by sync: a moved date or a new policy moves steps."""
    recorded = set(db.exec(select(NotificationRow.occurrence_id, NotificationRow.step, NotificationRow.due)).all())
    rows = db.exec(select(OccurrenceRow.id, OccurrenceRow.due, OccurrenceRow.next_step_at, OccurrenceRow.status,
                          OccurrenceRow.state, OccurrenceRow.ladder_from)).all()
    changes = []
    for oid, due, current, status, state, floor in rows:
        floor = aware(floor)
        pending = [m for m, step in timing.steps_for(oid, due)
                   if (oid, step.step, due) not in recorded and (floor is None or m >= floor)]
        wanted = min(pending) if pending and state in LADDER_RUNS and status == "active" else None
        if wanted != aware(current):
            changes.append({"oid": oid, "next_at": wanted})
    if changes:
        _set_next_steps(db, changes)


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
            "due": p.due,
            "scheduled_at": p.scheduled_at if p.scheduled_at.tzinfo is dt.timezone.utc else as_utc(p.scheduled_at),
            "state": "pending" if p.send else "skipped",
            "reason": p.reason,
            "attempts": 0,
        }
        for p in planned
    ]
    dialect = db.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(NotificationRow.__table__)
    # A Core executemany (multi-row VALUES batches on PostgreSQL), no ORM bulk path.
    db.connection().execute(
        insert.on_conflict_do_nothing(index_elements=["occurrence_id", "step", "recipient", "due", "event_id"]), rows)


@functools.cache
def _claim_statement(limit: int):
    """The claiming UPDATE … RETURNING, built once: `now`, `held_at`, `token` and `lease` are bound
    per claim. Sendable: pending; to retry, its time (the tick's) come; claimed, its lease run out on
    the lease clock (its process gone)."""
    table = NotificationRow.__table__
    c = table.c
    moment = bindparam("now", type_=c.lease_until.type)
    held_at = bindparam("held_at", type_=c.lease_until.type)
    sendable = or_(
        c.state == "pending",
        and_(c.state == "retry", c.next_attempt_at <= moment),
        and_(c.state == "claimed", c.lease_until < held_at),
    )
    from scheduler.app.notices import AGENCY_KINDS, DECISIONS  # (the app's notices import this module)

    # A group is what makes one email: an agency's notices of every kind go in one (deliver.group_key).
    # Constants written into the SQL, not bound: the select list and GROUP BY must be the same expression.
    said = lambda word: literal_column(f"'{word}'")  # noqa: E731 - the kinds' names, plain ASCII
    step = case((c.step.in_([said(k) for k in sorted(AGENCY_KINDS)]), said(DECISIONS)), else_=c.step)
    groups = (sa_select(c.recipient, step.label("step")).where(sendable).group_by(c.recipient, step)
              .order_by(func.min(c.id)).limit(limit).cte("groups"))
    # The rows of those groups, matched on the columns themselves where the step is its own group
    # (the (recipient, step) index serves it), and an agency's notices on the group they make.
    chosen = or_(tuple_(c.recipient, c.step).in_(sa_select(groups.c.recipient, groups.c.step)),
                 and_(c.step.in_([said(k) for k in sorted(AGENCY_KINDS)]),
                      c.recipient.in_(sa_select(groups.c.recipient).where(groups.c.step == said(DECISIONS)))))
    return (update(table)
            .where(chosen, sendable)
            .values(state="claimed", claim_token=bindparam("token"), lease_until=bindparam("lease", type_=c.lease_until.type),
                    attempts=c.attempts + 1)
            .returning(*table.c))


def new_token() -> str:
    return holders.token()


def release_dead(engine: Engine, held_at: dt.datetime, table=None) -> int:
    """Claims of a process of this machine that is no longer running (killed mid-tick) made
    claimable at once, rather than when their lease runs out (`holders`). Returns how many rows.
    `table`: the ledger's by default; the webhooks' outbox claims the same way."""
    table = NotificationRow.__table__ if table is None else table
    with session(engine) as db:
        held = db.connection().execute(sa_select(table.c.claim_token).where(table.c.state == "claimed").distinct()).scalars().all()
        dead = [t for t in held if t and holders.is_dead(t)]
        if not dead:
            return 0
        result = db.connection().execute(
            update(table).where(table.c.claim_token.in_(dead), table.c.state == "claimed")
            .values(lease_until=as_utc(held_at) - dt.timedelta(seconds=1)))
    return result.rowcount


def claim(engine: Engine, now: dt.datetime, limit: int = CLAIM_BATCH, held_at: dt.datetime | None = None,
          token: str | None = None, again: bool = False) -> list[NotificationRow]:
    """Take every sendable row of up to `limit` (recipient, step) groups for this process (see
    `_claim_statement`); returns them with their new token, as plain rows with NotificationRow's
    attributes, in id order. A group is never split between two claims made at the same time.
    `held_at`: the lease clock's reading (`lease_clock`; `now` when not given), from which the
    lease runs and against which others' leases are judged. `token`: the claim's own (a new one
    when not given); `again`: a try after the last one's connection dropped, with the same token,
    which gets back what that try took if its commit went through (`claimed_under`)."""
    if again and token is not None:
        already = claimed_under(engine, token)
        if already:
            return already
    token = token or new_token()
    moment = as_utc(now)
    held = as_utc(held_at) if held_at is not None else moment
    with session(engine) as db:
        if db.get_bind().dialect.name == "postgresql":
            # Released at commit, right after the UPDATE: the next claimer's statement sees these rows taken.
            db.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=CLAIM_LOCK))
        # The rows taken come back from the UPDATE itself.
        claimed = db.connection().execute(_claim_statement(limit), {"now": moment, "held_at": held, "token": token,
                                                                    "lease": held + LEASE}).all()
    return sorted(claimed, key=lambda row: row.id)


def claimed_under(engine: Engine, token: str) -> list[NotificationRow]:
    """The rows still claimed under `token`, in id order."""
    table = NotificationRow.__table__
    with session(engine) as db:
        found = db.connection().execute(sa_select(table).where(table.c.claim_token == token, table.c.state == "claimed")).all()
    return sorted(found, key=lambda row: row.id)


def renew(engine: Engine, tokens: Sequence[str], held_at: dt.datetime) -> int:
    """Extend the lease of every row still claimed under these tokens to `held_at` + LEASE: the
    delivering process is alive. Returns how many rows it holds."""
    if not tokens:
        return 0
    table = NotificationRow.__table__
    with session(engine) as db:
        result = db.connection().execute(
            update(table).where(table.c.claim_token.in_(list(tokens)), table.c.state == "claimed")
            .values(lease_until=as_utc(held_at) + LEASE))
    return result.rowcount


def lapse_of_claims(engine: Engine) -> dt.datetime | None:
    """When the last claim now held lapses (None when nothing is claimed): the daemon ticks again
    then, so that what a process killed mid-tick had claimed goes out without waiting for the next
    scheduled tick."""
    table = NotificationRow.__table__
    with session(engine) as db:
        found = db.connection().execute(sa_select(func.max(table.c.lease_until)).where(table.c.state == "claimed")).scalar()
    return aware(found)


def _finish(engine: Engine, ids: Sequence[int], token: str, **values) -> None:
    with session(engine) as db:
        db.exec(
            update(NotificationRow)
            .where(col(NotificationRow.id).in_(ids), NotificationRow.claim_token == token, NotificationRow.state == "claimed")
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def mark_sent(engine: Engine, rows: Sequence[NotificationRow], now: dt.datetime, message_id: str) -> None:
    mark_sent_many(engine, [(rows, message_id)], now)


@functools.cache
def _mark_sent_statement():
    table = NotificationRow.__table__
    return (update(table)
            .where(table.c.id == bindparam("row_id"), table.c.claim_token == bindparam("token"), table.c.state == "claimed")
            .values(state="sent", sent_at=bindparam("at", type_=table.c.sent_at.type), message_id=bindparam("sent_id"),
                    lease_until=None, error=None))


def mark_sent_many(engine: Engine, sent: Sequence[tuple[Sequence[NotificationRow], str]], now: dt.datetime) -> None:
    """`mark_sent` for a batch's emails at once, each group with its Message-ID, in one transaction:
    on PostgreSQL one UPDATE over arrays, on SQLite one statement built once for many rows (an
    executemany)."""
    moment = as_utc(now)
    rows = [(r.id, r.claim_token, mid) for group, mid in sent for r in group]
    if not rows:
        return
    with session(engine) as db:
        if db.get_bind().dialect.name == "postgresql":
            # One statement for them all, the rows sent as arrays (an executemany runs one UPDATE per row).
            ids, tokens, mids = (list(column) for column in zip(*rows))
            db.connection().execute(_MARK_SENT_PG, {"ids": ids, "tokens": tokens, "mids": mids, "at": moment})
        else:
            db.connection().execute(_mark_sent_statement(), [{"row_id": i, "token": t, "sent_id": m, "at": moment}
                                                             for i, t, m in rows])


_MARK_SENT_PG = text(
    "UPDATE notification SET state = 'sent', sent_at = :at, message_id = v.mid, lease_until = NULL, error = NULL"
    " FROM unnest(CAST(:ids AS integer[]), CAST(:tokens AS varchar[]), CAST(:mids AS varchar[])) AS v(rid, token, mid)"
    " WHERE notification.id = v.rid AND notification.claim_token = v.token AND notification.state = 'claimed'"
)


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
    """Drop claimed rows whose occurrence was answered, closed or cancelled since they were planned
    (its ladder stopped), or whose due date moved (an extension: the new date has its own ladder).
    Notices (rows with an event) are not the ladder's: they tell of the event, and always go."""
    ids = sorted({r.occurrence_id for r in rows if not r.event_id})
    with session(engine) as db:
        found = db.exec(select(OccurrenceRow.id, OccurrenceRow.status, OccurrenceRow.state, OccurrenceRow.due)
                        .where(col(OccurrenceRow.id).in_(ids))).all()
    stopped = {oid for oid, status, state, _ in found if status != "active" or state not in LADDER_RUNS}
    dues = {oid: due for oid, _, _, due in found}
    reasons: dict[int, str] = {}
    for r in rows:
        if r.event_id:
            continue
        if r.occurrence_id in stopped:
            reasons[r.id] = "answered, closed or cancelled"
        elif r.occurrence_id in dues and r.due != dues[r.occurrence_id]:
            reasons[r.id] = f"the due date moved to {dues[r.occurrence_id].isoformat()}"
    for reason in set(reasons.values()):
        _finish(engine, [i for i, why in reasons.items() if why == reason], rows[0].claim_token, state="withdrawn",
                lease_until=None, reason=reason)
    return [r for r in rows if r.id not in reasons]
