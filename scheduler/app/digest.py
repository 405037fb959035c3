"""The coordinator's weekly digest: what it says, read from the store (rendered by
`scheduler.notify.compose.digest` through `templates/email/digest.j2`).

A digest that fits in a mail client whatever the backlog: counts per agency (overdue, due within
14 days, answers waiting for review, returned), the agencies most late first; the few most overdue
items and the next ones due, each linked to its page; links to the dashboard's filtered views;
undelivered emails and agencies without a focal point as counts with a few examples. Every list is
capped (the constants below) and every text cut to a length, so the email's size is bounded by
construction — a backlog of thousands of items makes it no longer than one of a hundred.

History from before the system started is summarised in one line, not listed: an occurrence still
open (never answered) that fell due before the day of the first ledger row this system meant to
send, and that no ledger row ever concerned (no reminder, escalation or notice), is counted there
and nowhere else. The start is read from the ledger itself: the day the first email was sent, or,
while none has been (the first tick, whose digest goes out with its first emails), today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from sqlalchemy import exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from scheduler.answers import LADDER_RUNS, OPEN, RETURNED, SUBMITTED
from scheduler.notify import items
from scheduler.notify.compose import DigestReport
from scheduler.store import chain
from scheduler.store.ledger import as_utc, aware
from scheduler.store.tables import ContactRow, NotificationRow, OccurrenceRow

if TYPE_CHECKING:
    from scheduler.app.context import Context

UPCOMING_DAYS = 14  # "due soon": today and the 13 days after
FAILURE_DAYS = 7  # undelivered emails of the last week
# The caps that bound the email's size.
TOP_OVERDUE = 15
TOP_UPCOMING = 10
MAX_AGENCIES = 60  # the shipped plan has 47 bodies
FAILURE_EXAMPLES = 5
WITHOUT_FOCAL_EXAMPLES = 8
TITLE_CHARS = 140
NAME_CHARS = 90
ERROR_CHARS = 160


def cut(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters (an ellipsis where it was cut)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def dashboard_url(base_url: str, language: str, **filters: str) -> str:
    """A filtered view of the dashboard: `/?agency=CODE&state=overdue&lang=ru`."""
    query = {k: v for k, v in filters.items() if v} | {"lang": language}
    return f"{base_url}/?{urlencode(query)}"


def occurrence_url(base_url: str, occurrence_id: str) -> str:
    return f"{base_url}/occurrences/{quote(occurrence_id, safe=':.-')}"


def started_on(db: Session, timing, now: dt.datetime) -> dt.date | None:
    """The local day this system started: its first email sent, or today while none was (see the module);
    None when the ledger is empty."""
    table = NotificationRow.__table__.c
    connection = db.connection()
    first = connection.execute(sa_select(func.min(table.sent_at))).scalar()
    if first is None:  # nothing sent yet: this is the first tick (its digest goes with the first emails)
        return timing.local_day(now) if connection.execute(sa_select(func.count()).select_from(NotificationRow.__table__)).scalar() else None
    return timing.local_day(aware(first))


@dataclass
class _Tally:
    """The open deadlines counted per body, the overdue and upcoming ones (due, id), the history
    before the system started, and the bodies that owe something."""

    counts: dict[str, dict] = field(default_factory=dict)
    overdue: list[tuple[dt.date, str]] = field(default_factory=list)
    upcoming: list[tuple[dt.date, str]] = field(default_factory=list)
    history: int = 0
    owing: set[str] = field(default_factory=set)


def _tally(db: Session, plan, today: dt.date, soon: dt.date, start: dt.date | None) -> _Tally:
    occurrence, ledger = OccurrenceRow.__table__.c, NotificationRow.__table__.c
    touched = exists().where(ledger.occurrence_id == occurrence.id)
    rows = db.connection().execute(
        sa_select(occurrence.id, occurrence.agency, occurrence.due, occurrence.state, touched.label("touched"))
        .where(occurrence.status == "active", occurrence.state.in_(sorted({*LADDER_RUNS, SUBMITTED})))
    ).all()
    tally = _Tally()
    placeholders = plan.placeholders  # listed on the pages, never mailed, not counted here
    for oid, agency, due, state, was_touched in rows:
        if agency in placeholders:
            continue
        entry = tally.counts.setdefault(agency, {"overdue": 0, "upcoming": 0, "review": 0, "returned": 0, "oldest": None})
        if state == SUBMITTED:
            entry["review"] += 1
            continue
        if state == RETURNED:
            entry["returned"] += 1
        if due < today:
            if state == OPEN and start is not None and due < start and not was_touched:
                tally.history += 1
                continue
            entry["overdue"] += 1
            entry["oldest"] = min(filter(None, (entry["oldest"], due)))
            tally.overdue.append((due, oid))
            tally.owing.add(agency)
        elif due <= soon:
            entry["upcoming"] += 1
            tally.upcoming.append((due, oid))
            tally.owing.add(agency)
    return tally


def _lines(ctx: Context, db: Session, chosen: list[tuple[dt.date, str]], language: str, today: dt.date) -> list[DigestReport.Line]:
    """The chosen deadlines as the digest lists them, each linked to its page."""
    plan, calendar, base = ctx.plan, ctx.timing.calendar, ctx.settings.public_base_url()
    ids = [oid for _, oid in chosen]
    found = {row.id: row for row in db.exec(select(OccurrenceRow).where(col(OccurrenceRow.id).in_(ids)))}
    result = []
    for oid in ids:
        item = items.item(plan, found[oid], language)
        item = replace(item, title=cut(item.title, TITLE_CHARS), agency_name=cut(item.agency_name, NAME_CHARS),
                       form=None, recipient_name=None)
        # late: in working days, as the ladder counts them; to come: in calendar days
        days = items.working_days_between(calendar, item.due, today) if item.due < today else (item.due - today).days
        result.append(DigestReport.Line(item, occurrence_url(base, oid), days))
    return result


def _failures(db: Session, since: dt.datetime) -> tuple[list, int]:
    """The emails that failed for good since `since` (one per recipient, step and error), and the
    steps skipped as too late."""
    ledger = NotificationRow.__table__.c
    failed = db.connection().execute(
        sa_select(ledger.recipient, ledger.step, ledger.error, func.max(ledger.scheduled_at).label("last"))
        .where(ledger.state == "failed", ledger.scheduled_at >= since)
        .group_by(ledger.recipient, ledger.step, ledger.error)
        .order_by(func.max(ledger.scheduled_at).desc(), ledger.recipient)
    ).all()
    skipped_late = db.connection().execute(
        sa_select(func.count()).select_from(NotificationRow.__table__).where(
            ledger.state == "skipped", ledger.reason.like("%late%"), ledger.scheduled_at >= since)
    ).scalar()
    return failed, skipped_late or 0


def report(ctx: Context, db: Session, now: dt.datetime, key: str, language: str) -> DigestReport:
    """This week's digest (`key`, "digest:2022-W48") in `language`, as of `now`."""
    timing, plan = ctx.timing, ctx.plan
    base = ctx.settings.public_base_url()
    today = timing.local_day(now)
    soon = today + dt.timedelta(days=UPCOMING_DAYS - 1)
    start = started_on(db, timing, now)
    tally = _tally(db, plan, today, soon, start)
    counts, overdue, upcoming = tally.counts, tally.overdue, tally.upcoming

    def name(code: str) -> str:
        return cut(plan.display_name(code, today, language, short=True) if plan.agency(code) else code, NAME_CHARS)

    agencies = sorted(
        (DigestReport.Agency(code, name(code), c["overdue"], c["upcoming"], c["review"], c["returned"], c["oldest"],
                             dashboard_url(base, language, agency=code, state="overdue" if c["overdue"] else ""))
         for code, c in counts.items() if c["overdue"] or c["upcoming"] or c["review"] or c["returned"]),
        key=lambda a: (-a.overdue, a.oldest or dt.date.max, -a.returned, -a.upcoming, -a.review, a.name.casefold()),
    )
    top_overdue = _lines(ctx, db, sorted(overdue)[:TOP_OVERDUE], language, today)
    top_upcoming = _lines(ctx, db, sorted(upcoming)[:TOP_UPCOMING], language, today)
    failed, skipped_late = _failures(db, as_utc(now) - dt.timedelta(days=FAILURE_DAYS))
    failures = [cut(f"{recipient} ({step}): {error or ''}", ERROR_CHARS)
                for recipient, step, error, _ in failed[:FAILURE_EXAMPLES]]
    focal = set(db.connection().execute(sa_select(ContactRow.__table__.c.agency).where(ContactRow.__table__.c.role == "focal")).scalars())
    without = sorted((name(code) for code in tally.owing - focal), key=str.casefold)
    history = tally.history

    return DigestReport(
        record=chain.head(db.connection()),  # so that an edit made after this email is provable from it
        week=key.removeprefix("digest:"),
        today=today,
        overdue=len(overdue),
        upcoming=len(upcoming),
        review=sum(c["review"] for c in counts.values()),
        returned=sum(c["returned"] for c in counts.values()),
        agencies=tuple(agencies[:MAX_AGENCIES]),
        agencies_more=max(0, len(agencies) - MAX_AGENCIES),
        top_overdue=tuple(top_overdue),
        top_upcoming=tuple(top_upcoming),
        failures=len(failed),
        failure_examples=tuple(failures),
        without_focal=len(without),
        without_focal_examples=tuple(without[:WITHOUT_FOCAL_EXAMPLES]),
        skipped_late=skipped_late,
        history=history,
        started=start,
        links=DigestReport.Links(
            dashboard=dashboard_url(base, language),
            overdue=dashboard_url(base, language, state="overdue"),
            # the next 14 days: this month's open deadlines, when they all fall in it
            upcoming=dashboard_url(base, language, state="open",
                                   month=today.strftime("%Y-%m") if soon.month == today.month else ""),
            review=dashboard_url(base, language, state="submitted"),
            returned=dashboard_url(base, language, state="returned"),
        ),
    )
