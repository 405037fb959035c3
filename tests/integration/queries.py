"""Reads the tests make of the store to check what pages and reports show."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import col, select

from scheduler.answers import LADDER_RUNS
from scheduler.store.db import session
from scheduler.store.tables import OccurrenceRow


def due_between(ctx, first: dt.date, last: dt.date) -> dict[dt.date, list[tuple[str, str, bool]]]:
    """Active occurrences due in [first, last] by day: (id, agency's short name, nothing owed:
    submitted, accepted or closed)."""
    with session(ctx.engine) as db:
        rows = db.exec(
            select(OccurrenceRow.id, OccurrenceRow.agency, OccurrenceRow.due, OccurrenceRow.state)
            .where(OccurrenceRow.status == "active", col(OccurrenceRow.due).between(first, last))
            .order_by(OccurrenceRow.due, OccurrenceRow.id)
        ).all()
    days: dict[dt.date, list[tuple[str, str, bool]]] = defaultdict(list)
    for oid, agency, due, state in rows:
        known = ctx.plan.agency(agency)
        days[due].append((oid, known.short_kk if known else agency, state not in LADDER_RUNS))
    return dict(days)
