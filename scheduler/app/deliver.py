"""Delivering what the ledger holds: claim → compose → send → mark, one (recipient, step) group at a time.

Each group becomes one email. Whatever goes wrong with one email — an address that cannot be put in
a header, a template error, a refusal by the server — is recorded on that group's rows with its
reason and never holds back the others. Between claims the loop checks `stopping`, so a daemon
asked to stop finishes the batch in hand and claims no more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy.engine import Engine

from scheduler import metrics
from scheduler.notify.ladder import DIGEST
from scheduler.store.ledger import MAX_ATTEMPTS, claim, mark_failed, mark_sent, withdraw_closed
from scheduler.store.tables import NotificationRow
from scheduler.transport import Transport, TransportError

log = logging.getLogger("scheduler")

# Composes one group's email; raises whatever it raises (caught and recorded per group).
Composer = Callable[[Sequence[NotificationRow], str, dt.datetime], EmailMessage]


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
            report: TickReport, stopping: threading.Event | None = None) -> None:
    """Send everything claimable at `now`, batch by batch, until nothing is left or `stopping` is set."""
    while not (stopping is not None and stopping.is_set()):
        rows = claim(engine, now)
        if not rows:
            return
        live = withdraw_closed(engine, rows)
        report.withdrawn += len(rows) - len(live)
        groups, messages = [], []
        for group in groups_of(live):
            try:
                messages.append(composer(group, message_id(group, domain), now))
                groups.append(group)
            except Exception as error:  # noqa: BLE001 - one email that cannot be written must not stop the others
                reason = f"cannot compose the email: {error.__class__.__name__}: {error}"
                _failed(engine, group, now, TransportError(reason, transient=False), report, kind="compose")
        deliveries = asyncio.run(transport.deliver(messages)) if messages else []
        for group, delivery in zip(groups, deliveries, strict=True):
            if delivery.error is None:
                report.emails += 1
                report.emails_sent += 1
                mark_sent(engine, group, now, delivery.message["Message-ID"])
                metrics.emails_sent.labels(group[0].step).inc()
                report.sent += len(group)
            else:
                _failed(engine, group, now, delivery.error, report)


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
