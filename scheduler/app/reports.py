"""The consolidated implementation report from the store's answers.

Reads the occurrences due in a year (their effective `due`, an extension's if one stands) or every
occurrence of the plan, each with the submission in force (that of a returned answer too: the
report shows what was sent back), and turns them into the `Answer`s that
`scheduler.report.consolidated` takes: dates local to the plan's time zone. Occurrences that left
the plan (cancelled) are left out. Then the pure module builds the report and its writers make the
DOCX or XLSX; nothing here is written to the database.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from scheduler.plan import Plan
from scheduler.report import consolidated_docx, consolidated_xlsx
from scheduler.report.consolidated import LANGUAGES, Answer, Consolidated, consolidate
from scheduler.store import chain
from scheduler.store.db import session
from scheduler.store.ledger import aware
from scheduler.store.tables import OccurrenceRow, SubmissionRow

FORMATS = ("docx", "xlsx")
_WRITERS = {"docx": consolidated_docx.write, "xlsx": consolidated_xlsx.write}


def answers(engine: Engine, zone: ZoneInfo, year: int | None = None) -> list[Answer]:
    """One `Answer` per occurrence still in the plan, due in `year` (every one when None)."""
    query = (
        select(OccurrenceRow.id, OccurrenceRow.obligation, OccurrenceRow.agency, OccurrenceRow.period,
               OccurrenceRow.due, OccurrenceRow.state, SubmissionRow.submitted_at, SubmissionRow.ref,
               SubmissionRow.ref_date, SubmissionRow.text)
        .outerjoin(SubmissionRow, col(SubmissionRow.id) == col(OccurrenceRow.submission_id))
        .where(OccurrenceRow.status == "active")
        .order_by(OccurrenceRow.obligation, OccurrenceRow.agency, OccurrenceRow.due, OccurrenceRow.id)
    )
    if year is not None:
        query = query.where(col(OccurrenceRow.due).between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    with session(engine) as db:
        rows = db.exec(query).all()
    return [
        Answer(occurrence=oid, obligation=obligation, agency=agency, period=period, due=due, state=state,
               submitted_at=aware(submitted_at).astimezone(zone).date() if submitted_at is not None else None,
               ref=ref, ref_date=ref_date, text=text)
        for oid, obligation, agency, period, due, state, submitted_at, ref, ref_date, text in rows
    ]


def consolidated(engine: Engine, plan: Plan, zone: ZoneInfo, *, lang: str = "kk", year: int | None = None,
                 today: dt.date | None = None, plan_id: str | None = None) -> Consolidated:
    """The consolidated report over the store's answers due in `year` (the whole plan when None), in
    `lang` (kk or ru), as of `today` (an open answer due today or later is shown as not yet due).
    With several plans loaded, it is one plan's report: `plan_id`'s (KeyError when not loaded), else
    the home plan's."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: the consolidated report is written in {' or '.join(LANGUAGES)}")
    own = plan.member(plan_id)
    found = answers(engine, zone, year)
    if plan.members:
        found = [a for a in found if plan.plan_of(a.obligation) is own]
    with engine.connect() as connection:
        head = chain.head(connection)  # the record as the report is made: a later edit shows against it
    return consolidate(own, found, lang=lang, year=year, today=today, record=head)


def write(report: Consolidated, fmt: str) -> bytes:
    """The report as a DOCX or XLSX document."""
    if fmt not in _WRITERS:
        raise ValueError(f"format {fmt!r}: the consolidated report comes as {' or '.join(FORMATS)}")
    return _WRITERS[fmt](report)
