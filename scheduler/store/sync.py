"""Loading a validated plan and contacts into the database, idempotently.

Occurrences upsert by their stable id: a moved due date updates the row in place (and raises its
`sequence`), answers and their events stay attached; an extension stands (the plan's new date is
kept beside it in `plan_due`); an occurrence that left the plan is marked cancelled, never
deleted. Everything happens in one transaction: a failure leaves the previous state intact.

A one-off's id carries its date (`2:labour:2021-07-01`), so correcting that date in the plan gives a
new id. Such a correction is an update, not a removal and an addition: when, for one obligation and
body of a date-labelled rule, exactly one stored occurrence left the plan and exactly one new one
came, the stored row keeps its id (and its submission and history) and takes the new date.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, delete, insert, literal_column, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine

from scheduler.answers import LADDER_RUNS
from scheduler.calendar.expand import Occurrence, expand
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.notify.ladder import Timing
from scheduler.plan import Contact, Plan
from scheduler.plan.diff import DATE_LABELLED, corrections
from scheduler.store.db import StoreError, session
from scheduler.store.ledger import aware
from scheduler.store.tables import AgencyRow, ContactRow, NotificationRow, OccurrenceRow, SettingRow


@dataclass(frozen=True)
class SyncReport:
    added: int
    moved: int
    changed: int
    cancelled: int
    restored: int
    unchanged: int
    contacts: int

    def __str__(self) -> str:
        return (
            f"occurrences: {self.added} added, {self.moved} moved, {self.changed} changed, "
            f"{self.cancelled} cancelled, {self.restored} restored, {self.unchanged} unchanged; "
            + (f"contacts: {self.contacts}" if self.contacts >= 0 else "contacts: kept (no contacts file)")
        )


@dataclass(frozen=True)
class RowUpdate:
    """What sync does to one stored occurrence the plan still has: its outcome (`unchanged`,
    `moved`, `changed`, `restored`) and the attributes it sets."""

    stored_id: str
    occurrence: Occurrence
    outcome: str
    values: dict


@dataclass(frozen=True)
class SyncPlan:
    """What `sync` would do to the occurrences, worked out without changing anything: rows to add,
    rows to update (by stored id, in the plan's order) and rows to cancel."""

    titles: dict[str, str]
    added: list[Occurrence]
    updates: list[RowUpdate]
    cancelled: list[str]
    corrected: dict[str, str]
    """{new id: stored id} of one-offs whose date was corrected (see the module's doc)."""
    counts: dict[str, int]


def plan_sync(plan: Plan, wanted: dict[str, Occurrence], existing: dict[str, OccurrenceRow]) -> SyncPlan:
    """The sync of `wanted` (the plan's expansion, by id) onto the `existing` rows, by id. Pure: the
    rows are only read."""
    counts = dict(added=0, moved=0, changed=0, cancelled=0, restored=0, unchanged=0)
    titles: dict[str, str] = {}
    added: list[Occurrence] = []
    updates: list[RowUpdate] = []
    corrected = _corrected_dates(plan, wanted, existing)
    for oid, occurrence in wanted.items():
        title = titles[occurrence.obligation] = plan.obligation(occurrence.obligation).title_kk
        row = existing.get(corrected.get(oid, oid))
        if row is None:
            added.append(occurrence)
            counts["added"] += 1
            continue
        outcome, values = _row_update(row, occurrence, title)
        updates.append(RowUpdate(row.id, occurrence, outcome, values))
        counts[outcome] += 1
    kept = set(corrected.values())
    cancelled = []
    for oid, row in existing.items():
        if oid not in wanted and oid not in kept and row.status != "cancelled":
            cancelled.append(oid)
            counts["cancelled"] += 1
    return SyncPlan(titles, added, updates, cancelled, corrected, counts)


def _row_update(row: OccurrenceRow, occurrence: Occurrence, title: str) -> tuple[str, dict]:
    values: dict = {}
    outcome = "unchanged"
    if row.status != "active":
        values["status"], outcome = "active", "restored"
    effective = occurrence.due
    if row.extended_until is not None:  # an extension stands; the plan's date is kept beside it
        if row.plan_due != occurrence.due:
            values["plan_due"] = occurrence.due
            outcome = "changed" if outcome == "unchanged" else outcome
        effective = max(occurrence.due, row.extended_until)
    if row.due != effective:
        values["due"], values["sequence"] = effective, row.sequence + 1
        outcome = "moved" if outcome == "unchanged" else outcome
    for name, value in (("nominal_due", occurrence.nominal_due), ("recipient", occurrence.recipient), ("title_kk", title)):
        if getattr(row, name) != value:
            values[name] = value
            outcome = "changed" if outcome == "unchanged" else outcome
    return outcome, values


def expansion(plan: Plan) -> dict[str, Occurrence]:
    """The plan's whole expansion by id: what sync makes the stored occurrences."""
    return {o.id: o for o in expand(plan, WorkdayCalendar(plan.policy.holidays))}


def sync(engine: Engine, plan: Plan, contacts: tuple[Contact, ...] | None, now: dt.datetime, timezone: str | None = None) -> SyncReport:
    stamp = now.astimezone(dt.timezone.utc)
    with session(engine) as db:
        for code, agency in plan.file.agencies.items():
            db.merge(
                AgencyRow(
                    code=code,
                    kind=agency.kind,
                    short_kk=agency.short_kk,
                    name_kk=agency.name_kk,
                    name_ru=agency.name_ru,
                    name_en=agency.name_en,
                    by_agreement=agency.by_agreement,
                )
            )
        if contacts is not None:
            db.exec(delete(ContactRow))
            for contact in contacts:
                db.add(ContactRow(**contact.__dict__))
        db.flush()
        calendar = WorkdayCalendar(plan.policy.holidays)
        timing = Timing.of_plan(plan, calendar, timezone)
        timings = list({id(t): t for t in (timing, *(timing.of(f"{p.file.plan.id}/:") for p in plan.plans))}.values())
        # No cyclic garbage collection meanwhile: it would rescan every batch's objects (tuples and
        # strings, no cycles among them) over and over; the process collects after.
        collecting = gc.isenabled()
        gc.disable()
        try:
            counts, ladder = _sync_occurrences(db.connection(), plan, calendar, timing, timings, stamp)
        finally:
            if collecting:
                gc.enable()
        for key, value in (
            ("plan_id", " ".join(p.file.plan.id for p in plan.plans)),
            ("plan_sha256", hashlib.sha256(b"".join(path.read_bytes() for path in plan.sources)).hexdigest()),
            ("synced_at", stamp.isoformat()),
            (_LADDER, ladder),
        ):
            db.merge(SettingRow(key=key, value=value))
    return SyncReport(contacts=len(contacts) if contacts is not None else -1, **counts)


# --- the occurrences, streamed ----------------------------------------------------------------
#
# The expansion is compared with the stored rows a batch of whole obligations at a time (the
# expansion comes obligation by obligation; the stored rows of a batch are read by the index on
# `obligation`), and the differences are written with Core executemany statements. Memory follows
# the batch, not the plan. The outcome is that of `plan_sync` over the whole plan (the one-off date
# corrections pair rows of one obligation and body, so within a batch), followed by the ladder's
# recomputation (`ledger.reschedule`): a row's `next_step_at` is the earliest step with no ledger
# row for its present due date and not before its `ladder_from`, NULL once answered, closed or
# cancelled.
#
# The ladder's recomputation is needed for every row only when the step instants may have moved (a
# new policy, time zone, calendar or tzdata): sync keeps a digest of the instants of every due date
# the plan's expansion spans (`_LADDER`). While it is unchanged, a row whose due date and status
# sync leaves as they are keeps its `next_step_at` (ticks and answers keep it up to date), and a row
# the plan leaves as it is needs only one compact column read and compared: its signature (due,
# nominal date, recipient, title of an active row without extension, as text). Only the rows whose
# signature differs are read whole.

_BATCH = 20_000  # occurrences compared at a time
_BATCH_OBLIGATIONS = 1_000  # obligations named in one query: well under either database's limit on parameters
_WRITE = 5_000  # rows per executemany, ids per IN list
_ANALYZE_AFTER = 10_000  # rows added on PostgreSQL after which the table's statistics are renewed
_LADDER = "ladder_instants"  # the state key of the ladder's digest: "<first due> <last due> <sha256>"

_table = OccurrenceRow.__table__
_c = _table.c
_STORED = (_c.id, _c.obligation, _c.agency, _c.status, _c.due, _c.nominal_due, _c.recipient, _c.title_kk,
           _c.extended_until, _c.plan_due, _c.sequence, _c.state, _c.ladder_from, _c.next_step_at)
_MISSING = object()
# The obligations the stored rows name, one index probe each (neither database skips through an
# index for DISTINCT; this reads a few thousand entries, not a million).
_OBLIGATIONS = text(
    "WITH RECURSIVE named(obligation) AS ("
    " SELECT min(obligation) FROM occurrence"
    " UNION ALL SELECT (SELECT min(obligation) FROM occurrence WHERE obligation > named.obligation)"
    " FROM named WHERE named.obligation IS NOT NULL)"
    " SELECT obligation FROM named WHERE obligation IS NOT NULL")


_EPOCH = dt.date(1970, 1, 1).toordinal()


def _signature_column(dialect: str):
    """A stored row's signature as text (the occurrence's is written the same way where the batch
    is compared, in `_sync_occurrences`); NULL for a row sync must read whole.
    Dates as SQLite stores them (ISO text); on PostgreSQL as days since 1970, which needs no
    formatting and no DateStyle."""
    day = "({} - DATE '1970-01-01')" if dialect == "postgresql" else "{}"
    return literal_column(
        f"CASE WHEN status = 'active' AND extended_until IS NULL THEN {day.format('due')} || '|' || "
        f"{day.format('nominal_due')} || '|' || coalesce('=' || recipient, '') || '|' || title_kk END")


class _Iso(dict):
    """A date as `_signature_column` writes it, by date (a plan has a few thousand)."""

    def __init__(self, dialect: str):
        super().__init__()
        self.days = dialect == "postgresql"

    def __missing__(self, day: dt.date) -> str:
        self[day] = written = str(day.toordinal() - _EPOCH) if self.days else day.isoformat()
        return written


def _ladder_digest(plan: Plan, timings: list[Timing], first: dt.date, last: dt.date) -> str:
    """The policies, which rows are events (their ladder has period-start steps), and the step
    instants (and names) of every due date from `first` to `last` (what the calendar and the time
    zone's rules make of them), digested."""
    digest = hashlib.sha256(repr(([timing.policy for timing in timings], [(o.id, o.kind) for o in plan.obligations])).encode())
    day = first
    while day <= last:
        for timing in timings:
            digest.update(repr([(m.isoformat(), s.step) for m, s in timing.step_instants(day)]).encode())
        day += dt.timedelta(days=1)
    return f"{first.isoformat()} {last.isoformat()} {digest.hexdigest()}"


def _ladder_unchanged(connection, plan: Plan, timings: list[Timing]) -> str | None:
    """The stored digest of the ladder when the instants are still what it says, else None."""
    table = SettingRow.__table__
    stored = connection.execute(sa_select(table.c.value).where(table.c.key == _LADDER)).scalar()
    try:
        first, last, _ = (stored or "").split(" ")
        same = stored == _ladder_digest(plan, timings, dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    except ValueError:
        return None
    return stored if same else None


def _sync_occurrences(connection, plan: Plan, calendar: WorkdayCalendar, timing: Timing, timings: list[Timing],
                      stamp: dt.datetime) -> tuple[dict[str, int], str]:
    """Sync the stored occurrences with the plan's expansion: (counts, the ladder's new digest)."""
    counts = dict(added=0, moved=0, changed=0, cancelled=0, restored=0, unchanged=0)
    kept = _ladder_unchanged(connection, plan, timings)
    fast = kept is not None
    done = None if fast else _ledger_at_due(connection)
    signature = _signature_column(connection.dialect.name)
    iso = _Iso(connection.dialect.name)
    titles: dict[str, str] = {}
    labelled: dict[str, bool] = {}
    synced: set[str] = set()
    first = last = None
    for batch in _batches(expand(plan, calendar)):
        obligations = list(dict.fromkeys(o.obligation for o in batch))
        synced.update(obligations)
        for name in obligations:
            if name not in titles:
                titles[name] = plan.obligation(name).title_kk
                labelled[name] = plan.obligation(name).due.kind in DATE_LABELLED
        low, high = min(o.due for o in batch), max(o.due for o in batch)
        first, last = (low, high) if first is None else (min(first, low), max(last, high))
        if not fast:
            _sync_batch(connection, batch, _stored(connection, _c.obligation, obligations), titles, labelled, done, timing,
                        stamp, counts)
            continue
        result = connection.execute(sa_select(_c.id, _c.status, signature).where(_c.obligation.in_(obligations)))
        # Plain text columns: the driver's tuples as they come, without a Row made for each.
        stored = {oid: (status, signed) for oid, status, signed in result.cursor.fetchall()}
        result.close()
        differing: list[Occurrence] = []
        for occurrence in batch:  # the occurrence's signature as `_signature_column` writes it
            found = stored.pop(occurrence.id, _MISSING)
            if found is not _MISSING and found[1] == (
                f"{iso[occurrence.due]}|{iso[occurrence.nominal_due]}|"
                f"{'' if occurrence.recipient is None else '=' + occurrence.recipient}|{titles[occurrence.obligation]}"
            ):
                continue
            differing.append(occurrence)
        counts["unchanged"] += len(batch) - len(differing)
        # Read whole: the rows of differing occurrences, and the stored rows the plan no longer has
        # but for those already cancelled (nothing to do: no one-off correction pairs them).
        ids = [o.id for o in differing] + [oid for oid, (status, _) in stored.items() if status != "cancelled"]
        _sync_batch(connection, differing, _stored(connection, _c.id, ids), titles, labelled, done, timing, stamp, counts)
    # Rows of obligations the plan no longer expands: cancelled (and their ladder stopped).
    stale = [name for (name,) in connection.execute(_OBLIGATIONS) if name not in synced]
    for start in range(0, len(stale), _BATCH_OBLIGATIONS):
        names = stale[start : start + _BATCH_OBLIGATIONS]
        query = sa_select(*_STORED).where(_c.obligation.in_(names))
        if fast:
            query = query.where(_c.status != "cancelled")
        _sync_batch(connection, [], {row.id: row for row in connection.execute(query)}, titles, labelled, done, timing,
                    stamp, counts)
    if connection.dialect.name == "postgresql" and counts["added"] >= _ANALYZE_AFTER:
        # Statistics for the planner now, not when autovacuum comes round: without them the next
        # sync's reads by obligation are planned as whole-table scans.
        connection.execute(text("ANALYZE occurrence"))
    if first is None:
        return counts, ""
    if kept is not None and kept.startswith(f"{first.isoformat()} {last.isoformat()} "):
        return counts, kept  # the same span, digested at the start
    return counts, _ladder_digest(plan, timings, first, last)


def _batches(occurrences):
    """The expansion in lists of whole obligations, about `_BATCH` occurrences each."""
    batch: list[Occurrence] = []
    current = None
    names = 0
    flushed: set[str] = set()
    for occurrence in occurrences:
        if occurrence.obligation != current:
            current = occurrence.obligation
            if current in flushed:
                raise StoreError(f"obligation {current}: its occurrences are not expanded together")
            if len(batch) >= _BATCH or names >= _BATCH_OBLIGATIONS:
                flushed.update(o.obligation for o in batch)
                yield batch
                batch, names = [], 0
            names += 1
        batch.append(occurrence)
    if batch:
        yield batch


def _stored(connection, column, values: list[str]) -> dict:
    """The stored rows whose `column` is one of `values`, whole, by id."""
    found = {}
    for start in range(0, len(values), _WRITE):
        found.update((row.id, row) for row in connection.execute(
            sa_select(*_STORED).where(column.in_(values[start : start + _WRITE]))))
    return found


def _ledger_at_due(connection) -> dict[str, set[str]]:
    """{occurrence: steps} the ledger holds for the present due date of each active occurrence whose
    ladder runs: all that the ladder's recomputation asks of the ledger for the rows sync leaves be."""
    n = NotificationRow.__table__.c
    query = (sa_select(n.occurrence_id, n.step)
             .join_from(NotificationRow.__table__, _table, and_(_c.id == n.occurrence_id, _c.due == n.due))
             .where(_c.status == "active", _c.state.in_(sorted(LADDER_RUNS))))
    done: dict[str, set[str]] = {}
    for oid, step in connection.execute(query):
        done.setdefault(oid, set()).add(step)
    return done


def _ledger_of(connection, keys: list[tuple[str, dt.date]]) -> dict[str, set[str]]:
    """{occurrence: steps} the ledger holds for these (occurrence, due date) pairs."""
    n = NotificationRow.__table__.c
    wanted = set(keys)
    ids = sorted({oid for oid, _ in keys})
    done: dict[str, set[str]] = {}
    for start in range(0, len(ids), _WRITE):
        for oid, step, due in connection.execute(
            sa_select(n.occurrence_id, n.step, n.due).where(n.occurrence_id.in_(ids[start : start + _WRITE]))
        ):
            if (oid, due) in wanted:
                done.setdefault(oid, set()).add(step)
    return done


def _next_step(timing: Timing, oid: str, due: dt.date, status: str, state: str, floor, done) -> dt.datetime | None:
    """`next_step_at` as the ladder's recomputation makes it (see `ledger.reschedule`)."""
    if status != "active" or state not in LADDER_RUNS:
        return None
    instants = timing.steps_for(oid, due)
    if not done and floor is None:
        return instants[0][0] if instants else None
    return next((m for m, step in instants if (not done or step.step not in done) and (floor is None or m >= floor)), None)


def _sync_batch(connection, batch: list[Occurrence], stored: dict, titles: dict, labelled: dict,
                done: dict[str, set[str]] | None, timing: Timing, stamp: dt.datetime, counts: dict[str, int]) -> None:
    """Sync one batch: `batch` (whole obligations of the expansion) onto `stored`, the rows of the
    same obligations by id."""
    wanted = {o.id for o in batch}
    corrected = corrections(
        ((o.id, o.obligation, o.agency) for o in batch if o.id not in stored and labelled[o.obligation]),
        ((oid, row.obligation, row.agency) for oid, row in stored.items() if oid not in wanted and row.status == "active"),
    )
    added: list[dict] = []
    changes: dict[str, dict] = {}  # stored id → the attributes sync sets
    matched: set[str] = set()
    for occurrence in batch:
        oid = occurrence.id
        row = stored.get(corrected.get(oid, oid))
        if row is None:
            # A new id has no ledger rows (occurrences are never deleted, so none were written for it).
            instants = timing.steps_for(oid, occurrence.due)
            added.append({
                "id": oid, "obligation": occurrence.obligation, "agency": occurrence.agency, "period": occurrence.period,
                "nominal_due": occurrence.nominal_due, "due": occurrence.due, "recipient": occurrence.recipient,
                "title_kk": titles[occurrence.obligation], "status": "active", "sequence": 0,
                "next_step_at": instants[0][0] if instants else None, "created_at": stamp, "updated_at": stamp,
            })
            counts["added"] += 1
            continue
        matched.add(row.id)
        outcome, values = _row_update(row, occurrence, titles[occurrence.obligation])
        counts[outcome] += 1
        if values:
            changes[row.id] = values
    for oid, row in stored.items():
        if oid not in matched and row.status != "cancelled":
            changes[oid] = {"status": "cancelled", "sequence": row.sequence + 1}
            counts["cancelled"] += 1

    # The ladder: rows whose due date or status sync changes are looked up in the ledger afresh (with
    # `done` None, every row read here).
    relooked = [(oid, changes.get(oid, {}).get("due", row.due)) for oid, row in stored.items()
                if done is None or "due" in changes.get(oid, ()) or "status" in changes.get(oid, ())]
    fresh = _ledger_of(connection, relooked) if relooked else {}
    updates: dict[tuple[str, ...], list[dict]] = {}
    for oid, row in stored.items():
        values = changes.get(oid)
        if values is None:
            due, status = row.due, row.status
            steps = fresh.get(oid) if done is None else done.get(oid)
        else:
            due, status = values.get("due", row.due), values.get("status", row.status)
            steps = fresh.get(oid) if done is None or "due" in values or "status" in values else done.get(oid)
        wanted_at = _next_step(timing, oid, due, status, row.state, aware(row.ladder_from), steps)
        if wanted_at != aware(row.next_step_at):
            values = dict(values or {}, next_step_at=wanted_at)
        if values:
            if oid in changes:
                values["updated_at"] = stamp
            values["_id"] = oid
            updates.setdefault(tuple(sorted(values)), []).append(values)

    for start in range(0, len(added), _WRITE):
        connection.execute(insert(_table), added[start : start + _WRITE])
    for names, rows in updates.items():
        statement = update(_table).where(_c.id == bindparam("_id")).values(
            {name: bindparam(name) for name in names if name != "_id"})
        for start in range(0, len(rows), _WRITE):
            connection.execute(statement, rows[start : start + _WRITE])


def _corrected_dates(plan: Plan, wanted: dict, existing: dict[str, OccurrenceRow]) -> dict[str, str]:
    """{new id: stored id} for one-offs whose date was corrected in the plan (see the module's doc)."""
    return corrections(
        ((oid, o.obligation, o.agency) for oid, o in wanted.items()
         if oid not in existing and plan.obligation(o.obligation).due.kind in DATE_LABELLED),
        ((oid, row.obligation, row.agency) for oid, row in existing.items()
         if oid not in wanted and row.status == "active"),
    )
