"""The secretariat's users: admins, reviewers and observers (focal points, supervisors and heads come
from the contacts file). A user is never deleted: disabling keeps who acted in the records."""

from __future__ import annotations

import datetime as dt

from email_validator import EmailNotValidError
from sqlalchemy.engine import Engine
from sqlmodel import select

from scheduler.answers import STAFF_ROLES
from scheduler.errors import BadInput
from scheduler.i18n import LANGUAGES
from scheduler.plan.contacts import mailbox
from scheduler.store.db import session
from scheduler.store.ledger import as_utc
from scheduler.store.tables import UserRow


def _address(email: str, smtputf8: bool) -> str:
    try:
        return mailbox(email, smtputf8)
    except EmailNotValidError as error:
        raise BadInput(f"{email!r} is not an email address: {error}") from None


def add(engine: Engine, email: str, role: str, now: dt.datetime, smtputf8: bool = False,
        language: str | None = None) -> tuple[UserRow, bool]:
    """Add a user, or enable a disabled one again with `role` (and `language`, where given); returns
    (row, enabled again)."""
    if role not in STAFF_ROLES:
        raise BadInput(f"{email}: role {role!r} is not one of {', '.join(STAFF_ROLES)}")
    _check_language(email, language)
    address = _address(email, smtputf8)
    with session(engine) as db:
        row = db.exec(select(UserRow).where(UserRow.email == address)).first()
        if row is not None and row.disabled_at is None:
            raise BadInput(f"{address} is already a user ({row.role})")
        again = row is not None
        if row is None:
            row = UserRow(email=address, role=role, created_at=as_utc(now), language=language)
        else:
            row.role, row.disabled_at = role, None
            row.language = language or row.language
        db.add(row)
    return row, again


def _check_language(email: str, language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise BadInput(f"{email}: language {language!r} is not one of {', '.join(LANGUAGES)}")


def set_language(engine: Engine, email: str, language: str) -> UserRow:
    """A user's own language, as she chose it (on her page, or `users language`)."""
    _check_language(email, language)
    address = _address(email, smtputf8=True)
    with session(engine) as db:
        row = db.exec(select(UserRow).where(UserRow.email == address)).first()
        if row is None:
            raise BadInput(f"{address}: no such user (`scheduler users list` shows them)")
        row.language = language
        db.add(row)
    return row


def listing(engine: Engine) -> list[UserRow]:
    with session(engine) as db:
        return list(db.exec(select(UserRow).order_by(UserRow.email)))


def disable(engine: Engine, email: str, now: dt.datetime) -> UserRow:
    address = _address(email, smtputf8=True)
    with session(engine) as db:
        row = db.exec(select(UserRow).where(UserRow.email == address)).first()
        if row is None:
            raise BadInput(f"{address}: no such user (`scheduler users list` shows them)")
        if row.disabled_at is not None:
            raise BadInput(f"{address}: already disabled")
        row.disabled_at = as_utc(now)
        db.add(row)
    return row
