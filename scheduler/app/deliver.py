"""Delivering what the ledger holds: claim → compose → send → mark, one email per (recipient, step)
group, a batch of groups at a time, the next batch composed while the last one is sent.

Each group becomes one email. Whatever goes wrong with one email — an address that cannot be put in
a header, a template error, a refusal by the server — is recorded on that group's rows with its
reason and never holds back the others. Between claims the loop checks `stopping`, so a daemon
asked to stop finishes the batch in hand and claims no more.

What a crash can cost: each email is marked sent soon after the server took it (`_Marker`: a few
tens at a time, or after MARK_DELAY), so after a kill -9 at most those taken and not yet marked go
out again; the claims are short leases renewed while the process lives (`_Lease`), so what it had
claimed and not sent is taken over within `ledger.LEASE`. A database that drops its connections
meanwhile is waited for (`store.db.retrying`): claiming, composing's reads and marking are tried
again, and an email is never failed for good over a fault that passes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from scheduler import metrics
from scheduler.app import notices
from scheduler.notify.ladder import DIGEST
from scheduler.store.db import StoreError, is_transient, retrying
from scheduler.store.ledger import (CLAIM_BATCH, LEASE, MAX_ATTEMPTS, RENEW, claim, lease_clock, mark_failed,
                                    mark_sent_many, new_token, release_dead, renew, withdraw_closed)
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
    """One email per recipient and step (a digest per week); an agency's notices of every kind in
    one email (`notices.email_step`), as the claim takes them."""
    return row.recipient, notices.email_step(row.step), row.occurrence_id if row.step == DIGEST else None


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
            report: TickReport, stopping: threading.Event | None = None,
            clock: Callable[[], dt.datetime] = lease_clock) -> None:
    """Send everything claimable at `now`, batch by batch, until nothing is left or `stopping` is set.

    One event loop for the whole call, and the transport's connections kept open from batch to batch
    (`transport.session()`, where it has one). While one batch is written, each email joining the
    connections' queue as it is written, the next is claimed in a worker thread, and the emails the
    server has taken are marked sent (`_Marker`, in a worker thread too). `compose_batch` composes a
    batch's groups at once (one read of what they need). `clock`: the lease clock (the wall clock),
    read when claiming and renewing."""
    # The worker threads (the database) must not keep the loop from the SMTP replies: the interpreter's
    # default 5 ms between thread switches would stall every connection (4 round trips an email).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    try:
        asyncio.run(_deliver(engine, transport, compose_batch, domain, now, report, stopping, clock))
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


# Emails the server has taken are marked sent once this many wait, or MARK_DELAY seconds after the
# first of them was taken, whichever comes first; one marking at a time, which takes all that wait.
# A kill -9 can cost at most these (and the ones being marked): they go out again.
MARK_EVERY = 50
MARK_DELAY = 0.1
MARK_BUDGET = 120.0  # seconds a marking waits for a database that dropped its connections
CLAIM_BUDGET = 30.0  # and a claim (nothing is lost by giving up: the rows stay claimable)


class _Marker:
    """Outcomes (sent or failed) recorded in the ledger as they come, in small groups, in a worker
    thread: one marking runs at a time and the next takes everything that arrived meanwhile."""

    def __init__(self, engine: Engine, now: dt.datetime, report: TickReport):
        self.engine, self.now, self.report = engine, now, report
        self.waiting: list[tuple[Sequence[NotificationRow], Delivery, str | None]] = []
        self.running: asyncio.Future | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.error: BaseException | None = None
        self.closing = False  # `close` waits for the last marking: nothing waits for a timer any more

    def add(self, group: Sequence[NotificationRow], delivery: Delivery, kind: str | None = None) -> None:
        self.waiting.append((group, delivery, kind))
        self._soon()

    def _soon(self) -> None:
        """Start a marking when MARK_EVERY wait, or MARK_DELAY after the first of them arrived: at
        full speed each marking takes MARK_EVERY (one every few milliseconds would cost the loop
        more than the sending does)."""
        if len(self.waiting) >= MARK_EVERY or (self.closing and self.waiting):
            self._start()
        elif self.waiting and self.timer is None and self.running is None:
            self.timer = asyncio.get_running_loop().call_later(MARK_DELAY, self._start)

    def _start(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.running is not None or not self.waiting:
            return  # the marking under way takes what waits when it is done
        taken, self.waiting = self.waiting, []
        self.running = asyncio.ensure_future(asyncio.to_thread(_outcomes, self.engine, taken, self.now, self.report))
        self.running.add_done_callback(self._done)

    def _done(self, running: asyncio.Future) -> None:
        self.running = None
        if not running.cancelled() and running.exception() is not None and self.error is None:
            self.error = running.exception()
        self._soon()

    async def close(self) -> None:
        """Mark everything that waits; raise the first marking's error, if one failed for good."""
        self.closing = True
        self._start()
        while self.running is not None:
            await asyncio.wait([self.running])
            await asyncio.sleep(0)  # `_done` runs, and starts the next marking if anything waits
        if self.error is not None:
            raise self.error


