"""One pass of the daemon's work, given `now` (the caller reads the clock once): plan what is due
and record it in the ledger, in one transaction; then deliver what the ledger holds to send."""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel import Session

from scheduler import metrics
from scheduler.app import deliver as delivery
from scheduler.app.context import Context
from scheduler.app.deliver import TickReport
from scheduler.app.letters import compose_batch
from scheduler.notify.batch import Batch
from scheduler.notify.items import working_days_between
from scheduler.notify.ladder import OpenOccurrence, Planned, digest_key, plan_digest, plan_notifications
from scheduler.store.db import retrying, session
from scheduler.store.ledger import advance, open_occurrences, record, recorded_keys

log = logging.getLogger("scheduler")
PLAN_BUDGET = 60.0  # seconds a tick's planning waits for a database that dropped its connections

__all__ = ["TickReport", "deliver", "plan_and_record", "plan_due", "tick"]


def plan_due(ctx: Context, db: Session, now: dt.datetime) -> tuple[list[OpenOccurrence], list[Planned]]:
    """The occurrences with a step to plan by `now`, and the ledger rows to write for them.

    Steps before an occurrence's `next_step_at` are handled; a step planned twice (by two
    processes at once) is a no-op insert on the ledger's unique key. So only the digest's key
    is read from the ledger here."""
    timing = ctx.timing
    first, last = timing.open_window(now)
    occurrences = open_occurrences(db, first, last, step_due_by=now)
    directory = ctx.directory(db)
    planned = plan_notifications(occurrences, directory, timing, set(), now)
    week = digest_key(timing.digest_instant(now), timing)
    if week != ctx.digest_recorded:
        recorded = recorded_keys(db, [week])
        digest = plan_digest(directory, timing, recorded, now)
        if not digest:
            ctx.digest_recorded = week
        elif not digest[0].send:
            log.info("digest %s skipped: %s (now=%s)", week.removeprefix("digest:"), digest[0].reason, now.isoformat())
        planned += digest
    return occurrences, planned


def plan_and_record(ctx: Context, now: dt.datetime) -> tuple[list[OpenOccurrence], list[Planned]]:
    """A tick's first part, in one transaction: plan what is due by `now`, write it to the
    ledger, point each occurrence planned for at its next step."""
    def once() -> tuple[list[OpenOccurrence], list[Planned]]:
        with session(ctx.engine) as db:
            considered, planned = plan_due(ctx, db, now)
            record(db, planned)
            advance(db, considered, ctx.timing, now)
        return considered, planned

    # One transaction, and recording is idempotent (the ledger's unique key): tried again whole.
    return retrying("planning the tick", once, PLAN_BUDGET, ctx.stopping)


def tick(ctx: Context, now: dt.datetime) -> TickReport:
    report = TickReport()
    with metrics.tick_seconds.time():
        try:
            _, planned = plan_and_record(ctx, now)
            report.planned = sum(p.send for p in planned)
            report.skipped = len(planned) - report.planned
            deliver(ctx, now, report)
        except Exception:
            metrics.ticks.labels("error").inc()
            raise
    metrics.ticks.labels("ok").inc()
    # An idle tick (nothing planned, nothing sent or failed) is not worth a line a minute; the
    # first one is, to say that ticking has begun.
    busy = report.planned or report.skipped or report.emails or report.withdrawn or not ctx.ticked
    ctx.ticked = True
    log.log(logging.INFO if busy else logging.DEBUG, "tick now=%s %s", now.isoformat(), report)
    return report


def deliver(ctx: Context, now: dt.datetime, report: TickReport) -> None:
    """Send what the ledger holds to send by `now` (scheduler/app/deliver.py), composing each batch."""
    domain = ctx.settings.mail_from.rpartition("@")[2] or "localhost"
    # renderings shared by the tick's recipients
    shared = Batch(lambda earlier, later: working_days_between(ctx.timing.calendar, earlier, later))
    memo: dict[tuple, object] = {}  # and the deadlines as emails list them, the addresses by body and role
    delivery.deliver(ctx.engine, ctx.transport, lambda groups, ids, moment: compose_batch(ctx, groups, ids, moment, shared, memo),
                     domain, now, report, ctx.stopping, ctx.lease_clock)
