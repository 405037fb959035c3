"""Webhook endpoints: add one (its secret printed once), list them, remove one; and the outbox's
messages a state change makes (`record`), written in the transaction of its event.

Adding and removing are admin events, links of the record's hash chain, written in the same
transaction as the endpoint's row. Delivering is scheduler/app/hooks_deliver.py's."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scheduler.errors import BadInput
from scheduler.plan.suggest import did_you_mean
from scheduler.store import chain
from scheduler.store.db import session
from scheduler.store.outbox import drop_pending
from scheduler.store.ledger import as_utc
from scheduler.store.tables import (
    AdminEventRow,
    EventRow,
    OccurrenceRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
)
from scheduler.webhooks.events import TYPES, body, parse_events
from scheduler.webhooks.sign import new_secret

ADD, REMOVE, GONE = "webhook-add", "webhook-remove", "webhook-gone"


def check_url(url: str) -> str:
    """An http(s) URL with a host, at most 2000 characters; BadInput otherwise."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000 or any(c.isspace() for c in url):
        raise BadInput(f"webhook URL {url!r}: an http:// or https:// URL with a host, e.g. "
                       "https://docflow.example.gov.kz/hooks/scheduler")
    return url


def _log(db: Session, action: str, url: str, details: dict, actor: str, now: dt.datetime) -> AdminEventRow:
    event = AdminEventRow(at=as_utc(now), actor=actor, action=action, subject=f"webhook:{url}"[:200],
                          details=json.dumps(details, ensure_ascii=False, sort_keys=True))
    db.add(event)
    db.flush()
    chain.append(db, event)  # a link of the record, in this transaction
    return event


def _live(db: Session):
    return select(WebhookEndpointRow).where(WebhookEndpointRow.removed_at.is_(None))  # type: ignore[union-attr]


def add(engine: Engine, url: str, events: str, now: dt.datetime, actor: str = "operator") -> WebhookEndpointRow:
    """A new endpoint with its own secret (on the row: shown once by the caller). Refused (BadInput,
    nothing stored) for a bad URL, an unknown event type, or a URL already added and not removed."""
    url = check_url(url)
    types = parse_events(events)
    with session(engine) as db:
        if db.exec(_live(db).where(WebhookEndpointRow.url == url)).first() is not None:
            raise BadInput(f"the webhook {url} is already added: remove it first to change its events "
                           "(`scheduler webhooks list` shows them)")
        row = WebhookEndpointRow(url=url, secret=new_secret(), events=",".join(types), created_at=as_utc(now),
                                 created_by=actor)
        db.add(row)
        db.flush()
        _log(db, ADD, url, {"webhook": row.id, "url": url, "events": types}, actor, now)
    return row


def listing(engine: Engine) -> list[WebhookEndpointRow]:
    """Every endpoint, live, disabled or removed, in the order added."""
    with session(engine) as db:
        return list(db.exec(select(WebhookEndpointRow).order_by(WebhookEndpointRow.id)))


def remove(engine: Engine, url: str, now: dt.datetime, actor: str = "operator") -> WebhookEndpointRow:
    """Remove the endpoint at `url`: nothing more is sent to it, its pending messages are dropped.
    BadInput (nothing changes) for a URL not added."""
    url = (url or "").strip()
    with session(engine) as db:
        row = db.exec(_live(db).where(WebhookEndpointRow.url == url).with_for_update()).first()
        if row is None:
            urls = list(db.exec(select(WebhookEndpointRow.url).where(WebhookEndpointRow.removed_at.is_(None))))  # type: ignore[union-attr]
            raise BadInput(f"no webhook at {url!r}{did_you_mean(url, urls)} (`scheduler webhooks list` shows them)")
        row.removed_at = as_utc(now)
        db.add(row)
        db.flush()
        drop_pending(db, row.id, "the endpoint was removed")
        _log(db, REMOVE, url, {"webhook": row.id, "url": url}, actor, now)
    return row


def disable(engine: Engine, endpoint_id: int, now: dt.datetime, why: str) -> bool:
    """Disable an endpoint whose receiver answered 410 Gone: nothing more is sent to it, its messages
    not yet sent are dropped; an admin event says so. False when it was disabled already."""
    with session(engine) as db:
        row = db.exec(select(WebhookEndpointRow).where(WebhookEndpointRow.id == endpoint_id).with_for_update()).first()
        if row is None or row.disabled_at is not None:
            return False
        row.disabled_at, row.disabled_reason = as_utc(now), why
        db.add(row)
        db.flush()
        drop_pending(db, row.id, f"the endpoint was disabled: {why}")
        _log(db, GONE, row.url, {"webhook": row.id, "url": row.url, "reason": why}, "scheduler", now)
    return True


def record(db: Session, event: EventRow, occurrence: OccurrenceRow, values: dict, now: dt.datetime) -> int:
    """The outbox's messages telling of `event` (linked into the chain already), one per live endpoint
    that wants its type, in the caller's transaction: the event and its messages are written
    together or not at all. Returns how many."""
    event_type = TYPES.get(event.action)
    if event_type is None:
        return 0
    wanted = [e for e in db.exec(_live(db).where(WebhookEndpointRow.disabled_at.is_(None)))  # type: ignore[union-attr]
              if event_type in e.events.split(",")]
    if not wanted:
        return 0
    text = body(event_type, event, occurrence, values.get("version", occurrence.version), values.get("due", occurrence.due))
    for endpoint in wanted:
        db.add(WebhookDeliveryRow(endpoint_id=endpoint.id, event_id=event.id, message_id="msg_" + secrets.token_hex(16),
                                  type=event_type, body=text, created_at=as_utc(now), state="pending",
                                  next_attempt_at=as_utc(now)))
    db.flush()
    return len(wanted)


def recent(engine: Engine, limit: int = 100) -> list[tuple[WebhookDeliveryRow, str, int | None]]:
    """The latest deliveries, newest first: (delivery, its endpoint's URL, the last attempt's duration in ms)."""
    with session(engine) as db:
        rows = list(db.exec(select(WebhookDeliveryRow, WebhookEndpointRow.url)
                            .join(WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
                            .order_by(WebhookDeliveryRow.id.desc()).limit(limit)))  # type: ignore[union-attr]
        ids = [delivery.id for delivery, _ in rows]
        took: dict[int, int] = {}
        for attempt in db.exec(select(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id.in_(ids))  # type: ignore[attr-defined]
                               .order_by(WebhookAttemptRow.id)):
            took[attempt.delivery_id] = attempt.duration_ms
    return [(delivery, url, took.get(delivery.id)) for delivery, url in rows]
