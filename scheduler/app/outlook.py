"""What `run` says when it starts: what lies ahead, who would be emailed, where to look.

A newcomer's first run should show something: the next deadlines (or that the plan has ended and
nothing is due), how many are overdue and unanswered, how many focal points would be emailed (or that
there are no contacts and nobody will be), and where the pages are. Reading only; `now` is given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from scheduler.answers import LADDER_RUNS
from scheduler.store.db import session
from scheduler.store.tables import ContactRow, OccurrenceRow

SHOWN_DAYS = 3  # the next due dates listed


@dataclass(frozen=True)
class Outlook:
    today: dt.date
    ahead: list[tuple[dt.date, int, int]]  # the next due dates: (date, deadlines, agencies)
    overdue: int  # owed (open or returned) and past due
    last_due: dt.date | None  # the plan's last due date (None: an empty plan)
    focal: int  # focal points' addresses
    contacts: int  # every contact row
    agencies_without_focal: int  # agencies that owe something ahead and have no focal point

    def lines(self, dashboard: str) -> list[str]:
        """The start-up summary, a line each."""
        said = []
        if self.ahead:
            listed = "; ".join(f"{day.isoformat()}: {count} deadline{'s' * (count != 1)} of {agencies} "
                               f"agenc{'ies' if agencies != 1 else 'y'}" for day, count, agencies in self.ahead)
            said.append(f"next deadlines: {listed}")
        elif self.last_due is not None and self.last_due < self.today:
            said.append(f"the plan ended on {self.last_due.isoformat()}: nothing is due any more "
                        "(to watch it at work, replay a stretch of it: scheduler run --clock 2022-11-25 --speed 1440)")
        else:
            said.append("nothing is due ahead")
        if self.overdue:
            said.append(f"{self.overdue} deadline{'s' * (self.overdue != 1)} overdue and unanswered")
        if self.contacts == 0:
            said.append("no contacts: nobody will be emailed (give a contacts CSV with --contacts or SCHEDULER_CONTACTS; "
                        "examples/contacts.csv shows the format)")
        else:
            said.append(f"{self.focal} focal point{'s' * (self.focal != 1)} will be emailed"
                        + (f"; {self.agencies_without_focal} agencies owing deadlines have no focal point"
                           if self.agencies_without_focal else ""))
        said.append(f"dashboard: {dashboard}")
        return said


def outlook(engine: Engine, today: dt.date) -> Outlook:
    with session(engine) as db:
        owed = select(OccurrenceRow).where(OccurrenceRow.status == "active", col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)))
        dates = db.exec(
            select(OccurrenceRow.due, func.count(), func.count(func.distinct(OccurrenceRow.agency)))
            .where(OccurrenceRow.status == "active", col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)),
                   col(OccurrenceRow.due) >= today)
            .group_by(OccurrenceRow.due).order_by(OccurrenceRow.due).limit(SHOWN_DAYS)
        ).all()
        overdue = db.exec(select(func.count()).select_from(owed.where(col(OccurrenceRow.due) < today).subquery())).one()
        last_due = db.exec(select(func.max(OccurrenceRow.due)).where(OccurrenceRow.status == "active")).one()
        contacts = db.exec(select(func.count()).select_from(ContactRow)).one()
        focal = db.exec(select(func.count(func.distinct(ContactRow.email))).where(ContactRow.role == "focal")).one()
        owing = set(db.exec(select(OccurrenceRow.agency).distinct().where(
            OccurrenceRow.status == "active", col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)),
            col(OccurrenceRow.due) >= today)))
        with_focal = set(db.exec(select(ContactRow.agency).distinct().where(ContactRow.role == "focal")))
    return Outlook(today, [(d, n, a) for d, n, a in dates], overdue, last_due, focal, contacts,
                   len(owing - with_focal) if contacts else 0)
