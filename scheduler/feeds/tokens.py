"""Feed tokens: 192 random bits from `secrets`, shown once, stored as SHA-256, compared in constant
time, revocable. A token names its scope: one agency, one contact (every agency she is focal point
for) or the whole plan."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import logging
import os
import re
import secrets
import tempfile
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scheduler.errors import BadInput, SchedulerError
from scheduler.store.db import session
from scheduler.store.tables import FeedTokenRow

log = logging.getLogger("scheduler")
KEY_BYTES = 32
_HEX = re.compile(r"[0-9a-fA-F]*")
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

    Every instance of a deployment must read the same file, so that they mail the same links. A new
    key is written whole or not at all (a temporary file beside it, synced, then linked into place),
    so a full disk cannot leave half a key. A file that is empty or cut short nonetheless (a copy
    that failed, an older version's write) never served a link: it is made again, with a warning."""
    for _ in range(10):
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            _write_key(path, replace=False)
            continue
        except (OSError, UnicodeDecodeError) as error:
            raise SchedulerError(f"SCHEDULER_SECRET_KEY_FILE: cannot use {path}: {error}") from error
        if not _cut_short(text):
            if len(text) % 2 or not _HEX.fullmatch(text):
                raise SchedulerError(f"SCHEDULER_SECRET_KEY_FILE: {path} does not hold a key "
                                     f"({2 * KEY_BYTES} or more hexadecimal digits)")
            return bytes.fromhex(text)
        if _write_key(path, replace=True):
            log.warning("secret key file %s was empty or cut short (%d hex digits); made a new key", path, len(text))
    raise SchedulerError(f"SCHEDULER_SECRET_KEY_FILE: {path} keeps changing under this process")


def _cut_short(text: str) -> bool:
    """Fewer hexadecimal digits than a key has: what an interrupted write of a key leaves."""
    return len(text) < 2 * KEY_BYTES and _HEX.fullmatch(text) is not None


def _write_key(path: Path, *, replace: bool) -> bool:
    """A new key at `path`, unless another process got there first; True when this one did.

    `replace` puts it over a cut-short file, under a lock on that file, and only if the file is
    still the cut-short one (another process may have replaced it meanwhile)."""
    temporary = None
    try:
        from scheduler.folders import require_folder, under_default

        require_folder(path.parent, "SCHEDULER_SECRET_KEY_FILE", f"the key file {path.name}")
        if under_default(path.parent):  # the defaults' own var/: made by the first command that needs it
            path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)  # mode 0600
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            done = _replace_cut_short(path, temporary)
        else:
            try:
                os.link(temporary, path)  # atomic, and never over a key another process made first
                done = True
            except FileExistsError:
                done = False
        if done:
            _sync_directory(path.parent)
        return done
    except OSError as error:
        raise SchedulerError(f"SCHEDULER_SECRET_KEY_FILE: cannot write a key to {path}: {error}") from error
    finally:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def _replace_cut_short(path: Path, temporary: str) -> bool:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # gone meanwhile: the caller reads again
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            now_there = os.stat(path)
        except FileNotFoundError:
            return False
        held = os.fstat(descriptor)
        if (held.st_dev, held.st_ino) != (now_there.st_dev, now_there.st_ino):
            return False  # another process replaced it while this one waited for the lock
        if not _cut_short(os.read(descriptor, 4 * KEY_BYTES).decode("ascii", "replace").strip()):
            return False
        os.replace(temporary, path)
        return True
    finally:
        os.close(descriptor)  # releases the lock


def _sync_directory(directory: Path) -> None:
    """Make the new name durable too; some file systems cannot sync a directory, which is no error."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def contact_token(key: bytes, email: str) -> str:
    mac = hmac.digest(key, b"contact-feed:" + email.lower().encode(), "sha256")
    return base64.urlsafe_b64encode(mac[:24]).decode()


def contact_token_states(db: Session) -> dict[str, dt.datetime | None]:
    """Every contact feed token registered: its hash, and when it was revoked (None: it works)."""
    table = FeedTokenRow.__table__
    return dict(db.connection().execute(select(table.c.token_hash, table.c.revoked_at).where(table.c.scope == "contact")).all())


def ensure_contact_tokens(db: Session, key: bytes, emails, now: dt.datetime,
                          registered: dict[str, dt.datetime | None] | None = None) -> dict[str, str | None]:
    """The tokens of these addresses' own feeds, registered on first use, in the caller's
    transaction: one read of their rows (none where `registered`, what `contact_token_states` read,
    has them all), one insert of those never registered (several processes may mail the same
    person at once: a no-op where another got there first), one read of those. Lowercased addresses
    to their token, None where revoked."""
    tokens = {address: contact_token(key, address) for address in sorted({e.lower() for e in emails})}
    if not tokens:
        return {}
    hashes = {digest(token): address for address, token in tokens.items()}
    table = FeedTokenRow.__table__
    connection = db.connection()
    read = lambda wanted: dict(connection.execute(  # noqa: E731
        select(table.c.token_hash, table.c.revoked_at).where(table.c.token_hash.in_(wanted))).all())
    if registered is not None and all(h in registered for h in hashes):
        found = {h: registered[h] for h in hashes}
    else:
        found = read(sorted(hashes))
    missing = [h for h in hashes if h not in found]
    if missing:
        insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(FeedTokenRow)
        connection.execute(insert.on_conflict_do_nothing(index_elements=["token_hash"]), [
            {"token_hash": h, "scope": "contact", "email": hashes[h], "created_at": now} for h in missing])
        found.update(read(missing))
        if registered is not None:
            registered.update(found)
    return {address: token if found.get(digest(token), "absent") is None else None for address, token in tokens.items()}
