"""Delivering what the ledger holds: claim → compose → send → mark, one email per (recipient, step)
group, a batch of groups at a time, the next batch composed while the last one is sent.

Each group becomes one email. Whatever goes wrong with one email — an address that cannot be put in
a header, a template error, a refusal by the server — is recorded on that group's rows with its
reason and never holds back the others. Between claims the loop checks `stopping`, so a daemon
asked to stop finishes the batch in hand and claims no more.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from scheduler import metrics
from scheduler.notify.ladder import DIGEST
from scheduler.store.ledger import CLAIM_BATCH, MAX_ATTEMPTS, claim, mark_failed, mark_sent_many, withdraw_closed
from scheduler.store.tables import NotificationRow
from scheduler.transport import Delivery, Message, Transport, TransportError

log = logging.getLogger("scheduler")
# A tick's first claim is this many groups, each next one twice the last up to CLAIM_BATCH: the
# first emails go out soon, and instances started together share a small load.
FIRST_CLAIM = 50
SWITCH_INTERVAL = 0.0005  # seconds between thread switches while delivering (see `deliver`)

# Composes a batch's groups (with their Message-IDs): yields each group's email, in order, or the
# exception that kept it from being written (recorded on that group).
BatchComposer = Callable[[Sequence[Sequence[NotificationRow]], Sequence[str], dt.datetime], Iterator[Message | Exception]]


@dataclass
class TickReport:
    planned: int = 0
    skipped: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    withdrawn: int = 0
    emails: int = 0
    emails_sent: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        """Emails were attempted and not one was accepted."""
        return self.emails > 0 and self.emails_sent == 0

    def __str__(self) -> str:
        return (
            f"planned {self.planned}, skipped {self.skipped}; emails {self.emails}: "
            f"{self.sent} notifications sent, {self.retrying} to retry, {self.failed} failed, {self.withdrawn} withdrawn"
        )


def group_key(row: NotificationRow) -> tuple[str, str, str | None]:
    """One email per recipient and step (a digest per week)."""
    return row.recipient, row.step, row.occurrence_id if row.step == DIGEST else None


def groups_of(rows: Sequence[NotificationRow]) -> list[list[NotificationRow]]:
    found: dict[tuple, list[NotificationRow]] = {}
    for row in rows:
        found.setdefault(group_key(row), []).append(row)
    return list(found.values())


def message_id(rows: Sequence[NotificationRow], domain: str) -> str:
    """The same rows give the same Message-ID on every attempt, so a resend after an ambiguous failure
    (the server may have taken it before the connection broke) can be recognised as a duplicate."""
    ids = ",".join(str(r.id) for r in sorted(rows, key=lambda r: r.id))
    return f"<{hashlib.sha256(f'{rows[0].step}|{rows[0].recipient}|{ids}'.encode()).hexdigest()[:40]}@{domain}>"


def deliver(engine: Engine, transport: Transport, compose_batch: BatchComposer, domain: str, now: dt.datetime,
            report: TickReport, stopping: threading.Event | None = None) -> None:
    """Send everything claimable at `now`, batch by batch, until nothing is left or `stopping` is set.

    One event loop for the whole call, and the transport's connections kept open from batch to batch
    (`transport.session()`, where it has one). While one batch is written, each email joining the
    connections' queue as it is written, the next is claimed and the one before marked (one
    statement), each in a worker thread (`_deliver`). `compose_batch` composes a batch's groups at
    once (one read of what they need)."""
    # The worker threads (the database) must not keep the loop from the SMTP replies: the interpreter's
    # default 5 ms between thread switches would stall every connection (4 round trips an email).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    try:
        asyncio.run(_deliver(engine, transport, compose_batch, domain, now, report, stopping))
    finally:
        sys.setswitchinterval(interval)


class _Plain:
    """A transport without connections to keep: each batch handed to its `deliver` whole."""

    def __init__(self, transport: Transport):
        self.transport = transport

    async def __aenter__(self):
        return self.transport

    async def __aexit__(self, *exc) -> None:
        return None


async def _deliver(engine: Engine, transport: Transport, compose_batch: BatchComposer, domain: str,
                   now: dt.datetime, report: TickReport, stopping: threading.Event | None) -> None:
    """Batch after batch: while one batch's emails are written and queued, the next batch is claimed
    and its reads made (`_claim_ahead`, in a worker thread), and the batch before is marked (in a
    worker thread too), so that the connections never wait for the database between two batches."""
    opened = transport.session() if callable(getattr(transport, "session", None)) else _Plain(transport)
    stopped = lambda: stopping is not None and stopping.is_set()  # noqa: E731
    loop = asyncio.get_running_loop()
    async with opened as sender:
        # Connections are opened as soon as a claim returns mail, while its first email is written.
        opening = (lambda count: loop.call_soon_threadsafe(sender.open, count)) if callable(getattr(sender, "open", None)) else None
        sending: tuple[list, Awaitable[list[Delivery]]] | None = None
        marking: Awaitable[None] | None = None
        limit = FIRST_CLAIM
        ahead = None if stopped() else asyncio.ensure_future(
            asyncio.to_thread(_claim_ahead, engine, compose_batch, domain, now, limit, opening))
        try:
            while ahead is not None:
                claimed, ahead = await ahead, None
                if claimed is None:
                    break
                limit = min(2 * limit, CLAIM_BATCH)
                if not stopped():
                    ahead = asyncio.ensure_future(asyncio.to_thread(_claim_ahead, engine, compose_batch, domain, now, limit, opening))
                batch = await _write(engine, sender, claimed, now, report)
                if sending is not None:
                    marking = await _mark(engine, sending, marking, now, report)
                sending = batch
        finally:
            if ahead is not None:  # something failed meanwhile: a batch claimed ahead is left to its lease
                with contextlib.suppress(Exception):
                    await ahead
            if sending is not None:  # what is on its way still goes, and is marked
                marking = await _mark(engine, sending, marking, now, report)
            if marking is not None:
                await marking


async def _mark(engine: Engine, sending: tuple[list, Awaitable[list[Delivery]]], marking: Awaitable[None] | None,
                now: dt.datetime, report: TickReport) -> Awaitable[None]:
    """Once a batch's deliveries are known, mark them in a worker thread (after the batch before
    it): returns what to await for that."""
    groups, outcome = sending
    deliveries = await outcome
    if marking is not None:
        await marking
    return asyncio.ensure_future(asyncio.to_thread(_outcomes, engine, groups, deliveries, now, report))


@dataclass
class _Claimed:
    """A claimed batch: its rows, those still to send in (recipient, step) groups, and their emails
    (the first one written)."""

    rows: list
    live: list
    groups: list
    emails: Iterator
    first: object


def _claim_ahead(engine: Engine, compose_batch: BatchComposer, domain: str, now: dt.datetime,
                 limit: int, opening: Callable[[int], object] | None = None) -> _Claimed | None:
    """Claim a batch and write its first email (with the reads the batch's emails need); None when
    nothing is left to claim. Made in a worker thread."""
    rows = claim(engine, now, limit)
    if not rows:
        return None
    live = withdraw_closed(engine, rows)
    groups = groups_of(live)
    if groups and opening is not None:
        opening(len(groups))
    ids = [message_id(group, domain) for group in groups]
    emails = iter(compose_batch(groups, ids, now) if groups else ())
    return _Claimed(rows, live, groups, emails, next(emails, None) if groups else None)


async def _write(engine: Engine, sender, claimed: _Claimed, now: dt.datetime,
                 report: TickReport) -> tuple[list, Awaitable[list[Delivery]]]:
    """Write a claimed batch's emails, handing each to the transport as soon as it is written where
    the transport takes them so (`submit`: they join the queue its connections send from), else the
    batch's at once. Returns the groups and what their deliveries will be.

    The emails are written on the loop, one at a time, the loop handed back to the connections
    between two, and no more written than the connections can take next (`room`). Written in a
    thread, they would hold the interpreter's lock for a thread switch interval at a time while the
    server's replies wait; written so, a reply waits for one email at most, and the writing fills
    the time the connections spend waiting for the server."""
    report.withdrawn += len(claimed.rows) - len(claimed.live)
    submit = getattr(sender, "submit", None)
    room = getattr(sender, "room", None)
    groups, sent = [], []
    written = itertools.chain([claimed.first], claimed.emails) if claimed.groups else ()
    for group, made in zip(claimed.groups, written, strict=True):
        if isinstance(made, Exception):  # one email that cannot be written must not stop the others
            reason = f"cannot compose the email: {made.__class__.__name__}: {made}"
            _failed(engine, group, now, TransportError(reason, transient=False), report, kind="compose")
        else:
            sent.append(submit(made) if submit is not None else made)
            groups.append(group)
        await (room() if room is not None else asyncio.sleep(0))
    if submit is not None:
        return groups, asyncio.gather(*sent)
    return groups, asyncio.ensure_future(sender.deliver(sent)) if sent else _nothing()


async def _nothing() -> list[Delivery]:
    return []


def _outcomes(engine: Engine, groups: Sequence[Sequence[NotificationRow]], deliveries: Sequence[Delivery],
              now: dt.datetime, report: TickReport) -> None:
    sent = []
    for group, delivery in zip(groups, deliveries, strict=True):
        if delivery.error is None:
            report.emails += 1
            report.emails_sent += 1
            sent.append((group, delivery.message["Message-ID"]))
            metrics.emails_sent.labels(group[0].step).inc()
            report.sent += len(group)
        else:
            _failed(engine, group, now, delivery.error, report)
    mark_sent_many(engine, sent, now)


def _failed(engine: Engine, group: Sequence[NotificationRow], now: dt.datetime, error: TransportError,
            report: TickReport, kind: str | None = None) -> None:
    first = group[0]
    report.emails += 1
    kind = kind or ("transient" if error.transient else "permanent")
    metrics.emails_failed.labels(first.step, kind).inc()
    mark_failed(engine, group, now, str(error), error.transient)
    log.warning("delivery failed to=%s step=%s kind=%s error=%s", first.recipient, first.step, kind,
                " ".join(str(error).split()))
    report.errors.append(f"{first.recipient} ({first.step}): {error}")
    if error.transient and max(r.attempts for r in group) < MAX_ATTEMPTS:
        report.retrying += len(group)
    else:
        report.failed += len(group)
