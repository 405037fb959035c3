"""Personal links: a signed, expiring, revocable credential for one person, carried by every email.

A link is `<base>/l/<token>`, the token `<payload>.<mac>` in URL-safe base64: the payload names the
person's address, when the link was minted and the person's link *generation*; the MAC is an
HMAC-SHA256 under a key derived from the deployment's secret key (SCHEDULER_SECRET_KEY_FILE), so
every instance mints and checks the same links and nothing is stored per link. A link is good for
SCHEDULER_LINK_DAYS after it was minted. `revoke` raises the person's generation (a row of
`person_link`), which makes every link minted before it stale, and ends the person's sessions.

Checking says which: altered (403: the MAC does not match, or the token is not one), expired (410),
revoked or for someone who is no longer a contact or user (410). Opening a good link signs the
browser in (`scheduler.app.sessions`); the link itself is then no longer needed in the address bar.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scheduler.store.db import session
from scheduler.store.ledger import as_utc
from scheduler.store.tables import PersonLinkRow, WebSessionRow

KEY_LABEL = b"scheduler personal links v1"
PATH = "/l/"
MAC_BYTES = 20  # 160 bits


class LinkRefused(Exception):
    """A link that must show nothing: `status` 403 (altered) or 410 (expired, revoked)."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status, self.why = status, why


@dataclass(frozen=True)
class Claim:
    email: str
    issued: dt.datetime
    generation: int


def key_from(secret_key: bytes) -> bytes:
    """The links' own key, derived from the deployment's key under a fixed label."""
    return hmac.new(secret_key, KEY_LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.digest(key, b"link:" + payload.encode(), "sha256")[:MAC_BYTES])


def mint(key: bytes, email: str, generation: int, issued: dt.datetime) -> str:
    payload = _b64(f"1|{email.lower()}|{int(as_utc(issued).timestamp())}|{generation}".encode())
    return f"{payload}.{_mac(key, payload)}"


def read(key: bytes, token: str, now: dt.datetime, valid: dt.timedelta) -> Claim:
    """What a token says, if its MAC holds and it has not expired; LinkRefused otherwise."""
    payload, dot, mac = token.partition(".")
    if not dot or not payload or not hmac.compare_digest(_mac(key, payload), mac):
        raise LinkRefused(403, "altered")
    try:
        version, email, issued, generation = _unb64(payload).decode("utf-8").split("|")
        claim = Claim(email, dt.datetime.fromtimestamp(int(issued), dt.timezone.utc), int(generation))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise LinkRefused(403, "altered") from None  # signed by us but not a link: never minted
    if version != "1":
        raise LinkRefused(403, "altered")
    if as_utc(now) >= claim.issued + valid:
        raise LinkRefused(410, "expired")
    return claim


def generation(db: Session, email: str) -> int:
    row = db.get(PersonLinkRow, email.lower())
    return row.generation if row is not None else 0


def revoked_generations(db: Session) -> dict[str, int]:
    """The generation of every address whose links were ever revoked (lowercased); 0 for any other."""
    return dict(db.exec(select(PersonLinkRow.email, PersonLinkRow.generation)).all())


def check(engine: Engine, key: bytes, token: str, now: dt.datetime, valid: dt.timedelta) -> Claim:
    """A good link's claim: signed, not expired, and of the person's present generation."""
    claim = read(key, token, now, valid)
    with session(engine) as db:
        if claim.generation != generation(db, claim.email):
            raise LinkRefused(410, "revoked")
    return claim


def url(base_url: str, key: bytes, db: Session, email: str, now: dt.datetime) -> str:
    """The person's link as of `now`, under the public base URL."""
    return f"{base_url}{PATH}{mint(key, email, generation(db, email), now)}"


def until(ctx, now: dt.datetime) -> dt.date:
    """The last day a personal link made at `now` is good for (`ctx`: the use cases' context)."""
    return ctx.timing.local_day(now + dt.timedelta(days=ctx.settings.link_days)) - dt.timedelta(days=1)


def personal_link(ctx, db: Session, email: str, now: dt.datetime) -> tuple[str, dt.date]:
    """The person's personal link as of `now`, and the last day it is good for."""
    return url(ctx.settings.public_base_url(), ctx.link_key(), db, email, now), until(ctx, now)


def revoke(engine: Engine, email: str, now: dt.datetime) -> tuple[int, int]:
    """Make every link of `email` minted so far stale and end its sessions: (new generation,
    sessions ended)."""
    address = email.lower()
    with session(engine) as db:
        insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(PersonLinkRow)
        table = PersonLinkRow.__table__
        db.exec(insert.values(email=address, generation=1, revoked_at=as_utc(now)).on_conflict_do_update(
            index_elements=["email"], set_={"generation": table.c.generation + 1, "revoked_at": as_utc(now)}))
        new = db.exec(select(PersonLinkRow.generation).where(PersonLinkRow.email == address)).one()
        ended = 0
        for row in db.exec(select(WebSessionRow).where(WebSessionRow.email == address, WebSessionRow.revoked_at == None)):  # noqa: E711
            row.revoked_at = as_utc(now)
            db.add(row)
            ended += 1
    return new, ended
