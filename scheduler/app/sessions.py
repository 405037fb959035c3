"""Browsers signed in by a personal link: server-side sessions, revocable, with idle and absolute
timeouts. The browser holds 256 random bits in a cookie; the database keeps only their SHA-256, the
address, and the times. A session ends when it has been idle too long, at its absolute end, when the
person signs out, or when the person's links are revoked."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy.engine import Engine

from scheduler.store.db import session
from scheduler.store.ledger import as_utc, aware
from scheduler.store.tables import WebSessionRow

TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(engine: Engine, email: str, now: dt.datetime, lasts: dt.timedelta, client: str | None) -> str:
    """A new session for `email`; returns the token for the cookie (shown only now)."""
    token = secrets.token_urlsafe(32)
    with session(engine) as db:
        db.add(WebSessionRow(id_hash=digest(token), email=email.lower(), created_at=as_utc(now),
                             last_seen_at=as_utc(now), expires_at=as_utc(now) + lasts,
                             client=(client or "")[:64] or None))
    return token


def find(engine: Engine, token: str, now: dt.datetime, idle: dt.timedelta) -> WebSessionRow | None:
    """The live session of a cookie, its last_seen_at moved to `now`; None when there is none, it
    was revoked, or it timed out."""
    if not token or len(token) > 100:
        return None
    wanted = digest(token)
    moment = as_utc(now)
    with session(engine) as db:
        row = db.get(WebSessionRow, wanted)
        if row is None or not hmac.compare_digest(row.id_hash, wanted) or row.revoked_at is not None:
            return None
        if moment >= aware(row.expires_at) or moment >= aware(row.last_seen_at) + idle:
            return None
        if moment - aware(row.last_seen_at) >= TOUCH_EVERY:
            row.last_seen_at = moment
            db.add(row)
        db.flush()
        db.expunge(row)
        return row


def close(engine: Engine, token: str, now: dt.datetime) -> None:
    """Sign out: the session is revoked (kept, for the record)."""
    with session(engine) as db:
        row = db.get(WebSessionRow, digest(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = as_utc(now)
            db.add(row)