class _Lease:
    """The claims this process holds, renewed every RENEW seconds while it delivers. Should renewing
    fail for so long that the lease may have lapsed (another process may take the claims over), no
    further email of them is written: `held` turns false."""

    MARGIN = 5.0  # seconds before the lease's end at which this process stops relying on it

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]):
        self.engine, self.clock = engine, clock
        self.tokens: list[str] = []
        self.good_until = time.monotonic() + LEASE.total_seconds() - self.MARGIN

    def hold(self, token: str, claimed_at: float) -> None:
        """A claim's own lease runs from when it was made: never later than the last renewal's."""
        self.tokens.append(token)
        self.good_until = min(self.good_until, claimed_at + LEASE.total_seconds() - self.MARGIN)

    def held(self) -> bool:
        return time.monotonic() < self.good_until

    async def keep(self) -> None:
        while True:
            await asyncio.sleep(RENEW.total_seconds())
            began = time.monotonic()
            try:
                await asyncio.to_thread(renew, self.engine, list(self.tokens), self.clock())
            except StoreError as error:
                log.warning("claims not renewed (tried again in %g s): %s", RENEW.total_seconds(), error)
                continue
            self.good_until = began + LEASE.total_seconds() - self.MARGIN


async def _deliver(engine: Engine, transport: Transport, compose_batch: BatchComposer, domain: str,
                   now: dt.datetime, report: TickReport, stopping: threading.Event | None,
                   clock: Callable[[], dt.datetime]) -> None:
    """Batch after batch: while one batch's emails are written and queued, the next batch is claimed
    and its reads made (`_claim_ahead`, in a worker thread), and each email the server takes is
    marked soon after (`_Marker`), so that the connections never wait for the database."""
    opened = transport.session() if callable(getattr(transport, "session", None)) else _Plain(transport)
    stopped = lambda: stopping is not None and stopping.is_set()  # noqa: E731
    loop = asyncio.get_running_loop()
    marker = _Marker(engine, now, report)
    lease = _Lease(engine, clock)
    renewing = asyncio.ensure_future(lease.keep())
    ahead = None
    await _release_dead(engine, clock)
    try:
        async with opened as sender:
            # Connections are opened as soon as a claim returns mail, while its first email is written.
            opening = (lambda count: loop.call_soon_threadsafe(sender.open, count)) if callable(getattr(sender, "open", None)) else None
            limit = FIRST_CLAIM
            claiming = lambda size: asyncio.ensure_future(asyncio.to_thread(  # noqa: E731
                _claim_ahead, engine, compose_batch, domain, now, size, clock, opening))
            ahead = None if stopped() else claiming(limit)
            while ahead is not None:
                claimed, ahead = await ahead, None
                if claimed is None:
                    break
                lease.hold(claimed.token, claimed.at)
                limit = min(2 * limit, CLAIM_BATCH)
                if not stopped():
                    ahead = claiming(limit)
                if not await _write(engine, sender, claimed, report, marker, lease):
                    log.warning("claims not renewed for %s: no further email written; what is left is sent once the "
                                "claims lapse", LEASE)
                    break
    finally:
        if ahead is not None:  # something failed meanwhile: a batch claimed ahead is left to its lease
            await asyncio.wait([ahead])
        try:
            await marker.close()  # what the server took is marked, whatever else went wrong
        finally:
            renewing.cancel()


async def _release_dead(engine: Engine, clock: Callable[[], dt.datetime]) -> None:
    """What a dead process of this machine had claimed (killed mid-tick) is taken now, not when its
    lease runs out; a database that does not answer leaves it to the lease."""
    try:
        released = await asyncio.to_thread(release_dead, engine, clock())
    except StoreError as error:
        log.warning("claims of stopped processes not looked for: %s", error)
        return
    if released:
        log.info("%d notification(s) claimed by a process that stopped mid-tick are sent now", released)


@dataclass
class _Claimed:
    """A claimed batch: its token and when it was claimed (monotonic), its rows, those still to send
    in (recipient, step) groups, and their emails (the first one written)."""

    token: str
    at: float
    rows: list
    live: list
    groups: list
    emails: Iterator
    first: object


