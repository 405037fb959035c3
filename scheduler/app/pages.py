"""What the people's pages read: an agency's deadlines with their answers, and the secretariat's
queue of new answers and extension requests, each list a page at a time (`PAGE_SIZE`: the
database counts and reads only the page shown, however many there are). Reading only; every
change goes through answer.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler.answers import ACCEPTED, CLOSED, LADDER_RUNS, REQUEST, RETURN, SUBMITTED
from scheduler.store.db import session
from scheduler.store.order import plan_position
from scheduler.store.tables import ContactRow, EventRow, FileRow, NotificationRow, OccurrenceRow, SubmissionRow

AHEAD = dt.timedelta(days=92)  # owed deadlines shown ahead of today (every overdue one is shown)
BEHIND = dt.timedelta(days=366)  # answered ones shown by their due date back from today
PAGE_SIZE = 100  # cards per list and page: an agency's whole list, in the shipped plan


@dataclass(frozen=True)
class Entry:
    row: OccurrenceRow
    submission: SubmissionRow | None = None
    files: int = 0
    returned: dict | None = None  # the latest return: at, actor, reason
    request: dict | None = None  # the extension asked for and not yet settled: until, reason, actor, at


@dataclass(frozen=True)
class Page:
    """One page of a list: its entries, and how many the list holds in all."""

    entries: list[Entry]
    total: int
    number: int = 1  # 1-based
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position of the page's first entry in the list (1-based; 0 when it is empty)."""
        return (self.number - 1) * self.size + 1 if self.entries else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * self.size + len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def _page(db: Session, query, number: int, size: int) -> Page:
    """The page `number` of the query's rows (the last page when it asks beyond), and their count."""
    total = db.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    number = min(max(number, 1), max(1, -(-total // size)))
    rows = db.exec(query.limit(size).offset((number - 1) * size)).all() if total else []
    return Page(_entries(db, rows), total, number, size)


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


def agency_deadlines(engine: Engine, agencies: frozenset[str] | None, today: dt.date, *, owed_page: int = 1,
                     answered_page: int = 1, size: int = PAGE_SIZE) -> tuple[Page, Page]:
    """(owed: open or returned, due by today + AHEAD, oldest first — the longest overdue lead;
    answered: submitted, accepted or closed, due since today - BEHIND, latest first; within a due
    date, rows in the plan's order) for these
    agencies (None: all), the page asked for of each."""
    with session(engine) as db:
        base = select(OccurrenceRow).where(OccurrenceRow.status == "active")
        position = plan_position(db.connection())  # within a due date, the rows in the plan's order
        if agencies is not None:
            base = base.where(col(OccurrenceRow.agency).in_(sorted(agencies)))
        owed = _page(db, base.where(col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)),
                                    col(OccurrenceRow.due) <= today + AHEAD)
                     .order_by(OccurrenceRow.due, position, OccurrenceRow.agency, OccurrenceRow.id), owed_page, size)
        answered = _page(db, base.where(col(OccurrenceRow.state).in_([SUBMITTED, ACCEPTED, CLOSED]),
                                        col(OccurrenceRow.due) >= today - BEHIND)
                         .order_by(col(OccurrenceRow.due).desc(), position, OccurrenceRow.agency, OccurrenceRow.id),
                         answered_page, size)
        return owed, answered


RECENT = dt.timedelta(days=92)  # owed deadlines due since then lead; those due earlier are folded below them


@dataclass(frozen=True)
class Focal:
    """A focal point's page: the deadlines an email was about (`focus`, in its order, whatever their
    state), then the rest of what is owed, soonest first (`owed`: due from today - RECENT to today
    + AHEAD), what is owed since earlier (`older`, oldest first: folded on the page), and what was
    answered (`answered`, latest first) — each a page at a time; the focus is never in the others."""

    focus: list[Entry]
    owed: Page
    older: Page
    answered: Page


def focal_deadlines(engine: Engine, agencies: frozenset[str] | None, today: dt.date, focus: list[str] = (), *,
                    owed_page: int = 1, older_page: int = 1, answered_page: int = 1, size: int = PAGE_SIZE) -> Focal:
    """The focal point's page for these agencies (None: all): `focus`, the ids an email named, those
    of these agencies first."""
    with session(engine) as db:
        base = select(OccurrenceRow).where(OccurrenceRow.status == "active")
        position = plan_position(db.connection())
        if agencies is not None:
            base = base.where(col(OccurrenceRow.agency).in_(sorted(agencies)))
        shown: list[Entry] = []
        if focus:
            found = {r.id: r for r in db.exec(base.where(col(OccurrenceRow.id).in_(list(focus))))}
            shown = _entries(db, [found[oid] for oid in focus if oid in found])
        rest = base.where(col(OccurrenceRow.id).not_in([e.row.id for e in shown])) if shown else base
        owing = rest.where(col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)))
        owed = _page(db, owing.where(col(OccurrenceRow.due) >= today - RECENT, col(OccurrenceRow.due) <= today + AHEAD)
                     .order_by(OccurrenceRow.due, position, OccurrenceRow.agency, OccurrenceRow.id), owed_page, size)
        older = _page(db, owing.where(col(OccurrenceRow.due) < today - RECENT)
                      .order_by(OccurrenceRow.due, position, OccurrenceRow.agency, OccurrenceRow.id), older_page, size)
        answered = _page(db, rest.where(col(OccurrenceRow.state).in_([SUBMITTED, ACCEPTED, CLOSED]),
                                        col(OccurrenceRow.due) >= today - BEHIND)
                         .order_by(col(OccurrenceRow.due).desc(), position, OccurrenceRow.agency, OccurrenceRow.id),
                         answered_page, size)
        return Focal(shown, owed, older, answered)


