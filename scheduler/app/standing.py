"""What the operator's `status` and `compliance` commands (and the daemon's metrics) read: the
deadlines per body by how soon they fall, the emails that failed for good, the compliance table."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import col, select

from scheduler import report
from scheduler.answers import ANSWERED, CLOSED
from scheduler.app.context import Context
from scheduler.store.db import session
from scheduler.store.ledger import as_utc
from scheduler.store.tables import NotificationRow, OccurrenceRow, SubmissionRow


def compliance(ctx: Context, year: int, now: dt.datetime, lang: str = "kk") -> list[report.AgencyCompliance]:
    """The compliance table of occurrences due in `year` (active ones, not closed), as of `now`.
    An answer counts while submitted or accepted; a returned one is owed again. Each body is
    named in `lang` as on the nominal date of its last deadline of the year, as the dashboard
    names it (`report.body_name`)."""
    with session(ctx.engine) as db:
        rows = db.exec(
            select(OccurrenceRow.agency, OccurrenceRow.nominal_due, OccurrenceRow.due, OccurrenceRow.state,
                   SubmissionRow.submitted_at)
            .outerjoin(SubmissionRow, col(SubmissionRow.id) == col(OccurrenceRow.submission_id))
            .where(OccurrenceRow.status == "active", OccurrenceRow.state != CLOSED,
                   col(OccurrenceRow.due).between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
            .order_by(OccurrenceRow.due, OccurrenceRow.id)
        ).all()
    # Placeholders (named with no addressee) are listed, not counted.
    timing, plan = ctx.timing, ctx.plan
    counted = [row for row in rows if row[0] not in plan.placeholders]
    owed = [report.Owed(agency, due, timing.local_day(submitted) if state in ANSWERED and submitted else None)
            for agency, _nominal, due, state, submitted in counted]
    named_on = {agency: nominal for agency, nominal, *_rest in counted}  # the last one's, in due order
    names = {code: report.body_name(plan, code, day, lang) for code, day in named_on.items()}
    return report.compliance(owed, names, timing.local_day(now), ctx.calendar)


def undelivered(ctx: Context, now: dt.datetime, days: int = 30) -> list[tuple[str, str, str, str]]:
    """Emails of the last `days` that failed for good: (recipient, step, occurrences, why), one per email."""
    since = as_utc(now) - dt.timedelta(days=days)
    emails: dict[tuple[str, str, str | None], list] = {}
    with session(ctx.engine) as db:
        for row in db.exec(select(NotificationRow).where(NotificationRow.state == "failed",
                                                         col(NotificationRow.scheduled_at) >= since)
                           .order_by(NotificationRow.scheduled_at, NotificationRow.id)):
            emails.setdefault((row.recipient, row.step, row.error), []).append(row.occurrence_id)
    return [(recipient, step, ", ".join(ids), " ".join((error or "").split())[:200])
            for (recipient, step, error), ids in emails.items()]


def by_agency(ctx: Context, now: dt.datetime) -> list[tuple[str, int, int, int, int]]:
    """Per agency: overdue, due within 7 days, within 30 days, submitted (or accepted). A returned
    occurrence is owed again; a closed one is not counted."""
    today = ctx.timing.local_day(now)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    with session(ctx.engine) as db:
        rows = db.exec(
            select(OccurrenceRow.agency, OccurrenceRow.due, OccurrenceRow.state)
            .where(OccurrenceRow.status == "active", OccurrenceRow.state != CLOSED)
        ).all()
    for agency, due, state in rows:
        if agency in ctx.plan.placeholders:
            continue  # listed, not counted
        entry = counts[agency]
        if state in ANSWERED:
            entry[3] += 1
        elif due < today:
            entry[0] += 1
        elif due <= today + dt.timedelta(days=7):
            entry[1] += 1
        elif due <= today + dt.timedelta(days=30):
            entry[2] += 1
    return sorted(((a, *c) for a, c in counts.items()), key=lambda r: (-r[1], -r[2], r[0]))
