"""Feed tokens: 192 random bits from `secrets`, shown once, stored as SHA-256, compared in constant
time, revocable. A token names its scope: one agency, one contact (every agency she is focal point
for) or the whole plan."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from sqlalchemy.engine import Engine
from sqlmodel import select

from scheduler.errors import BadInput
from scheduler.store.db import session
from scheduler.store.tables import FeedTokenRow

_TOKEN = re.compile(r"(?:^|/feeds/)([A-Za-z0-9_-]{32,})(?:\.ics)?/?$")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_from(text: str) -> str:
    """The token in a feed URL or the bare token; BadInput if neither."""
    match = _TOKEN.search(text.strip())
    if not match:
        raise BadInput(f"{text!r} is neither a feed token nor a feed URL (…/feeds/<token>.ics)")
    return match.group(1)


def issue(engine: Engine, now: dt.datetime, *, agency: str | None = None, email: str | None = None) -> str:
    scope = "agency" if agency else "contact" if email else "all"
    token = secrets.token_urlsafe(24)
    with session(engine) as db:
        db.add(FeedTokenRow(token_hash=digest(token), scope=scope, agency=agency, email=email and email.lower(), created_at=now))
    return token


def find(engine: Engine, token: str) -> FeedTokenRow | None:
    """The live token row, or None (unknown and revoked look the same to the caller)."""
    wanted = digest(token)
    with session(engine) as db:
        row = db.exec(select(FeedTokenRow).where(FeedTokenRow.token_hash == wanted)).first()
    # The index found the row by its hash; compare again in constant time before trusting it.
    if row is None or not hmac.compare_digest(row.token_hash, wanted) or row.revoked_at is not None:
        return None
    return row


def revoke(engine: Engine, token: str, now: dt.datetime) -> bool:
    with session(engine) as db:
        row = db.exec(select(FeedTokenRow).where(FeedTokenRow.token_hash == digest(token))).first()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now
        db.add(row)
    return True


def listing(engine: Engine) -> list[FeedTokenRow]:
    with session(engine) as db:
        return list(db.exec(select(FeedTokenRow).order_by(FeedTokenRow.id)))
