"""The local admin of a first run: on loopback with no admin credential configured, `run` prints a
one-time sign-in URL (as notebook servers do) instead of leaving the dashboard shut.

The local admin is the user `admin@localhost` with the admin role, added on first need and named so
in every event it records. Its URL is a one-time sign-in link (the `sign_in` table, as the sign-in
page's links are) good for LASTS of real time (also when `run --clock` replays the past), and
lands on the dashboard; each start prints a new one. Nothing of this happens when a
credential is configured or the server listens beyond loopback.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy.engine import Engine
from sqlmodel import select

from scheduler.answers.machine import ADMIN
from scheduler.app.signin import PATH, digest
from scheduler.store.db import session
from scheduler.store.ledger import as_utc
from scheduler.store.tables import SignInRow, UserRow

EMAIL = "admin@localhost"
LASTS = dt.timedelta(hours=12)


def sign_in_url(engine: Engine, base_url: str, now: dt.datetime) -> str:
    """A fresh one-time URL that signs the local admin in; the user is added (or enabled) first."""
    moment = as_utc(now)
    token = secrets.token_urlsafe(32)
    with session(engine) as db:
        user = db.exec(select(UserRow).where(UserRow.email == EMAIL)).first()
        if user is None:
            db.add(UserRow(email=EMAIL, role=ADMIN, created_at=moment))
        elif user.disabled_at is not None or user.role != ADMIN:
            user.role, user.disabled_at = ADMIN, None
            db.add(user)
        db.add(SignInRow(id_hash=digest(token), email=EMAIL, created_at=moment, expires_at=moment + LASTS,
                         client="run"))
    return f"{base_url}{PATH}{token}?next=%2F"  # signed in, the local admin lands on the dashboard
