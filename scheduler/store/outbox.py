"""The webhooks' outbox: claiming messages for sending, and marking each attempt's outcome.

As the email ledger's (scheduler/store/ledger.py): a claim moves sendable rows — `pending`, `retry`
whose time has come, or `claimed` whose lease ran out (its process is gone) — to `claimed` under a
fresh token in one conditional UPDATE, so that several instances never send one message at once,
and what a killed process had claimed is sent by another (or itself, restarted): at once when the
dead process was of the same machine (`release_dead`), else once its lease lapses. The sender renews a row's lease just before sending it (`hold`), so a row that waited its
turn behind a slow receiver and was taken over meanwhile is not sent twice by the first claimer.
Every outcome is written only under the claim's token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine

from scheduler.store.db import session
from scheduler.store import ledger
from scheduler.store.ledger import as_utc, aware, new_token
from scheduler.store.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow

LEASE = dt.timedelta(seconds=30)  # three times one attempt's longest (scheduler/transport/webhook.py)
CLAIM_BATCH = 200


def claim(engine: Engine, now: dt.datetime, held_at: dt.datetime, limit: int = CLAIM_BATCH) -> list:
    """Take up to `limit` sendable rows (of live endpoints) for this process, oldest first; returns
    them as plain rows with their new token. `now`: the tick's instant (retries' times are on it);
    `held_at`: the lease clock's reading."""
    table = WebhookDeliveryRow.__table__
    c = table.c
    moment, held = as_utc(now), as_utc(held_at)
    sendable = or_(c.state == "pending",
                   and_(c.state == "retry", c.next_attempt_at <= moment),
                   and_(c.state == "claimed", c.lease_until < held))
    token = new_token()
    with session(engine) as db:
        chosen = sa_select(c.id).where(sendable).order_by(c.id).limit(limit).with_for_update(skip_locked=True)
        # The condition again on the UPDATE: a row another instance took meanwhile is not taken.
        rows = db.connection().execute(
            update(table).where(c.id.in_(chosen.scalar_subquery()), sendable)
            .values(state="claimed", claim_token=token, lease_until=held + LEASE)
            .returning(*table.c)).all()
    return sorted(rows, key=lambda row: row.id)


def release_dead(engine: Engine, held_at: dt.datetime) -> int:
    """What a process of this machine that is no longer running had claimed (killed mid-send) made
    sendable now, not when its lease runs out (scheduler/store/holders.py)."""
    return ledger.release_dead(engine, held_at, WebhookDeliveryRow.__table__)


def endpoints(engine: Engine, ids: Sequence[int]) -> dict[int, WebhookEndpointRow]:
    with session(engine) as db:
        found = db.connection().execute(sa_select(WebhookEndpointRow.__table__)
                                        .where(WebhookEndpointRow.__table__.c.id.in_(list(ids)))).all()
    return {row.id: row for row in found}


def hold(engine: Engine, row, held_at: dt.datetime) -> bool:
    """Renew the lease of one claimed row before sending it; False when it is no longer this claim's
    (its lease lapsed and another process took it, or its endpoint was removed)."""
    table = WebhookDeliveryRow.__table__
    with session(engine) as db:
        done = db.connection().execute(
            update(table).where(table.c.id == row.id, table.c.claim_token == row.claim_token, table.c.state == "claimed")
            .values(lease_until=as_utc(held_at) + LEASE, attempts=table.c.attempts + 1))
    return done.rowcount == 1


def outcome(engine: Engine, row, at: dt.datetime, status: int | None, error: str | None, duration_ms: int,
            state: str, next_attempt_at: dt.datetime | None = None) -> None:
    """An attempt's outcome: its row in `webhook_attempt`, and the delivery's new state (sent, retry,
    failed), under the claim's token, in one transaction."""
    table = WebhookDeliveryRow.__table__
    values: dict = {"state": state, "lease_until": None, "last_status": status, "last_error": error,
                    "next_attempt_at": as_utc(next_attempt_at) if next_attempt_at else None}
    if state == "sent":
        values["sent_at"] = as_utc(at)
    with session(engine) as db:
        db.add(WebhookAttemptRow(delivery_id=row.id, at=as_utc(at), status=status, error=error, duration_ms=duration_ms))
        db.connection().execute(update(table).where(table.c.id == row.id, table.c.claim_token == row.claim_token,
                                                    table.c.state == "claimed").values(**values))


def release(engine: Engine, rows: Sequence, at: dt.datetime) -> int:
    """Give back claimed rows not tried in this pass, to be sent from `at` on (no attempt counted):
    their endpoint failed just now, or its share of the pass is spent. Returns how many."""
    if not rows:
        return 0
    table = WebhookDeliveryRow.__table__
    with session(engine) as db:
        done = db.connection().execute(
            update(table).where(table.c.id.in_([r.id for r in rows]), table.c.claim_token == rows[0].claim_token,
                                table.c.state == "claimed")
            .values(state="retry", next_attempt_at=as_utc(at), lease_until=None))
    return done.rowcount


def drop_pending(db, endpoint_id: int, why: str) -> None:
    """Drop an endpoint's messages not yet sent (it was removed or disabled), in the caller's transaction."""
    table = WebhookDeliveryRow.__table__
    db.connection().execute(update(table).where(table.c.endpoint_id == endpoint_id,
                                                table.c.state.in_(("pending", "retry", "claimed")))
                            .values(state="dropped", last_error=why, lease_until=None))


def lapse_of_claims(engine: Engine) -> dt.datetime | None:
    table = WebhookDeliveryRow.__table__
    with session(engine) as db:
        found = db.connection().execute(sa_select(func.max(table.c.lease_until)).where(table.c.state == "claimed")).scalar()
    return aware(found)


def waiting(engine: Engine) -> int:
    """How many messages wait to be sent (pending, retry or claimed)."""
    table = WebhookDeliveryRow.__table__
    with session(engine) as db:
        return db.connection().execute(sa_select(func.count()).select_from(table)
                                       .where(table.c.state.in_(("pending", "retry", "claimed")))).scalar() or 0
