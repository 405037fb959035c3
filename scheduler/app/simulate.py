"""`scheduler simulate`: the timeline of every notification over a span, sending nothing.

What the ledger already holds for the span is shown as it stands (sent, skipped, failed, waiting to
be retried…); what is still to come is planned the way ticks at each day's send time would plan it,
given the submissions and the ledger. So a span that was partly ticked shows both what went out and
what will. Notices (the emails that answer events cause, scheduler/app/notices.py) are shown as the
ledger holds them, under their kind, at the event's time or when they went out; they are never
forecast, since the events that cause them cannot be foreseen, and they do not touch the ladder's.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from scheduler.notify.ladder import OpenOccurrence, Planned, plan_digest, plan_notifications
from scheduler.store.db import session
from scheduler.store.ledger import as_utc, open_occurrences, recorded_keys
from scheduler.store.tables import NotificationRow

TO_SEND = "to send"


class Forecast(NamedTuple):
    at: dt.datetime  # when it went out (sent), or its planned instant
    planned: Planned
    state: str  # a ledger state (sent, skipped, failed, retry, pending, claimed, withdrawn) or "to send"


def simulate(ctx, start: dt.date, end: dt.date) -> list[Forecast]:
    timing = ctx.timing
    first_window = timing.open_window(timing.instant(start))
    last_window = timing.open_window(timing.instant(end))
    span = (as_utc(timing.instant(start - dt.timedelta(days=1))), as_utc(timing.instant(end + dt.timedelta(days=1))))
    with session(ctx.engine) as db:
        everything = open_occurrences(db, first_window[0], last_window[1])
        recorded = recorded_keys(db, [o.id for o in everything])
        table = NotificationRow.__table__.c
        recorded |= {
            tuple(row) for row in db.connection().execute(
                sa_select(table.occurrence_id, table.step, table.recipient, table.due).where(table.occurrence_id.like("digest:%"))
            )
        }
        history = list(db.exec(
            select(NotificationRow).where(col(NotificationRow.scheduled_at).between(*span)).order_by(NotificationRow.id)
        ))
        directory = ctx.directory(db)
    timeline = [
        Forecast(row.sent_at or row.scheduled_at, Planned(
            row.occurrence_id, row.step, row.recipient, row.name, row.language, row.agency, row.due, row.scheduled_at,
            row.state in ("sent", "pending", "claimed", "retry"), row.reason or row.error), row.state)
        for row in history
        if start <= timing.local_day(row.scheduled_at) <= end
    ]
    day = start
    while day <= end:
        now = timing.instant(day)
        low, high = timing.open_window(now)
        todays: list[OpenOccurrence] = [o for o in everything if low <= o.due <= high]
        planned = plan_notifications(todays, directory, timing, recorded, now) + plan_digest(directory, timing, recorded, now)
        recorded |= {(p.occurrence_id, p.step, p.email.lower(), p.due) for p in planned}
        timeline += [Forecast(now, p, TO_SEND) for p in planned if p.send]
        day += dt.timedelta(days=1)
    timeline.sort(key=lambda f: (f.at, f.planned.step, f.planned.email, f.planned.occurrence_id))
    return timeline
