"""Tokens of other systems for the API (`/api/v1/`): add one (printed once, only its SHA-256 kept),
list them, revoke one. Each token has a role — observer, reviewer, or agency:CODE — and is scoped as
a person of that role is on the pages. Adding and revoking are admin events, links of the record's
hash chain, written in the same transaction as the token's row.

A token reads `sch_` and 43 characters of URL-safe base64 (256 random bits): the prefix lets secret
scanners and people tell it from other credentials."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from scheduler.errors import BadInput
from scheduler.plan.suggest import did_you_mean, unknown_agency
from scheduler.store import chain
from scheduler.store.db import StoreError, session
from scheduler.store.ledger import as_utc, aware
from scheduler.store.tables import AdminEventRow, ApiTokenRow

PREFIX = "sch_"
ROLES = ("observer", "reviewer", "agency")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ADD, REVOKE = "token-add", "token-revoke"
USE_NOTED = dt.timedelta(minutes=1)  # how often a token's last use is written


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Role:
    role: str  # observer | reviewer | agency
    agency: str | None = None

    def __str__(self) -> str:
        return f"agency:{self.agency}" if self.role == "agency" else self.role


def parse_role(text: str, plan) -> Role:
    """`observer`, `reviewer` or `agency:CODE` with a code of the plans loaded; BadInput otherwise."""
    text = (text or "").strip()
    kind, colon, code = text.partition(":")
    if kind == "agency" and colon:
        if not code:
            raise BadInput("--role agency:CODE needs the agency's code, e.g. agency:finance")
        if plan.agency(code) is None:
            raise BadInput(f"--role {text}: {unknown_agency(plan, code)}")
        return Role("agency", code)
    if kind in ("observer", "reviewer") and not colon:
        return Role(kind)
    hint = "" if kind == "agency" else did_you_mean(text, ("observer", "reviewer", "agency"))
    raise BadInput(f"--role {text!r} is not one of observer, reviewer, agency:CODE{hint}")


def _check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise BadInput(f"token name {name!r}: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter "
                       "or digit (e.g. the system's name: docflow, monitoring-2)")
    return name


def _log(db, action: str, name: str, details: dict, actor: str, now: dt.datetime) -> AdminEventRow:
    event = AdminEventRow(at=as_utc(now), actor=actor, action=action, subject=f"token:{name}",
                          details=json.dumps(details, ensure_ascii=False, sort_keys=True))
    db.add(event)
    db.flush()
    chain.append(db, event)  # a link of the record, in this transaction
    return event


def add(engine: Engine, plan, name: str, role: str, now: dt.datetime, actor: str = "operator") -> tuple[ApiTokenRow, str]:
    """A new token: (its row, the token itself, to be shown once). Refused (BadInput, nothing stored)
    for a bad name or role, an unknown agency, or a name already taken (revoked tokens keep theirs)."""
    _check_name(name)
    chosen = parse_role(role, plan)
    token = PREFIX + secrets.token_urlsafe(32)
    try:
        with session(engine) as db:
            existing = db.exec(select(ApiTokenRow).where(ApiTokenRow.name == name)).first()
            if existing is not None:
                raise _taken(existing)
            row = ApiTokenRow(name=name, token_hash=digest(token), role=chosen.role, agency=chosen.agency,
                              created_at=as_utc(now), created_by=actor)
            db.add(row)
            db.flush()
            _log(db, ADD, name, {"token": row.id, "name": name, "role": str(chosen)}, actor, now)
    except StoreError as error:
        if isinstance(error.__cause__, IntegrityError):  # another instance took the name meanwhile
            raise BadInput(f"a token named {name!r} already exists: choose another name") from None
        raise
    return row, token


def _taken(existing: ApiTokenRow) -> BadInput:
    state = (f"revoked {existing.revoked_at:%Y-%m-%d}" if existing.revoked_at is not None
             else f"role {Role(existing.role, existing.agency)}")
    return BadInput(f"a token named {existing.name!r} already exists ({state}): choose another name "
                    "(`scheduler tokens list` shows them)")


def listing(engine: Engine) -> list[ApiTokenRow]:
    with session(engine) as db:
        return list(db.exec(select(ApiTokenRow).order_by(ApiTokenRow.name)))


def revoke(engine: Engine, name: str, now: dt.datetime, actor: str = "operator") -> ApiTokenRow:
    """Revoke a token by name: it is refused from then on. BadInput (nothing changes) for an unknown
    name or one already revoked."""
    with session(engine) as db:
        row = db.exec(select(ApiTokenRow).where(ApiTokenRow.name == name).with_for_update()).first()
        if row is None:
            names = list(db.exec(select(ApiTokenRow.name)))
            raise BadInput(f"no token named {name!r}{did_you_mean(name, names)} (`scheduler tokens list` shows them)")
        if row.revoked_at is not None:
            raise BadInput(f"the token {name!r} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
        row.revoked_at = as_utc(now)
        db.add(row)
        db.flush()
        _log(db, REVOKE, name, {"token": row.id, "name": name}, actor, now)
    return row


def authenticate(engine: Engine, token: str, now: dt.datetime | None = None) -> ApiTokenRow | None:
    """The live token a request presents (by its hash), or None: unknown, altered or revoked. With
    `now`, its `last_used_at` is brought up to date (written at most once a minute)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    with session(engine) as db:
        row = db.exec(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest(token))).first()
        if row is None or row.revoked_at is not None:
            return None
        if now is not None and (row.last_used_at is None or as_utc(now) - aware(row.last_used_at) > USE_NOTED):
            row.last_used_at = as_utc(now)
            db.add(row)
    return row