def _claim_ahead(engine: Engine, compose_batch: BatchComposer, domain: str, now: dt.datetime, limit: int,
                 clock: Callable[[], dt.datetime], opening: Callable[[int], object] | None = None) -> _Claimed | None:
    """Claim a batch and write its first email (with the reads the batch's emails need); None when
    nothing is left to claim. Made in a worker thread."""
    at = time.monotonic()
    # One token for every try: a claim whose commit went through before its connection dropped is
    # found again under it, rather than left to lapse.
    token, tries = new_token(), []

    def claiming() -> list:
        tries.append(1)  # only a try after the first asks what the one before may have taken
        return claim(engine, now, limit, held_at=clock(), token=token, again=len(tries) > 1)

    rows = retrying("claiming notifications", claiming, CLAIM_BUDGET)
    if not rows:
        return None
    live = retrying("withdrawing answered notifications", lambda: withdraw_closed(engine, rows), CLAIM_BUDGET)
    groups = groups_of(live)
    if groups and opening is not None:
        opening(len(groups))
    ids = [message_id(group, domain) for group in groups]
    emails = iter(compose_batch(groups, ids, now) if groups else ())
    return _Claimed(rows[0].claim_token, at, rows, live, groups, emails, next(emails, None) if groups else None)


async def _write(engine: Engine, sender, claimed: _Claimed, report: TickReport, marker: _Marker, lease: _Lease) -> bool:
    """Write a claimed batch's emails, handing each to the transport as soon as it is written where
    the transport takes them so (`submit`: they join the queue its connections send from), else the
    batch's at once; each outcome goes to `marker` as it comes. False when the lease could no longer
    be relied on and writing stopped.

    The emails are written on the loop, one at a time, the loop handed back to the connections
    between two, and no more written than the connections can take next (`room`). Written in a
    thread, they would hold the interpreter's lock for a thread switch interval at a time while the
    server's replies wait; written so, a reply waits for one email at most, and the writing fills
    the time the connections spend waiting for the server."""
    report.withdrawn += len(claimed.rows) - len(claimed.live)
    submit = getattr(sender, "submit", None)
    room = getattr(sender, "room", None)
    groups, whole = [], []
    written = itertools.chain([claimed.first], claimed.emails) if claimed.groups else ()
    for group, made in zip(claimed.groups, written, strict=True):
        if not lease.held():
            return False
        if isinstance(made, Exception):  # one email that cannot be written must not stop the others
            marker.add(group, *_unwritten(made))
        elif submit is not None:
            submit(made).add_done_callback(lambda sent, group=group: marker.add(group, sent.result()))
        else:
            groups.append(group)
            whole.append(made)
        await (room() if room is not None else asyncio.sleep(0))
    if whole:
        for group, delivery in zip(groups, await sender.deliver(whole), strict=True):
            marker.add(group, delivery)
    return True


def _unwritten(error: Exception) -> tuple[Delivery, str]:
    """An email that could not be written: retried later when a database fault kept it from being
    read, failed for good otherwise (a template or an address that will not change)."""
    transient = is_transient(error)
    reason = f"cannot compose the email: {error.__class__.__name__}: {error}"
    return Delivery(None, TransportError(reason, transient=transient)), "transient" if transient else "compose"


def _outcomes(engine: Engine, outcomes: Sequence[tuple[Sequence[NotificationRow], Delivery, str | None]],
              now: dt.datetime, report: TickReport) -> None:
    """Record what became of a few emails: those sent in one statement, each failure on its group."""
    sent = []
    for group, delivery, kind in outcomes:
        if delivery.error is None:
            report.emails += 1
            report.emails_sent += 1
            sent.append((group, delivery.message["Message-ID"]))
            metrics.emails_sent.labels(group[0].step).inc()
            report.sent += len(group)
        else:
            _failed(engine, group, now, delivery.error, report, kind)
    retrying("marking emails sent", lambda: mark_sent_many(engine, sent, now), MARK_BUDGET)


def _failed(engine: Engine, group: Sequence[NotificationRow], now: dt.datetime, error: TransportError,
            report: TickReport, kind: str | None = None) -> None:
    first = group[0]
    report.emails += 1
    kind = kind or ("transient" if error.transient else "permanent")
    metrics.emails_failed.labels(first.step, kind).inc()
    retrying("recording a failed email", lambda: mark_failed(engine, group, now, str(error), error.transient), MARK_BUDGET)
    log.warning("delivery failed to=%s step=%s kind=%s error=%s", first.recipient, first.step, kind,
                " ".join(str(error).split()))
    report.errors.append(f"{first.recipient} ({first.step}): {error}")
    if error.transient and max(r.attempts for r in group) < MAX_ATTEMPTS:
        report.retrying += len(group)
    else:
        report.failed += len(group)
