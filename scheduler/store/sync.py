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

from scheduler.calendar.expand import expand
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.notify.ladder import Timing
from scheduler.plan import Contact, Plan
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


def sync(engine: Engine, plan: Plan, contacts: tuple[Contact, ...] | None, now: dt.datetime, timezone: str | None = None) -> SyncReport:
    stamp = now.astimezone(dt.timezone.utc)
    wanted = {o.id: o for o in expand(plan, WorkdayCalendar(plan.policy.holidays))}
    counts = dict(added=0, moved=0, changed=0, cancelled=0, restored=0, unchanged=0)
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
        corrected = _corrected_dates(plan, wanted, existing)
        for oid, occurrence in wanted.items():
            title = plan.obligation(occurrence.obligation).title_kk
            row = existing.get(corrected.get(oid, oid))
            if row is None:
                db.add(
                    OccurrenceRow(
                        id=oid,
                        obligation=occurrence.obligation,
                        agency=occurrence.agency,
                        period=occurrence.period,
                        nominal_due=occurrence.nominal_due,
                        due=occurrence.due,
                        recipient=occurrence.recipient,
                        title_kk=title,
                        status="active",
                        sequence=0,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
                counts["added"] += 1
                continue
            outcome = "unchanged"
            if row.status != "active":
                row.status, outcome = "active", "restored"
            effective = occurrence.due
            if row.extended_until is not None:  # an extension stands; the plan's date is kept beside it
                if row.plan_due != occurrence.due:
                    row.plan_due = occurrence.due
                    outcome = "changed" if outcome == "unchanged" else outcome
                effective = max(occurrence.due, row.extended_until)
            if row.due != effective:
                row.due, row.sequence = effective, row.sequence + 1
                outcome = "moved" if outcome == "unchanged" else outcome
            for name, value in (("nominal_due", occurrence.nominal_due), ("recipient", occurrence.recipient), ("title_kk", title)):
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    outcome = "changed" if outcome == "unchanged" else outcome
            if outcome != "unchanged":
                row.updated_at = stamp
                db.add(row)
            counts[outcome] += 1
        kept = set(corrected.values())
        for oid, row in existing.items():
            if oid not in wanted and oid not in kept and row.status != "cancelled":
                row.status, row.updated_at = "cancelled", stamp
                row.sequence += 1
                db.add(row)
                counts["cancelled"] += 1
        db.flush()
        reschedule(db, Timing(plan.policy, WorkdayCalendar(plan.policy.holidays), timezone))
        for key, value in (
            ("plan_id", plan.file.plan.id),
            ("plan_sha256", hashlib.sha256(plan.source.read_bytes()).hexdigest()),
            ("synced_at", stamp.isoformat()),
        ):
            db.merge(SettingRow(key=key, value=value))
    return SyncReport(contacts=len(contacts) if contacts is not None else -1, **counts)


DATE_LABELLED = frozenset({"once", "within", "year-end"})  # rule kinds whose period label is the date itself


def _corrected_dates(plan: Plan, wanted: dict, existing: dict[str, OccurrenceRow]) -> dict[str, str]:
    """{new id: stored id} for one-offs whose date was corrected in the plan (see the module's doc)."""
    arrived: dict[tuple[str, str], list[str]] = {}
    for oid, occurrence in wanted.items():
        if oid not in existing and plan.obligation(occurrence.obligation).due.kind in DATE_LABELLED:
            arrived.setdefault((occurrence.obligation, occurrence.agency), []).append(oid)
    left: dict[tuple[str, str], list[str]] = {}
    for oid, row in existing.items():
        if oid not in wanted and row.status == "active" and (row.obligation, row.agency) in arrived:
            left.setdefault((row.obligation, row.agency), []).append(oid)
    return {arrived[key][0]: ids[0] for key, ids in left.items() if len(ids) == 1 and len(arrived[key]) == 1}