def queue(engine: Engine, *, answers_page: int = 1, requests_page: int = 1, size: int = PAGE_SIZE) -> tuple[Page, Page]:
    """The secretariat's queue: (answers waiting for a decision, oldest first; extension requests
    waiting for one, oldest asked first), the page asked for of each."""
    with session(engine) as db:
        answers = _page(db, select(OccurrenceRow).join(SubmissionRow, col(SubmissionRow.id) == col(OccurrenceRow.submission_id))
                        .where(OccurrenceRow.status == "active", OccurrenceRow.state == SUBMITTED)
                        .order_by(SubmissionRow.recorded_at, OccurrenceRow.id), answers_page, size)
        # Requests by when they were asked: the latest request event of each (one row per occurrence).
        asked = (select(EventRow.occurrence_id, func.max(EventRow.id).label("latest"))
                 .where(EventRow.action == REQUEST).group_by(EventRow.occurrence_id).subquery())
        event = EventRow.__table__.alias("asked_event")
        requests = _page(db, select(OccurrenceRow).outerjoin(asked, asked.c.occurrence_id == col(OccurrenceRow.id))
                         .outerjoin(event, event.c.id == asked.c.latest)
                         .where(OccurrenceRow.status == "active", col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)),
                                col(OccurrenceRow.extension_requested).is_not(None))
                         .order_by(event.c.at.asc().nulls_first(), OccurrenceRow.due, OccurrenceRow.id),
                         requests_page, size)
        return answers, requests


def occurrences(engine: Engine, ids: list[str]) -> dict[str, OccurrenceRow]:
    with session(engine) as db:
        return {r.id: r for r in db.exec(select(OccurrenceRow).where(col(OccurrenceRow.id).in_(ids)))}


def document(engine: Engine, file_id: int) -> tuple[FileRow, str] | None:
    """A stored document and its occurrence's agency; None when there is none."""
    with session(engine) as db:
        found = db.exec(select(FileRow, OccurrenceRow.agency).join(OccurrenceRow, col(OccurrenceRow.id) == col(FileRow.occurrence_id))
                        .where(FileRow.id == file_id)).first()
        return (found[0], found[1]) if found else None


def names(engine: Engine, emails: Iterable[str]) -> dict[str, str]:
    """People by name: {address (lower case): the contacts file's name} for the addresses that are
    a contact's (secretariat staff who are none are shown by their address)."""
    wanted = sorted({e.lower() for e in emails if e and "@" in e})
    found: dict[str, str] = {}
    if not wanted:
        return found
    with session(engine) as db:
        for i in range(0, len(wanted), 500):
            for email, name in db.exec(select(ContactRow.email, ContactRow.name)
                                       .where(col(ContactRow.email).in_(wanted[i:i + 500])).order_by(ContactRow.id)):
                if name and name.strip():
                    found.setdefault(email.lower(), name.strip())
    return found


def owed_of(engine: Engine, agency: str, today: dt.date, *, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """A body's deadlines still owed (open or returned), due by today + AHEAD, oldest first: what a
    paper backlog answers."""
    return agency_deadlines(engine, frozenset({agency}), today, owed_page=page, size=size)[0]


def history(engine: Engine, occurrence_id: str):
    """(occurrence, the submission in force or None, its ledger rows) or None when there is no such occurrence."""
    with session(engine) as db:
        row = db.get(OccurrenceRow, occurrence_id)
        if row is None:
            return None
        ledger = list(db.exec(select(NotificationRow).where(NotificationRow.occurrence_id == occurrence_id)
                              .order_by(NotificationRow.scheduled_at, NotificationRow.id)))
        submission = db.get(SubmissionRow, row.submission_id) if row.submission_id is not None else None
        return row, submission, ledger
