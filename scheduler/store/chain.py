"""The record's hash chain: every event, and every admin event, is a link of ONE chain per database.

A link's hash is the SHA-256 of its canonical form, which includes the previous link's hash, so that
changing, deleting, inserting or reordering any row changes every hash after it. The canonical form
is a format (the manual describes it, anyone may recompute it), fixed here once; the migration that
chained the existing events uses it too, so it never changes:

    UTF-8 JSON, keys sorted, no spaces (separators "," and ":"), non-ASCII characters as they are:
    {"action", "actor", "at", "client", "details", "id", "prev", "seq", "table", "v": 1, and for an
     event "occurrence", "from", "to"; for an admin event "subject"}
    at: the UTC instant as "YYYY-MM-DDTHH:MM:SS.ffffffZ"; details: the stored JSON text as it is;
    prev: the previous link's hash (64 hex digits), "0" * 64 for the first; seq: 1, 2, 3 …

Appending happens in the writer's transaction (`append`): it locks the chain's head row (PostgreSQL:
SELECT … FOR UPDATE, so instances append one after another and their links never fork; SQLite has
a single writer), links the new row after the head, and moves the head. The head row names the last
link, so a deleted tail shows too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import String, bindparam, event, literal, null, type_coerce, union_all
from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

GENESIS = "0" * 64
VERSION = 1
EVENT, ADMIN_EVENT = "event", "admin_event"


def instant(at: dt.datetime | str) -> str:
    """A stored time as the canonical form writes it: UTC with microseconds (a naive time is UTC,
    as the store keeps it on SQLite, where it is read as the stored text; ValueError when that is
    not a time)."""
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(kind: str, fields: dict, seq: int, prev: str) -> bytes:
    """The canonical form of one link: `fields` are the row's columns (see the module)."""
    form = {"v": VERSION, "table": kind, "seq": seq, "prev": prev, "id": fields["id"], "at": instant(fields["at"]),
            "actor": fields["actor"], "action": fields["action"], "details": fields["details"],
            "client": fields["client"]}
    if kind == EVENT:
        form |= {"occurrence": fields["occurrence_id"], "from": fields["from_state"], "to": fields["to_state"]}
    else:
        form["subject"] = fields["subject"]
    return json.dumps(form, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def link_hash(kind: str, fields: dict, seq: int, prev: str) -> str:
    return hashlib.sha256(canonical(kind, fields, seq, prev)).hexdigest()


@dataclass(frozen=True)
class Head:
    seq: int  # the number of links
    hash: str
    kind: str | None  # the last link's table
    row_id: int | None  # and its id

    @property
    def short(self) -> str:
        return self.hash[:12]

    def label(self) -> str:
        """"#57 (event 41)": the last link, as messages and reports name it."""
        return "#0 (no event yet)" if self.row_id is None else f"#{self.seq} ({self.kind.replace('_', ' ')} {self.row_id})"


def _tables():
    from scheduler.store.tables import AdminEventRow, ChainHeadRow, EventRow

    return EventRow.__table__, AdminEventRow.__table__, ChainHeadRow.__table__


def head(connection: Connection) -> Head:
    """The chain's head as stored (a database without the head row: an empty chain)."""
    _, _, table = _tables()
    row = connection.execute(sa_select(table).where(table.c.id == 1)).first()
    if row is None:
        return Head(0, GENESIS, None, None)
    return Head(row.seq, row.hash, row.kind, row.row_id)


def append(db: Session, row) -> str:
    """Link `row` (an EventRow or AdminEventRow just flushed, so that it has its id) after the chain's
    head, in the caller's transaction; returns its hash."""
    kind = row.__tablename__
    _, _, table = _tables()
    connection = db.connection()
    current = connection.execute(sa_select(table.c.seq, table.c.hash).where(table.c.id == 1).with_for_update()).one()
    seq = current.seq + 1
    fields = {name: getattr(row, name) for name in ("id", "at", "actor", "action", "details", "client")}
    if kind == EVENT:
        fields |= {"occurrence_id": row.occurrence_id, "from_state": row.from_state, "to_state": row.to_state}
    else:
        fields["subject"] = row.subject
    digest = link_hash(kind, fields, seq, current.hash)
    row_table = row.__table__
    connection.execute(update(row_table).where(row_table.c.id == row.id)
                       .values(chain_seq=seq, prev_hash=current.hash, hash=digest))
    connection.execute(update(table).where(table.c.id == 1).values(seq=seq, hash=digest, kind=kind, row_id=row.id))
    for name, value in (("chain_seq", seq), ("prev_hash", current.hash), ("hash", digest)):
        set_committed_value(row, name, value)  # written above: not to be flushed again
    return digest


# --- a safety net: rows no writer linked are linked at commit ------------------------------------


@event.listens_for(Session, "before_flush")
def _collect(db, _context, _instances) -> None:
    from scheduler.store.tables import AdminEventRow, EventRow

    for row in db.new:
        if isinstance(row, (EventRow, AdminEventRow)):
            db.info.setdefault("chain_pending", []).append(row)


@event.listens_for(Session, "before_commit")
def _link_pending(db) -> None:
    """Every event row added through a session and not linked by its writer (`append`) is linked
    before the transaction commits, in the order added: a writer that forgets cannot leave a row
    outside the chain. (Rows inserted with Core statements are not seen: `verify` names them.)"""
    from scheduler.store.tables import AdminEventRow, EventRow

    if any(isinstance(row, (EventRow, AdminEventRow)) for row in db.new):
        db.flush()
    for row in db.info.pop("chain_pending", []):
        if row.chain_seq is None and row.id is not None and row in db:
            append(db, row)


@event.listens_for(Session, "after_soft_rollback")
def _forget(db, _transaction) -> None:
    db.info.pop("chain_pending", None)


# --- verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first link that does not match: which row, and why."""

    kind: str
    row_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        if self.row_id is None:
            return f"link #{self.seq}: {self.reason}" if self.seq is not None else self.reason
        where = f"{self.kind.replace('_', ' ')} {self.row_id}"
        return f"{where}{f' (#{self.seq})' if self.seq is not None else ''}: {self.reason}"


@dataclass(frozen=True)
class Verdict:
    count: int  # the links checked
    head: Head
    broken: Break | None
    seconds: float = 0.0


def _links(connection: Connection) -> Iterator:
    """Every link of both tables in chain order, unchained rows (no place in the chain) last."""
    event, admin, _ = _tables()
    columns = ("id", "actor", "action", "details", "client", "chain_seq", "prev_hash", "hash")
    # SQLite keeps a time as text, which a raw edit may have made anything: read as it is and parsed
    # link by link, so that a bad one is named, not a fault of the whole read
    raw = connection.dialect.name == "sqlite"

    def when(table):
        return type_coerce(table.c.at, String).label("at") if raw else table.c.at

    query = union_all(
        sa_select(literal(EVENT).label("kind"), when(event), *(event.c[c] for c in columns), event.c.occurrence_id,
                  event.c.from_state, event.c.to_state, null().label("subject")),
        sa_select(literal(ADMIN_EVENT).label("kind"), when(admin), *(admin.c[c] for c in columns), null().label("occurrence_id"),
                  null().label("from_state"), null().label("to_state"), admin.c.subject),
    ).subquery()
    ordered = sa_select(query).order_by(query.c.chain_seq.is_(None), query.c.chain_seq, query.c.kind, query.c.id)
    yield from connection.execution_options(yield_per=2000).execute(ordered)


def verify(connection: Connection, anchors: dict[int, str] | None = None) -> Verdict:
    """Recompute the chain from its first link: the number of links, the stored head, and the first
    link that does not match (None when the chain is intact). `anchors`: hashes (or their first
    characters) of links as printed elsewhere — a digest, a report — {link number: hash}: a link
    whose recomputed hash is not the one printed does not match either (the record was rewritten,
    hashes and all, after it was printed)."""
    anchors = {seq: given.lower() for seq, given in (anchors or {}).items()}
    started = time.perf_counter()
    stored = head(connection)
    previous = GENESIS
    count = 0
    broken = None
    last = None
    for row in _links(connection):
        fields = row._mapping
        if row.chain_seq is None:
            broken = Break(row.kind, row.id, None, "not in the chain (a row written without its link)")
            break
        expected = count + 1
        if row.chain_seq != expected:
            reason = (f"the chain skips from #{count} to #{row.chain_seq}: link #{expected} was deleted"
                      if row.chain_seq > expected else f"link #{row.chain_seq} appears twice")
            broken = Break(row.kind, row.id, row.chain_seq, reason)
            break
        if row.prev_hash != previous:
            broken = Break(row.kind, row.id, row.chain_seq,
                           f"its previous hash {str(row.prev_hash)[:12]}… is not that of link #{count} "
                           f"({previous[:12]}…): a row before it was changed, deleted or moved")
            break
        try:
            computed = link_hash(row.kind, fields, row.chain_seq, previous)
        except (ValueError, TypeError) as error:
            broken = Break(row.kind, row.id, row.chain_seq, f"a column cannot be read ({error}): the row was changed")
            break
        if computed != row.hash:
            broken = Break(row.kind, row.id, row.chain_seq,
                           f"its content does not match its hash (stored {str(row.hash)[:12]}…, computed "
                           f"{computed[:12]}…): the row was changed")
            break
        if expected in anchors and not computed.startswith(anchors[expected]):
            broken = Break(row.kind, row.id, row.chain_seq,
                           f"its hash is {computed[:12]}…, not {anchors[expected][:12]}… as printed: the record was "
                           "rewritten after that was printed")
            break
        previous, count, last = computed, expected, row
    if broken is None and anchors and max(anchors) > count:
        broken = Break(last.kind if last is not None else EVENT, None, max(anchors),
                       f"link #{max(anchors)} was printed, but the chain ends at #{count}: links were deleted")
    if broken is None:
        if stored.seq != count or stored.hash != previous:
            named = stored.label() if stored.row_id is not None else f"#{stored.seq}"
            if stored.seq > count:
                reason = (f"the head names {named} but the chain ends at #{count}: "
                          f"the last {stored.seq - count} link(s) were deleted")
            else:
                reason = f"the head names {named} ({stored.hash[:12]}…) but the chain ends at #{count} ({previous[:12]}…)"
            broken = Break(last.kind if last is not None else EVENT, stored.row_id, stored.seq, reason)
        elif last is not None and (stored.kind, stored.row_id) != (last.kind, last.id):
            broken = Break(last.kind, last.id, count, f"the head names {stored.label()}, not this last link")
    return Verdict(count, Head(count, previous, last.kind if last else None, last.id if last else None),
                   broken, time.perf_counter() - started)


def chain_existing(connection: Connection, event, head_table, batch: int = 5000) -> Head:
    """Link every unchained row of the event log in order of id, after the head (the migration's
    one pass over an existing database; `event` and `head_table` are the migration's own table
    objects, with the columns the canonical form reads); returns the new head."""
    current = connection.execute(sa_select(head_table.c.seq, head_table.c.hash).where(head_table.c.id == 1)).one()
    seq, previous, last_id = current.seq, current.hash, None
    statement = (update(event).where(event.c.id == bindparam("row_id"))
                 .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"), hash=bindparam("digest")))
    columns = (event.c.id, event.c.occurrence_id, event.c.at, event.c.actor, event.c.action, event.c.from_state,
               event.c.to_state, event.c.details, event.c.client)
    after = -1
    while True:  # a batch at a time, by id: memory follows the batch, not the log
        rows = connection.execute(sa_select(*columns).where(event.c.chain_seq.is_(None), event.c.id > after)
                                  .order_by(event.c.id).limit(batch)).all()
        if not rows:
            break
        pending = []
        for row in rows:
            seq += 1
            digest = link_hash(EVENT, row._mapping, seq, previous)
            pending.append({"row_id": row.id, "seq": seq, "prev": previous, "digest": digest})
            previous, last_id = digest, row.id
        connection.execute(statement, pending)
        after = rows[-1].id
    if last_id is not None:
        connection.execute(update(head_table).where(head_table.c.id == 1)
                           .values(seq=seq, hash=previous, kind=EVENT, row_id=last_id))
    return Head(seq, previous, EVENT, last_id) if last_id is not None else Head(current.seq, current.hash, None, None)
