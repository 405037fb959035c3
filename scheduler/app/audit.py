"""The record's audit: verify the hash chain of the events (scheduler/store/chain.py), and read its
head for the digest and the reports."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from scheduler.store import chain
from scheduler.store.db import StoreError, shown


def verify(engine: Engine, anchors: dict[int, str] | None = None) -> chain.Verdict:
    """Recompute the whole chain in one read transaction (a consistent snapshot on PostgreSQL),
    checking the `anchors` (link number: hash, as a digest or a report printed them) on the way."""
    try:
        with engine.connect() as connection:
            return chain.verify(connection, anchors)
    except StoreError:
        raise
    except Exception as error:  # noqa: BLE001 — a database fault, named with the database
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            raise StoreError(f"{shown(engine)}: cannot read the event log: {error.__class__.__name__}: "
                             f"{(str(error).splitlines() or [''])[0]}") from error
        raise


def head(engine: Engine) -> chain.Head:
    """The chain's head as stored: what the digest and the reports print."""
    with engine.connect() as connection:
        return chain.head(connection)
