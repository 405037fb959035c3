"""Delivering what the ledger holds: claim → compose → send → mark, one email per (recipient, step)
group, a batch of groups at a time, the next batch composed while the last one is sent.

Each group becomes one email. Whatever goes wrong with one email — an address that cannot be put in
a header, a template error, a refusal by the server — is recorded on that group's rows with its
reason and never holds back the others. Between claims the loop checks `stopping`, so a daemon
asked to stop finishes the batch in hand and claims no more.
"""

from __future__ import annotations

import asyncio
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

# Composes one group's email; raises whatever it raises (caught and recorded per group).
Composer = Callable[[Sequence[NotificationRow], str, dt.datetime], Message]
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


def deliver(engine: Engine, transport: Transport, composer: Composer, domain: str, now: dt.datetime,
            report: TickReport, stopping: threading.Event | None = None,
            compose_batch: BatchComposer | None = None) -> None:
    """Send everything claimable at `now`, batch by batch, until nothing is left or `stopping` is set.

    One event loop for the whole call, and the transport's connections kept open from batch to batch
    (`transport.session()`, where it has one). While one batch is being sent, the next is claimed
    (in a worker thread) and composed, each email joining the connections' queue as it is written;
    then the batch sent is marked (one statement, in the worker thread). `compose_batch` composes a
    batch's groups at once (one read of what they need); without it, `composer`, group by group."""
    if compose_batch is None:
        compose_batch = _one_by_one(composer)
    # The worker thread (the database) must not keep the loop from the SMTP replies: the interpreter's
    # default 5 ms between thread switches would stall every connection (4 round trips an email).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    try:
        asyncio.run(_deliver(engine, transport, compose_batch, domain, now, report, stopping))
    finally:
        sys.setswitchinterval(interval)


def _one_by_one(composer: Composer) -> BatchComposer:
    def compose_batch(groups, message_ids, now):
        for group, mid in zip(groups, message_ids, strict=True):
            try:
                yield composer(group, mid, now)
            except Exception as error:  # noqa: BLE001 - recorded on its group
                yield error

    return compose_batch


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
    opened = transport.session() if callable(getattr(transport, "session", None)) else _Plain(transport)
    async with opened as sender:
        sending: tuple[list, Awaitable[list[Delivery]]] | None = None
        limit = FIRST_CLAIM
        try:
            while True:
                batch = None
                if not (stopping is not None and stopping.is_set()):
                    batch = await _prepare(engine, sender, compose_batch, domain, now, report, limit)
                    limit = min(2 * limit, CLAIM_BATCH)
                if sending is not None:
                    groups, outcome = sending
                    sending = None
                    await asyncio.to_thread(_outcomes, engine, groups, await outcome, now, report)
                if batch is None:
                    return
                sending = batch
        finally:
            if sending is not None:  # a claim or a composition failed: what is on its way still goes, and is marked
                groups, outcome = sending
                await asyncio.to_thread(_outcomes, engine, groups, await outcome, now, report)


async def _prepare(engine: Engine, sender, compose_batch: BatchComposer, domain: str, now: dt.datetime,
                   report: TickReport, limit: int = CLAIM_BATCH) -> tuple[list, Awaitable[list[Delivery]]] | None:
    """Claim a batch (in a worker thread) and compose its emails, handing each to the transport as
    soon as it is written where the transport takes them so (`submit`: they join the queue its
    connections send from), else the batch's at once. Returns the groups and what their deliveries
    will be; None when nothing is left to claim.

    The batch's reads (with its first email) are made in the worker thread; the other emails are
    written on the loop, one at a time, the loop handed back to the connections between two. Written
    in a thread, they would hold the interpreter's lock for a thread switch interval at a time,
    while the server's replies wait; written so, a reply waits for one email at most, and the
    writing fills the time the connections spend waiting for the server."""
    rows, live = await asyncio.to_thread(_claim, engine, now, limit)
    if not rows:
        return None
    report.withdrawn += len(rows) - len(live)
    submit = getattr(sender, "submit", None)
    room = getattr(sender, "room", None)
    groups, sent = [], []
    claimed = groups_of(live)
    if claimed and callable(getattr(sender, "open", None)):
        sender.open(len(claimed))
    ids = [message_id(group, domain) for group in claimed]
    emails = iter(compose_batch(claimed, ids, now) if claimed else ())
    first = await asyncio.to_thread(next, emails, None) if claimed else None
    for group, made in zip(claimed, itertools.chain([first], emails) if claimed else (), strict=True):
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


def _claim(engine: Engine, now: dt.datetime, limit: int = CLAIM_BATCH) -> tuple[list, list]:
    """A claimed batch, and what of it is still to send."""
    rows = claim(engine, now, limit)
    return rows, withdraw_closed(engine, rows) if rows else []


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
