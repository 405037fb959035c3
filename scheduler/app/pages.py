"""What the people's pages read: an agency's deadlines with their answers, and the secretariat's
queue of new answers and extension requests. Reading only; every change goes through answer.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler.answers import ACCEPTED, CLOSED, LADDER_RUNS, REQUEST, RETURN, SUBMITTED
from scheduler.store.db import session
from scheduler.store.tables import EventRow, FileRow, OccurrenceRow, SubmissionRow

AHEAD = dt.timedelta(days=92)  # owed deadlines shown ahead of today (every overdue one is shown)
BEHIND = dt.timedelta(days=366)  # answered ones shown by their due date back from today


@dataclass(frozen=True)
class Entry:
    row: OccurrenceRow
    submission: SubmissionRow | None = None
    files: int = 0
    returned: dict | None = None  # the latest return: at, actor, reason
    request: dict | None = None  # the extension asked for and not yet settled: until, reason, actor, at


def _latest(db: Session, ids: list[str], action: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for i in range(0, len(ids), 500):
        for event in db.exec(select(EventRow).where(col(EventRow.occurrence_id).in_(ids[i:i + 500]),
                                                    EventRow.action == action).order_by(EventRow.id)):
            found[event.occurrence_id] = {"at": event.at, "actor": event.actor, **json.loads(event.details)}
    return found


def _entries(db: Session, rows: Iterable[OccurrenceRow]) -> list[Entry]:
    rows = list(rows)
    returned = _latest(db, [r.id for r in rows if r.state != "open"], RETURN)
    requested = _latest(db, [r.id for r in rows if r.extension_requested is not None], REQUEST)
    submission_ids = [r.submission_id for r in rows if r.submission_id is not None]
    submissions = {s.id: s for s in db.exec(select(SubmissionRow).where(col(SubmissionRow.id).in_(submission_ids)))} \
        if submission_ids else {}
    files: dict[int, int] = {}
    if submission_ids:
        for submission_id in db.exec(select(FileRow.submission_id).where(col(FileRow.submission_id).in_(submission_ids))):
            files[submission_id] = files.get(submission_id, 0) + 1
    return [Entry(r, submissions.get(r.submission_id), files.get(r.submission_id, 0),
                  returned.get(r.id) if r.state in LADDER_RUNS else None,
                  requested.get(r.id) if r.extension_requested is not None and r.state in LADDER_RUNS else None)
            for r in rows]


def agency_deadlines(engine: Engine, agencies: frozenset[str] | None, today: dt.date) -> tuple[list[Entry], list[Entry]]:
    """(owed: open or returned, due by today + AHEAD, oldest first; answered: submitted, accepted or
    closed, due since today - BEHIND, latest first) for these agencies (None: all)."""
    with session(engine) as db:
        base = select(OccurrenceRow).where(OccurrenceRow.status == "active")
        if agencies is not None:
            base = base.where(col(OccurrenceRow.agency).in_(sorted(agencies)))
        owed = db.exec(base.where(col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)),
                                  col(OccurrenceRow.due) <= today + AHEAD)
                       .order_by(OccurrenceRow.due, OccurrenceRow.id)).all()
        answered = db.exec(base.where(col(OccurrenceRow.state).in_([SUBMITTED, ACCEPTED, CLOSED]),
                                      col(OccurrenceRow.due) >= today - BEHIND)
                           .order_by(col(OccurrenceRow.due).desc(), OccurrenceRow.id)).all()
        return _entries(db, owed), _entries(db, answered)


def queue(engine: Engine) -> tuple[list[Entry], list[Entry]]:
    """The secretariat's queue: (answers waiting for a decision, oldest first; extension requests
    waiting for one, oldest first)."""
    with session(engine) as db:
        answers = db.exec(select(OccurrenceRow).join(SubmissionRow, col(SubmissionRow.id) == col(OccurrenceRow.submission_id))
                          .where(OccurrenceRow.status == "active", OccurrenceRow.state == SUBMITTED)
                          .order_by(SubmissionRow.recorded_at, OccurrenceRow.id)).all()
        requests = db.exec(select(OccurrenceRow).where(OccurrenceRow.status == "active",
                                                       col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)),
                                                       col(OccurrenceRow.extension_requested).is_not(None))
                           .order_by(OccurrenceRow.due, OccurrenceRow.id)).all()
        entries = _entries(db, requests)
        return _entries(db, answers), sorted(entries, key=lambda e: (e.request or {}).get("at") or dt.datetime.min)


def occurrences(engine: Engine, ids: list[str]) -> dict[str, OccurrenceRow]:
    with session(engine) as db:
        return {r.id: r for r in db.exec(select(OccurrenceRow).where(col(OccurrenceRow.id).in_(ids)))}


def document(engine: Engine, file_id: int) -> tuple[FileRow, str] | None:
    """A stored document and its occurrence's agency; None when there is none."""
    with session(engine) as db:
        found = db.exec(select(FileRow, OccurrenceRow.agency).join(OccurrenceRow, col(OccurrenceRow.id) == col(FileRow.occurrence_id))
                        .where(FileRow.id == file_id)).first()
        return (found[0], found[1]) if found else None
