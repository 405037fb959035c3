"""Feed tokens: 192 random bits from `secrets`, shown once, stored as SHA-256, compared in constant
time, revocable. A token names its scope: one agency, one contact (every agency she is focal point
for) or the whole plan."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import select

from scheduler.errors import BadInput, SchedulerError
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


def revoke_id(engine: Engine, token_id: int, now: dt.datetime) -> bool:
    with session(engine) as db:
        row = db.get(FeedTokenRow, token_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now
        db.add(row)
    return True


def listing(engine: Engine) -> list[FeedTokenRow]:
    with session(engine) as db:
        return list(db.exec(select(FeedTokenRow).order_by(FeedTokenRow.id)))


def load_or_create_key(path: Path) -> bytes:
    """The server key for contacts' feed links: read from `path`, or made there (mode 0600) once.

    Every instance of a deployment must read the same file, so that they mail the same links."""
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return load_or_create_key(path)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        return load_or_create_key(path)
    except (OSError, ValueError) as error:
        raise SchedulerError(f"SCHEDULER_SECRET_KEY_FILE: cannot use {path}: {error}") from error
    if len(key) < 32:
        raise SchedulerError(f"SCHEDULER_SECRET_KEY_FILE: {path} holds fewer than 32 bytes of key")
    return key


def contact_token(key: bytes, email: str) -> str:
    mac = hmac.new(key, b"contact-feed:" + email.lower().encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def ensure_contact_token(engine: Engine, key: bytes, email: str, now: dt.datetime) -> str | None:
    """The token of `email`'s own feed, registered on first use; None once it has been revoked."""
    token = contact_token(key, email)
    wanted = digest(token)
    with session(engine) as db:
        # Several processes may mail the same person at once: the first insert wins, the rest are no-ops.
        insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(FeedTokenRow)
        db.exec(insert.values(token_hash=wanted, scope="contact", email=email.lower(), created_at=now)
                .on_conflict_do_nothing(index_elements=["token_hash"]))
        row = db.exec(select(FeedTokenRow).where(FeedTokenRow.token_hash == wanted)).first()
    return None if row.revoked_at is not None else token
