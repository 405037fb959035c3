"""Sending the webhooks' outbox: claim what is due (scheduler/store/outbox.py), post each message
signed as Standard Webhooks says, store each attempt's outcome.

Each endpoint's messages go out in order on a thread of their own, so a slow or dead receiver holds
up only itself (never another endpoint, never the tick: the daemon runs this as its own job). A 2xx
is delivered; 410 Gone disables the endpoint; any other answer, or none, is tried again with
exponential backoff until a day after the event, then failed for good. Killed mid-send, a process
leaves claims that the next pass on the same machine takes at once (another machine's, once the
outbox's lease lapses): at least once."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from scheduler import metrics
from scheduler.app import webhooks
from scheduler.store import outbox
from scheduler.store.db import StoreError
from scheduler.store.ledger import aware
from scheduler.transport import webhook as transport
from scheduler.webhooks.events import next_attempt
from scheduler.webhooks.sign import headers

log = logging.getLogger("scheduler")
THREADS = 8  # endpoints served at once
SHARE = 20.0  # seconds of a pass one endpoint may take; what it has left goes out in the next pass
GONE = "gone"


@dataclass
class HookReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    disabled: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, outcome: str) -> None:
        metrics.webhook_attempts.labels(outcome).inc()
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def __str__(self) -> str:
        gone = f" disabled={len(self.disabled)}" if self.disabled else ""
        return f"webhooks sent={self.sent} retried={self.retried} failed={self.failed}{gone}"

    @property
    def busy(self) -> bool:
        return bool(self.sent or self.retried or self.failed or self.disabled)


def deliver(engine: Engine, now: dt.datetime, wall: Callable[[], dt.datetime],
            stopping: threading.Event | None = None) -> HookReport:
    """One pass: claim what is sendable at `now` and send it, endpoint by endpoint in parallel.
    `wall`: the lease clock (leases, and each message's webhook-timestamp, are real time)."""
    report = HookReport()
    try:
        released = outbox.release_dead(engine, wall())
    except StoreError as error:
        log.warning("webhook claims of stopped processes not looked for: %s", error)
    else:
        if released:
            log.info("%d webhook message(s) claimed by a process that stopped mid-send are sent now", released)
    while not (stopping is not None and stopping.is_set()):
        rows = outbox.claim(engine, now, wall(), outbox.CLAIM_BATCH)
        if not rows:
            break
        by_endpoint: dict[int, list] = defaultdict(list)
        for row in rows:
            by_endpoint[row.endpoint_id].append(row)
        found = outbox.endpoints(engine, list(by_endpoint))
        with ThreadPoolExecutor(max_workers=min(THREADS, len(by_endpoint)), thread_name_prefix="webhook") as pool:
            for endpoint_id, claimed in by_endpoint.items():
                pool.submit(_endpoint, engine, found[endpoint_id], claimed, now, wall, stopping, report)
        if len(rows) < outbox.CLAIM_BATCH:
            break
    if report.busy:
        log.info("%s", report)
    return report


def _endpoint(engine, endpoint, rows, now, wall, stopping, report: HookReport) -> None:
    """An endpoint's claimed messages, in order, until one fails (the rest wait for its retry: a
    receiver that is down costs one timeout a pass, not one per message) or the endpoint's share of
    the pass (`SHARE`) is spent (the rest go out in the next pass)."""
    started = time.monotonic()
    try:
        with transport.Client(endpoint.url) as http:
            for index, row in enumerate(rows):
                if stopping is not None and stopping.is_set():
                    return  # the claim lapses; the next process sends the rest
                if time.monotonic() - started > SHARE:
                    outbox.release(engine, rows[index:], now)
                    return
                if not outbox.hold(engine, row, wall()):
                    continue  # taken over meanwhile, or dropped
                outcome = _send(engine, http, endpoint, row, now, wall, report)
                if outcome is GONE:
                    return
                if outcome is not None:  # failed: the rest are tried with it
                    outbox.release(engine, rows[index + 1:], outcome)
                    return
    except Exception:  # a bug must not take the other endpoints' thread pool down; logged with its traceback
        log.exception("webhook delivery to %s crashed", endpoint.url)


def _send(engine, http, endpoint, row, now, wall, report: HookReport):
    """One attempt: None when delivered, GONE when the endpoint answered 410 Gone (and is now
    disabled), else when the endpoint is to be tried again (now, when this message failed for good)."""
    stamp = int(wall().timestamp())
    status = error = None
    try:
        answer = http.post(headers(endpoint.secret, row.message_id, stamp, row.body), row.body)
        status, took = answer.status, answer.duration_ms
    except transport.WebhookError as failure:
        error, took = str(failure), failure.duration_ms
    if status is not None and 200 <= status < 300:
        outbox.outcome(engine, row, now, status, None, took, "sent")
        report.add("sent", "sent")
        return None
    if status == 410:
        outbox.outcome(engine, row, now, status, "410 Gone: the endpoint was disabled", took, "failed")
        webhooks.disable(engine, endpoint.id, now, f"{endpoint.url} answered 410 Gone")
        log.warning("webhook endpoint %s answered 410 Gone: disabled", endpoint.url)
        report.add("failed", "gone")
        report.disabled.append(endpoint.url)
        return GONE
    why = error or f"HTTP {status}"
    later = next_attempt(aware(row.created_at), row.attempts + 1, now)
    log.info("webhook %s to %s: %s", row.message_id, endpoint.url, why)
    if later is None:
        outbox.outcome(engine, row, now, status, f"gave up after {row.attempts + 1} attempts: {why}", took, "failed")
        report.add("failed", "failed")
        return now
    outbox.outcome(engine, row, now, status, why, took, "retry", later)
    report.add("retried", "retry")
    return later
