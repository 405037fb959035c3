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
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

from scheduler.calendar.expand import Occurrence, expand
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.notify.ladder import Timing
from scheduler.plan import Contact, Plan
from scheduler.plan.diff import DATE_LABELLED, corrections
from scheduler.store.db import session
from scheduler.store.ledger import reschedule
from scheduler.store.tables import AgencyRow, ContactRow, OccurrenceRow, SettingRow


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
    wanted = expansion(plan)
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

        existing = {row.id: row for row in db.exec(select(OccurrenceRow))}
        planned = plan_sync(plan, wanted, existing)
        _apply(db, planned, existing, stamp)
        db.flush()
        reschedule(db, Timing(plan.policy, WorkdayCalendar(plan.policy.holidays), timezone))
        for key, value in (
            ("plan_id", plan.file.plan.id),
            ("plan_sha256", hashlib.sha256(plan.source.read_bytes()).hexdigest()),
            ("synced_at", stamp.isoformat()),
        ):
            db.merge(SettingRow(key=key, value=value))
    return SyncReport(contacts=len(contacts) if contacts is not None else -1, **planned.counts)


def _apply(db, planned: SyncPlan, existing: dict[str, OccurrenceRow], stamp: dt.datetime) -> None:
    """Make the stored occurrences what `planned` says, in the same order it found them."""
    for occurrence in planned.added:
        db.add(
            OccurrenceRow(
                id=occurrence.id,
                obligation=occurrence.obligation,
                agency=occurrence.agency,
                period=occurrence.period,
                nominal_due=occurrence.nominal_due,
                due=occurrence.due,
                recipient=occurrence.recipient,
                title_kk=planned.titles[occurrence.obligation],
                status="active",
                sequence=0,
                created_at=stamp,
                updated_at=stamp,
            )
        )
    for update in planned.updates:
        if update.outcome == "unchanged":
            continue
        row = existing[update.stored_id]
        for name, value in update.values.items():
            setattr(row, name, value)
        row.updated_at = stamp
        db.add(row)
    for oid in planned.cancelled:
        row = existing[oid]
        row.status, row.updated_at = "cancelled", stamp
        row.sequence += 1
        db.add(row)


def _corrected_dates(plan: Plan, wanted: dict, existing: dict[str, OccurrenceRow]) -> dict[str, str]:
    """{new id: stored id} for one-offs whose date was corrected in the plan (see the module's doc)."""
    return corrections(
        ((oid, o.obligation, o.agency) for oid, o in wanted.items()
         if oid not in existing and plan.obligation(o.obligation).due.kind in DATE_LABELLED),
        ((oid, row.obligation, row.agency) for oid, row in existing.items()
         if oid not in wanted and row.status == "active"),
    )
