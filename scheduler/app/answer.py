"""Answering a deadline: submit, accept, return, close, reopen, extend, revoke an extension; and show.

Each action reads the occurrence and its events, asks the state machine (`scheduler.answers`) whether
the actor may take it now, and writes the event, the new state and whatever goes with it — a
submission and its documents, a new due date, the ladder's next step — in ONE transaction. The
occurrence's UPDATE names the version its actor saw (`expected_version`, or the one just read): if
someone else acted meanwhile it changes no row, and nothing at all is recorded (`Conflict`). Nothing
is ever deleted: a new answer is a new submission row, an undo is a new event.

The ladder: an answer (submitted, accepted, closed) clears `next_step_at`, so no later step is
planned, and a step already claimed is withdrawn before it is sent. When the ladder runs again (a
return, a reopening) or the due date moves (an extension, its revocation), `ladder_from` is set to
that moment and `next_step_at` to the first step at or after it: the steps whose instant passed
meanwhile are history and are not sent. The ledger is keyed per due date, so the steps of a new date
go out although the same steps went out for the old one, and nothing goes out twice for one date.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler import answers as machine
from scheduler.answers import (
    EXTEND,
    OPERATOR_ACTOR,
    REFUSE,
    REQUEST,
    REVOKE,
    SUBMIT,
    Actor,
    Answer,
    Change,
    Decision,
)
from scheduler.answers.files import Upload
from scheduler.app import notices, webhooks
from scheduler.errors import BadInput, Conflict, UnknownOccurrence
from scheduler.store import chain
from scheduler.store.db import session
from scheduler.store.ledger import as_utc, aware, first_step_from
from scheduler.store.tables import EventRow, FileRow, OccurrenceRow, SubmissionRow

LIMITS = {"ref": 200, "text": 100_000, "note": 2_000, "reason": 2_000}


@dataclass(frozen=True)
class Outcome:
    """What an action did, for the caller to report."""

    occurrence_id: str
    action: str
    before: str  # the state before
    after: str  # and after
    repeat: bool  # nothing was recorded: the same submission again
    due: dt.date
    plan_due: dt.date  # the plan's own date (differs from `due` while an extension stands)
    next_step_at: dt.datetime | None  # the ladder's next step, None when it is stopped or done
    submission: SubmissionRow | None  # the submission in force
    version: int


def _text(name: str, value: str | None, occurrence_id: str, single_line: bool = False) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > LIMITS[name]:
        raise BadInput(f"{occurrence_id}: the {name} is longer than {LIMITS[name]} characters").worded(
            f"too_long_{name}", limit=LIMITS[name])
    if single_line and any(c in value for c in "\r\n"):
        raise BadInput(f"{occurrence_id}: the {name} must be one line").worded(f"one_line_{name}")
    return value


def _changes(events: Sequence[EventRow]) -> list[Change]:
    found = []
    for event in events:
        details = json.loads(event.details)
        until = details.get("until") if event.action in (EXTEND, REQUEST) else None
        found.append(Change(event.action, submission=details.get("submission"),
                            until=dt.date.fromisoformat(until) if until else None))
    return found


def _load(db: Session, occurrence_id: str) -> tuple[OccurrenceRow, list[EventRow], Answer]:
    row = db.get(OccurrenceRow, occurrence_id)
    if row is None:
        raise UnknownOccurrence(f"{occurrence_id}: no such occurrence in the database (run `scheduler sync`?)")
    events = list(db.exec(select(EventRow).where(EventRow.occurrence_id == occurrence_id).order_by(EventRow.id)))
    return row, events, machine.fold(_changes(events))


def _conflict(row: OccurrenceRow, seen: int) -> Conflict:
    return Conflict(f"{row.id} was changed by someone else meanwhile (version {row.version}, not {seen} as seen; "
                    f"it is now {machine.state_of(Answer(row.state), row.status != 'active')}): nothing was "
                    "recorded; look at it again and retry", row.id, row.state)


def _plan_date(row: OccurrenceRow) -> dt.date:
    return row.plan_due if row.extended_until is not None and row.plan_due is not None else row.due


def _write(db: Session, timing, row: OccurrenceRow, seen: int, decision: Decision, action: str, details: dict,
           actor: Actor, now: dt.datetime, client: str | None) -> tuple[EventRow, dict]:
    """The occurrence's new state and the event, in the caller's transaction, if the version is still `seen`."""
    after = decision.after
    plan_date = _plan_date(row)
    due = max(plan_date, after.extended_until) if after.extended_until is not None else plan_date
    values: dict = {
        "state": after.state, "version": seen + 1, "submission_id": after.submission, "updated_at": as_utc(now),
        "extended_until": after.extended_until, "plan_due": plan_date if after.extended_until is not None else None,
        "due": due, "sequence": row.sequence + (due != row.due), "extension_requested": after.requested_until,
    }
    if decision.stops_ladder:
        values["next_step_at"] = None
    elif decision.resumes_ladder or due != row.due:
        values["ladder_from"] = as_utc(now)
        values["next_step_at"] = first_step_from(timing, due, now, row.id)
    table = OccurrenceRow.__table__
    done = db.connection().execute(update(table).where(table.c.id == row.id, table.c.version == seen).values(**values))
    if done.rowcount != 1:
        db.rollback()
        current = db.get(OccurrenceRow, row.id, populate_existing=True)
        raise _conflict(current or row, seen)
    event = EventRow(occurrence_id=row.id, at=as_utc(now), actor=actor.name, action=action,
                     from_state=decision.before.state, to_state=after.state, client=client,
                     details=json.dumps({k: v for k, v in details.items() if v is not None}, ensure_ascii=False))
    db.add(event)
    db.flush()
    notices.record(db, timing, row, event, values)  # the emails it causes, in this transaction
    return event, values


def _outcome(row: OccurrenceRow, action: str, decision: Decision, values: dict, submission: SubmissionRow | None) -> Outcome:
    due = values.get("due", row.due)
    extended = values.get("extended_until", row.extended_until)
    plan_due = values.get("plan_due", row.plan_due) if extended is not None else due
    return Outcome(row.id, action, decision.before.state, decision.after.state, decision.repeat, due, plan_due,
                   aware(values.get("next_step_at", row.next_step_at)), submission, values.get("version", row.version))


def operator_submit(ctx, occurrence_id: str, at: dt.datetime, note: str | None, now: dt.datetime,
                    client: str | None = None) -> tuple[bool, SubmissionRow]:
    """A submission recorded by the operator (the dashboard's form without a sign-in), no earlier
    than the plan's adoption; returns (new, row). A second submission keeps the first."""
    done = submit(ctx.engine, ctx.timing, occurrence_id, at=at, now=now, note=note,
                  earliest=ctx.plan.plan_of(occurrence_id).adopted, client=client)
    return not done.repeat, done.submission


def submit(
    engine: Engine,
    timing,
    occurrence_id: str,
    *,
    at: dt.datetime,
    now: dt.datetime,
    actor: Actor = OPERATOR_ACTOR,
    ref: str | None = None,
    ref_date: dt.date | None = None,
    text: str | None = None,
    note: str | None = None,
    uploads: Sequence[Upload] = (),
    earliest: dt.date | None = None,
    expected_version: int | None = None,
    client: str | None = None,
    held_on: dt.date | None = None,
    event=None,
) -> Outcome:
    """Record a submission received at `at` (not in the future, not before `earliest`, the plan's
    adoption). A second submission while one is in (submitted or accepted) keeps the first and
    records nothing (`repeat`).

    `event`: the occurrence's period when its row is an event (`scheduler.calendar.periods.PeriodInfo`,
    None otherwise); `held_on`, the day the event was held, must then lie in that period (from its
    first day, or the plan's adoption, to its last) and not after the day the answer came."""
    ref = _text("ref", ref, occurrence_id, single_line=True)
    text = _text("text", text, occurrence_id)
    note = _text("note", note, occurrence_id)
    shown = at.astimezone(timing.zone).isoformat(timespec="minutes")
    if as_utc(at) > as_utc(now):
        raise BadInput(f"{occurrence_id}: received at {shown} is in the future "
                       f"(it is now {now.astimezone(timing.zone).isoformat(timespec='minutes')})").worded("received_future")
    received = timing.local_day(at)
    if earliest is not None and received < earliest:
        raise BadInput(f"{occurrence_id}: received at {shown} is before the plan's adoption on {earliest.isoformat()}: "
                       "the occurrence did not exist yet").worded("received_early", date=earliest)
    if ref_date is not None and ref_date > received:
        raise BadInput(f"{occurrence_id}: the letter's date {ref_date.isoformat()} is after the day it was received "
                       f"({received.isoformat()})").worded("letter_after", date=ref_date, received=received)
    if ref_date is not None and earliest is not None and ref_date < earliest:
        raise BadInput(f"{occurrence_id}: the letter's date {ref_date.isoformat()} is before the plan's adoption "
                       f"on {earliest.isoformat()}").worded("letter_early", date=ref_date, adopted=earliest)
    _check_held_on(occurrence_id, held_on, event, received, timing.local_day(now))
    with session(engine) as db:
        row, _, answer = _load(db, occurrence_id)
        seen = row.version if expected_version is None else expected_version
        if seen != row.version:
            raise _conflict(row, seen)
        decision = machine.decide(answer, SUBMIT, actor, occurrence_id=occurrence_id, agency=row.agency,
                                  cancelled=row.status != "active")
        if decision.repeat:
            live = db.get(SubmissionRow, row.submission_id) if row.submission_id is not None else None
            return _outcome(row, SUBMIT, decision, {}, live)
        submission = SubmissionRow(occurrence_id=occurrence_id, submitted_at=as_utc(at), recorded_at=as_utc(now),
                                   note=note, ref=ref, ref_date=ref_date, text=text, by=actor.name, held_on=held_on)
        db.add(submission)
        db.flush()
        decision = replace(decision, after=replace(decision.after, submission=submission.id))
        details = {"submission": submission.id, "submitted_at": _local(at, timing.zone), "ref": ref,
                   "ref_date": ref_date.isoformat() if ref_date else None, "text": text, "note": note,
                   "held_on": held_on.isoformat() if held_on else None,
                   "files": [u.described() for u in uploads] or None}
        event, values = _write(db, timing, row, seen, decision, SUBMIT, details, actor, now, client)
        for upload in uploads:  # written and let go one by one: one document's bytes in memory at a time
            stored = FileRow(occurrence_id=occurrence_id, submission_id=submission.id, event_id=event.id,
                             name=upload.name, content_type=upload.content_type, size=upload.size,
                             sha256=upload.sha256, content=upload.content, uploaded_at=as_utc(now),
                             uploaded_by=actor.name)
            db.add(stored)
            db.flush()
            db.expunge(stored)
        chain.append(db, event)  # its link of the record's chain: last, as the chain's head stays locked until commit
        webhooks.record(db, event, row, values, now)  # its webhooks' messages, in this transaction
        return _outcome(row, SUBMIT, decision, values, submission)


def _check_held_on(occurrence_id: str, held_on: dt.date | None, event, received: dt.date, today: dt.date) -> None:
    """The day an event was held: only for an event row, within its period, not after the answer came."""
    if held_on is None:
        return
    if event is None:
        raise BadInput(f"{occurrence_id}: not an event: the day an event was held is recorded only for a row "
                       'the plan marks kind = "event" (a sitting, a training)').worded("not_an_event")
    if held_on > today:
        raise BadInput(f"{occurrence_id}: held on {held_on.isoformat()} is in the future (today is "
                       f"{today.isoformat()}): record an event once it has been held").worded("held_future", date=held_on)
    if not event.start <= held_on <= event.end:
        partial = f", {event.partial_why}" if event.partial_from is not None and event.partial_why else ""
        raise BadInput(f"{occurrence_id}: held on {held_on.isoformat()} is outside the period {event.label} "
                       f"({event.start.isoformat()}{partial} … {event.end.isoformat()}): an event counts for the "
                       "period it was held in").worded("held_outside", date=held_on, first=event.start,
                                                       last=event.end)
    if held_on > received:
        raise BadInput(f"{occurrence_id}: held on {held_on.isoformat()} is after the day the answer was received "
                       f"({received.isoformat()})").worded("held_later", date=held_on, received=received)


def act(
    engine: Engine,
    timing,
    occurrence_id: str,
    action: str,
    *,
    now: dt.datetime,
    actor: Actor = OPERATOR_ACTOR,
    reason: str | None = None,
    until: dt.date | None = None,
    expected_version: int | None = None,
    client: str | None = None,
) -> Outcome:
    """accept, return, close, reopen, extend (to `until`), revoke-extension, request-extension (to
    `until`) or refuse-extension, with a reason where the machine asks for one."""
    reason = _text("reason", reason, occurrence_id)
    with session(engine) as db:
        row, _, answer = _load(db, occurrence_id)
        seen = row.version if expected_version is None else expected_version
        if seen != row.version:
            raise _conflict(row, seen)
        decision = machine.decide(answer, action, actor, occurrence_id=occurrence_id, agency=row.agency,
                                  cancelled=row.status != "active", reason=reason, until=until,
                                  plan_due=_plan_date(row))
        details: dict = {"reason": reason}
        if action in (EXTEND, REVOKE, REQUEST):
            details |= {"until": until.isoformat() if until else None, "previous_due": row.due.isoformat(),
                        "plan_due": _plan_date(row).isoformat()}
        if action in (EXTEND, REFUSE) and answer.requested_until is not None:
            details["requested"] = answer.requested_until.isoformat()  # the request this settles
        event, values = _write(db, timing, row, seen, decision, action, details, actor, now, client)
        chain.append(db, event)  # its link of the record's chain: last, as the chain's head stays locked until commit
        webhooks.record(db, event, row, values, now)  # its webhooks' messages, in this transaction
        live = db.get(SubmissionRow, decision.after.submission) if decision.after.submission is not None else None
        return _outcome(row, action, decision, values, live)


# --- reading -----------------------------------------------------------------------------------


def _local(moment: dt.datetime | None, zone) -> str | None:
    return aware(moment).astimezone(zone).isoformat(timespec="seconds") if moment is not None else None


def _file(f: FileRow) -> dict:
    return {"id": f.id, "name": f.name, "content_type": f.content_type, "size": f.size, "sha256": f.sha256}


def show(engine: Engine, occurrence_id: str, zone) -> dict:
    """Everything about an occurrence's answer: state, dates, the submission in force with its
    documents, and every event ever recorded, oldest first (times in the plan's zone)."""
    with session(engine) as db:
        row, events, answer = _load(db, occurrence_id)
        submission = db.get(SubmissionRow, row.submission_id) if row.submission_id is not None else None
        files = list(db.exec(select(FileRow).where(FileRow.submission_id == submission.id).order_by(FileRow.id))) \
            if submission else []
    extension = None
    if row.extended_until is not None:
        granted = next((e for e in reversed(events) if e.action == EXTEND), None)
        extension = {"until": row.extended_until.isoformat(), "plan_due": _plan_date(row).isoformat(),
                     "granted_at": _local(granted.at, zone) if granted else None,
                     "by": granted.actor if granted else None,
                     "reason": json.loads(granted.details).get("reason") if granted else None}
    listed = []
    for event in events:
        details = json.loads(event.details)
        listed.append({"id": event.id, "at": _local(event.at, zone), "actor": event.actor, "action": event.action,
                       "from_state": event.from_state, "to_state": event.to_state, **details,
                       **({"client": event.client} if event.client else {}), "details": details})
    return {
        "id": row.id,
        "obligation": row.obligation,
        "agency": row.agency,
        "period": row.period,
        "state": machine.state_of(answer, row.status != "active"),
        "due": row.due.isoformat(),
        "nominal_due": row.nominal_due.isoformat(),
        "plan_due": _plan_date(row).isoformat(),
        "extension": extension,
        "extension_requested": row.extension_requested.isoformat() if row.extension_requested else None,
        "next_step_at": _local(row.next_step_at, zone),
        "version": row.version,
        "submission": None if submission is None else {
            "id": submission.id,
            "at": _local(submission.submitted_at, zone),
            "recorded_at": _local(submission.recorded_at, zone),
            "ref": submission.ref,
            "ref_date": submission.ref_date.isoformat() if submission.ref_date else None,
            "held_on": submission.held_on.isoformat() if submission.held_on else None,
            "text": submission.text,
            "note": submission.note,
            "by": submission.by,
            "files": [_file(f) for f in files],
        },
        "events": listed,
    }


def extension_of(engine: Engine, occurrence_id: str) -> tuple[dt.date, dt.date, EventRow | None] | None:
    """(extended until, the plan's date, the event that granted it) when an extension stands; else None."""
    with session(engine) as db:
        row = db.get(OccurrenceRow, occurrence_id)
        if row is None or row.extended_until is None:
            return None
        granted = db.exec(select(EventRow).where(EventRow.occurrence_id == occurrence_id, EventRow.action == EXTEND)
                          .order_by(col(EventRow.id).desc())).first()
        return row.extended_until, _plan_date(row), granted
