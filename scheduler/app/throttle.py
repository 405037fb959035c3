"""What the throttles count, kept in the database (table `throttle_attempt`) so that every
instance sees the same count and a restart forgets nothing: one row per counted attempt, by
throttle (`purpose`: "login", "sign-in") and client address (`key`).

Append-only: each attempt inserts its own row and counts the rows of its window, so attempts never
conflict; the attempt that reaches the limit is marked, and the key is refused for a window from
the latest marked attempt. The count of one key is taken one attempt at a time (SQLite: the insert
holds the database's write lock until the commit; PostgreSQL: a transaction-scoped advisory lock on
the key), so exactly one attempt sees the limit reached. The rows are operational data, not the record: a row older than its throttle's window
counts for nothing, and `prune` deletes such rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete, func, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from scheduler.store.db import session
from scheduler.store.ledger import as_utc, aware
from scheduler.store.tables import ThrottleAttemptRow

KEY_LENGTH = 100  # a client address fits (IPv6: 45 characters); longer keys are cut


LOCK_SPACE = 0x7468726F  # "thro": the first key of the throttles' advisory locks (PostgreSQL)


def _key(key: str) -> str:
    return key[:KEY_LENGTH]


def _lock_key(purpose: str, key: str) -> int:
    """The second key of an advisory lock: a signed 32-bit hash of purpose and key."""
    digest = hashlib.sha256(f"{purpose}\0{_key(key)}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def refused_since(engine: Engine, purpose: str, key: str, since: dt.datetime) -> dt.datetime | None:
    """When `key` last reached the limit after `since`; None if it did not."""
    with session(engine) as db:
        latest = db.exec(select(func.max(ThrottleAttemptRow.at)).where(
            ThrottleAttemptRow.purpose == purpose, ThrottleAttemptRow.key == _key(key),
            ThrottleAttemptRow.at > as_utc(since), ThrottleAttemptRow.refused == True)).one()  # noqa: E712
    return aware(latest)


def record(engine: Engine, purpose: str, key: str, at: dt.datetime, since: dt.datetime, limit: int) -> int:
    """Counts an attempt of `key` at `at`; returns how many attempts after `since` it makes, itself
    included. From `limit` on, the attempt is marked as one that refuses the key."""
    with session(engine) as db:
        if engine.dialect.name == "postgresql":  # one attempt of a key at a time, until the commit
            db.exec(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                    params={"space": LOCK_SPACE, "key": _lock_key(purpose, key)})
        row = ThrottleAttemptRow(purpose=purpose, key=_key(key), at=as_utc(at))
        db.add(row)
        db.flush()  # SQLite: the insert takes the write lock first, so the count below is this attempt's
        count = db.exec(select(func.count()).select_from(ThrottleAttemptRow).where(
            ThrottleAttemptRow.purpose == purpose, ThrottleAttemptRow.key == row.key,
            ThrottleAttemptRow.at > as_utc(since))).one()
        if count >= limit:
            row.refused = True
    return count


def prune(engine: Engine, purpose: str, before: dt.datetime) -> int:
    """Deletes the attempts of `purpose` at `before` or earlier (out of every window); how many."""
    with session(engine) as db:
        return db.exec(delete(ThrottleAttemptRow).where(ThrottleAttemptRow.purpose == purpose,
                                                        ThrottleAttemptRow.at <= as_utc(before))).rowcount
