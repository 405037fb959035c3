"""Sign-in by an emailed one-time link: asked for on the sign-in page with an address, good once and
for SCHEDULER_SIGN_IN_MINUTES.

A token is 256 random bits; the database keeps only its SHA-256 (table `sign_in`), the address,
when it was asked for and by which client, when it ends and when it was used. Only a person — a
contact or an enabled user (`people.who`) — gets one, and at most PER_ADDRESS an hour; whoever asks
is told the same either way (the web layer does the asking after its answer has gone). Redeeming
marks the row used with an UPDATE that must change exactly one row, so of two clicks one signs in.
Opening the link only shows a page with a button (`check`); the button's POST redeems it, so a mail
scanner that fetches every link in a message does not use the link up before the person does.

`message` writes the email: in the person's language (her contact language; staff who are no
contact: Kazakh), with the link `<base>/s/<token>`, the time it ends and what to do if she did not
ask for it. `fingerprint` names an address in the log without showing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from scheduler.app import people
from scheduler.i18n import long_date
from scheduler.notify import compose
from scheduler.store.db import session
from scheduler.store.ledger import as_utc, aware
from scheduler.store.tables import SignInRow

PATH = "/s/"
PER_ADDRESS = 5  # links emailed to one address within WINDOW
PER_CLIENT = 30  # requests from one client address within WINDOW (any address, known or not)
WINDOW = dt.timedelta(hours=1)
LANGUAGES = ("kk", "ru", "en")



class SignInRefused(Exception):
    """A sign-in link that must show nothing: `status` 403 (never issued) or 410 (expired, used)."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status, self.why = status, why


@dataclass(frozen=True)
class Issued:
    person: people.Person
    token: str  # shown only now: the email carries it, the database its hash
    expires: dt.datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(key: bytes, email: str) -> str:
    """A short keyed hash of an address: the same address gives the same mark in the log, and the
    mark cannot be checked against a list of guessed addresses without the key."""
    return hmac.new(key, b"sign-in address:" + email.strip().lower().encode(), hashlib.sha256).hexdigest()[:12]


def plausible(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain) and len(email) <= 320 and not any(c.isspace() for c in email)


def issue(engine: Engine, email: str, now: dt.datetime, lasts: dt.timedelta, client: str | None) -> Issued | str:
    """A one-time token for the person at `email`, or why there is none: "unknown" (no contact or
    enabled user has it) or "throttled" (PER_ADDRESS already asked for within WINDOW)."""
    address = email.strip().lower()
    person = people.who(engine, address)
    if person is None:
        return "unknown"
    moment = as_utc(now)
    with session(engine) as db:
        recent = db.exec(select(func.count()).select_from(SignInRow).where(
            SignInRow.email == address, SignInRow.created_at > moment - WINDOW)).one()
        if recent >= PER_ADDRESS:
            return "throttled"
        token = secrets.token_urlsafe(32)
        db.add(SignInRow(id_hash=digest(token), email=address, created_at=moment, expires_at=moment + lasts,
                         client=(client or "")[:64] or None))
    return Issued(person, token, moment + lasts)


def _live(db, token: str, now: dt.datetime) -> SignInRow:
    """The row of a token that is good now; SignInRefused otherwise."""
    if not token or len(token) > 100:
        raise SignInRefused(403, "altered")
    wanted = digest(token)
    row = db.get(SignInRow, wanted)
    if row is None or not hmac.compare_digest(row.id_hash, wanted):
        raise SignInRefused(403, "altered")
    if row.used_at is not None:
        raise SignInRefused(410, "used")
    if as_utc(now) >= aware(row.expires_at):
        raise SignInRefused(410, "expired")
    return row


def check(engine: Engine, token: str, now: dt.datetime) -> str:
    """The address a good token would sign in, leaving it unused (the confirmation page: a mail
    scanner that opens the link must not use it up); SignInRefused otherwise."""
    with session(engine) as db:
        return _live(db, token, now).email


def redeem(engine: Engine, token: str, now: dt.datetime) -> str:
    """The address a good token signs in, the token used up; SignInRefused otherwise."""
    with session(engine) as db:
        row = _live(db, token, now)
        email, wanted = row.email, row.id_hash
        db.expunge(row)
        marked = db.exec(update(SignInRow).where(SignInRow.id_hash == wanted, SignInRow.used_at == None)  # noqa: E711
                         .values(used_at=as_utc(now)))
        if marked.rowcount != 1:  # another click got there first
            raise SignInRefused(410, "used")
    return email


def message(issued: Issued, base_url: str, sender: str, zone: ZoneInfo, now: dt.datetime, *,
            sender_name: str | None = None, reply_to: str | None = None, query: str = "") -> EmailMessage:
    """The email that carries the link, in the person's language (`email/sign-in.j2` through the
    `email` catalog); From with `sender_name` when given, Reply-To `reply_to` when given; `query`
    (`?next=…`, already checked) goes on the link: where the browser lands once signed in."""
    person = issued.person
    lang = person.language if person.language in LANGUAGES else "kk"
    ends = aware(issued.expires).astimezone(zone)
    name = " ".join(person.name.split()) if person.name.lower() != person.email else ""  # staff: no name but the address
    rendered = compose.render("sign-in", lang, {
        "url": f"{base_url}{PATH}{issued.token}{query}", "minutes": round((aware(issued.expires) - as_utc(now)).total_seconds() / 60),
        "time": ends.strftime("%H:%M"), "day": long_date(ends.date(), lang), "name": name, "lang": lang})
    return compose.envelope(compose.Recipient(person.email, name, lang), sender, sender_name, reply_to, rendered, now)
