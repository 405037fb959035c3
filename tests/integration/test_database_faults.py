"""A tick whose PostgreSQL connection is ended by the server (pg_terminate_backend, as an
administrator or a failover would) at a chosen point: while planning, claiming, withdrawing,
reading a batch's deadlines, composing the digest, or marking emails sent. The work is tried again:
every email goes out exactly once, nothing is failed for good, nothing stays claimed."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from scheduler.app.tick import tick
from scheduler.store.db import session
from scheduler.store.tables import NotificationRow
from tests.integration.conftest import PG_ENV

ALMATY = ZoneInfo("Asia/Almaty")
NOW = dt.datetime(2022, 12, 12, 9, 0, tzinfo=ALMATY)  # a Monday: reminders, escalations and the digest

# The first statement of each phase, as SQLAlchemy writes it for PostgreSQL.
PHASES = {
    "planning": r"^INSERT INTO notification ",
    "claiming": r"(?s)^WITH groups AS .*UPDATE notification SET state=.*claim_token=",
    "withdrawing": r"^SELECT occurrence\.id, occurrence\.status, occurrence\.state, occurrence\.due",
    "reading the deadlines": r"^SELECT occurrence\.id, occurrence\.obligation, ",
    "composing the digest": r"^SELECT min\(notification\.sent_at\)",
    "marking": r"^UPDATE notification SET state = 'sent'",
}


class Terminator:
    """Ends the server process behind the connection about to run a matching statement (`times`
    times), from a connection of its own, and waits until it is gone: the statement then meets a
    closed connection, as it would after an administrator's pg_terminate_backend."""

    def __init__(self, engine, admin_url: str, pattern: str, times: int = 1):
        self.pattern, self.left, self.done = re.compile(pattern), times, 0
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        event.listen(engine, "before_cursor_execute", self.before)

    def before(self, connection, cursor, statement, parameters, context, executemany):
        if self.left and self.pattern.search(statement):
            self.left -= 1
            pid = connection.connection.dbapi_connection.info.backend_pid
            with self.admin.connect() as own:
                assert own.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()
            self.done += 1


def emails_by_id(mailbox) -> Counter:
    return Counter(m["Message-ID"] for m in mailbox.messages)


def ledger_states(engine) -> Counter:
    with session(engine) as db:
        return Counter(r.state for r in db.exec(NotificationRow.__table__.select()).all())


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_a_connection_ended_by_the_server_is_tried_again(phase, postgres_url, smtp_server, make_service, caplog):
    import os

    service = make_service(postgres_url, smtp_server)
    terminator = Terminator(service.engine, os.environ[PG_ENV], PHASES[phase])
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        report = tick(service, NOW)
    assert terminator.done == 1, f"the {phase} statement ran"
    assert report.errors == [], report.errors
    assert any("database fault during" in r.getMessage() for r in caplog.records), "the fault is logged"
    states = ledger_states(service.engine)
    assert set(states) <= {"sent", "skipped"}, states  # nothing claimed, failed or left to retry
    delivered = emails_by_id(smtp_server.mailbox)
    assert delivered and max(delivered.values()) == 1, "each email once"
    with session(service.engine) as db:
        marked = {r.message_id for r in db.exec(NotificationRow.__table__.select()).all() if r.state == "sent"}
    assert marked == set(delivered), "what went out is what is marked sent"
    assert report.emails_sent == len(delivered) and any(m["X-Scheduler-Step"] == "digest" for m in smtp_server.mailbox.messages)


def test_a_connection_ended_again_and_again_during_a_tick(postgres_url, smtp_server, make_service):
    """One statement in seven, drawn at random (the same draw every run), meets a connection the
    server has just ended."""
    import os
    import random

    service = make_service(postgres_url, smtp_server)
    admin = create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
    draw = random.Random(94)
    count = {"n": 0}

    @event.listens_for(service.engine, "before_cursor_execute")
    def now_and_then(connection, cursor, statement, parameters, context, executemany):
        if draw.random() < 1 / 7:
            count["n"] += 1
            pid = connection.connection.dbapi_connection.info.backend_pid
            with admin.connect() as own:
                own.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})

    report = tick(service, NOW)
    assert count["n"] >= 3, "connections were ended"
    assert report.errors == []
    assert set(ledger_states(service.engine)) <= {"sent", "skipped"}
    delivered = emails_by_id(smtp_server.mailbox)
    assert max(delivered.values()) == 1 and len(delivered) == report.emails_sent > 0


def test_a_statement_refused_for_good_is_not_tried_again(postgres_url):
    """Only faults that pass are tried again: a constraint the data breaks fails at once."""
    from sqlalchemy.exc import IntegrityError

    from scheduler.store.db import StoreError, connect, is_transient, migrate, retrying

    engine = connect(postgres_url)
    migrate(engine)
    tries = []

    def duplicate_key():
        tries.append(1)
        with session(engine) as db:
            db.connection().execute(text("INSERT INTO state (key, value) VALUES ('k', 'v'), ('k', 'w')"))

    with pytest.raises(StoreError) as raised:
        retrying("writing twice", duplicate_key, budget=10)
    assert len(tries) == 1 and isinstance(raised.value.__cause__, IntegrityError) and not is_transient(raised.value)
    assert make_url(postgres_url).database in str(engine.url)
    engine.dispose()
