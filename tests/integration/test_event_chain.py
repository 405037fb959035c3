"""The record's hash chain on SQLite and PostgreSQL: every event a link, written with it; rows edited,
deleted, reordered or slipped in with raw SQL are named by `scheduler audit verify` (the installed
command, exit 1), the intact chain gives exit 0 with its count and head; a database migrated from
before the chain is chained once, in order; appends from several threads at once never fork it."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from scheduler.answers import Actor
from scheduler.app import answer
from scheduler.app import audit as record
from scheduler.app.digest import report as digest_report
from scheduler.notify.items import letterhead
from scheduler.store import chain
from scheduler.store.db import _config, exclusive
from tests.integration.test_delivery import at

AIGUL = Actor("aigul@minfin.example.kz", "focal", frozenset({"finance"}))


def audit_verify(database_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    command_path = shutil.which("scheduler", path=str(Path(sys.executable).parent)) or shutil.which("scheduler")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    return subprocess.run([command_path, "audit", "verify"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**env, "SCHEDULER_DATABASE_URL": database_url})


def some_events(service) -> list[int]:
    """Seven events over three occurrences, in a known order; their ids."""
    engine, timing = service.engine, service.timing
    answer.submit(engine, timing, "7:finance:2022", at=at(12, 9, 16), now=at(12, 9, 17), ref="12-3/45",
                  text="Ақпарат жіберілді — «толық»", actor=AIGUL)
    answer.act(engine, timing, "7:finance:2022", "return", now=at(12, 12), reason="the table is missing")
    answer.submit(engine, timing, "7:finance:2022", at=at(12, 13), now=at(12, 13), ref="12-3/46", actor=AIGUL)
    answer.act(engine, timing, "7:finance:2022", "accept", now=at(12, 14))
    answer.act(engine, timing, "7:mvd:2022", "extend", now=at(12, 1), until=dt.date(2022, 12, 30), reason="asked")
    answer.submit(engine, timing, "7:mvd:2022", at=at(12, 14, 10), now=at(12, 14, 10))
    answer.act(engine, timing, "7:mvd:2022", "close", now=at(12, 15), reason="not applicable")
    with service.engine.connect() as connection:
        return list(connection.execute(text("SELECT id FROM event ORDER BY chain_seq")).scalars())


@pytest.fixture
def chained(database_url, make_service):
    service = make_service(database_url)
    ids = some_events(service)
    yield service, ids
    service.engine.dispose()


def test_every_event_is_a_link_and_the_intact_chain_verifies(chained, database_url, tmp_path):
    service, ids = chained
    with service.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, chain_seq, prev_hash, hash FROM event ORDER BY chain_seq")).all()
        head = chain.head(connection)
    assert [r.chain_seq for r in rows] == list(range(1, 8)) and [r.id for r in rows] == sorted(ids)
    assert rows[0].prev_hash == chain.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    assert (head.seq, head.hash, head.kind, head.row_id) == (7, rows[-1].hash, "event", rows[-1].id)
    done = audit_verify(database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "chain intact: 7 link(s)" in done.stdout
    assert f"head: #7 (event {rows[-1].id}) {rows[-1].hash}" in done.stdout
    assert "Traceback" not in done.stderr


TAMPERING = {
    # what is done, with raw SQL                                    the link named first
    "edit the actor": ("UPDATE event SET actor = 'someone@else.kz' WHERE id = {3}", 3, "does not match its hash"),
    "edit the time": ("UPDATE event SET at = at - INTERVAL_ONE_DAY WHERE id = {2}", 2, "does not match its hash"),
    "edit the details": ("UPDATE event SET details = '{{\"reason\": \"other\"}}' WHERE id = {5}", 5, "does not match"),
    "edit its hash too": ("UPDATE event SET hash = '" + "a" * 64 + "' WHERE id = {4}", 4, "does not match"),
    "delete one": ("DELETE FROM event WHERE id = {3}", 4, "link #3 was deleted"),
    "delete the last": ("DELETE FROM event WHERE id = {7}", 7, "were deleted"),
    "swap two places": ("UPDATE event SET chain_seq = -1 WHERE id = {2}; UPDATE event SET chain_seq = 2 WHERE id = {3}; "
                        "UPDATE event SET chain_seq = 3 WHERE id = {2}", 3, "previous hash"),  # via -1: a unique index
    "swap two contents": ("UPDATE event SET details = CASE WHEN id = {5} THEN (SELECT details FROM event WHERE id = {6}) "
                          "ELSE (SELECT details FROM event WHERE id = {5}) END WHERE id IN ({5}, {6})", 5, "does not match"),
    "slip one in": ("INSERT INTO event (occurrence_id, at, actor, action, from_state, to_state, details) "
                    "SELECT occurrence_id, at, actor, action, from_state, to_state, details FROM event WHERE id = {1}",
                    None, "not in the chain"),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampering_names_the_first_broken_event(case, chained, database_url, tmp_path):
    service, ids = chained
    statement, named, reason = TAMPERING[case]
    postgres = service.engine.dialect.name == "postgresql"
    statement = statement.replace("at - INTERVAL_ONE_DAY", "at - INTERVAL '1 day'" if postgres
                                  else "'2022-12-01 00:00:00.000000'")
    by_place = {n: ids[n - 1] for n in range(1, 8)}
    with service.engine.begin() as connection:
        for part in statement.format(None, *[by_place[n] for n in range(1, 8)]).split("; "):
            connection.execute(text(part))
        slipped = connection.execute(text("SELECT max(id) FROM event")).scalar() if case == "slip one in" else None
    done = audit_verify(database_url, tmp_path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    expected_id = slipped if named is None else by_place[named]
    assert re.search(rf"first mismatch at event {expected_id}\b", done.stdout), done.stdout
    assert reason in done.stdout


def test_a_database_from_before_the_chain_is_chained_once_in_order(chained, database_url, tmp_path):
    service, ids = chained
    with service.engine.connect() as connection:
        before = connection.execute(text("SELECT id, chain_seq, hash FROM event ORDER BY id")).all()
    config = _config()
    with exclusive(service.engine, "test") as connection:  # back to the schema of before the chain
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    with service.engine.connect() as connection:
        assert "hash" not in {c for c in connection.execute(text("SELECT * FROM event")).keys()}
    from scheduler.store.db import migrate

    migrate(service.engine)  # chains them, in the order of their ids
    with service.engine.connect() as connection:
        after = connection.execute(text("SELECT id, chain_seq, hash FROM event ORDER BY id")).all()
    assert after == before  # the same links: the canonical form is the one the writers use
    done = audit_verify(database_url, tmp_path)
    assert done.returncode == 0 and "chain intact: 7 link(s)" in done.stdout, (done.stdout, done.stderr)
    migrate(service.engine)  # once: a second start changes nothing
    with service.engine.connect() as connection:
        assert connection.execute(text("SELECT id, chain_seq, hash FROM event ORDER BY id")).all() == before


def test_appends_from_several_writers_at_once_form_one_chain(database_url, make_service):
    service = make_service(database_url)
    engine, timing = service.engine, service.timing
    occurrences = ["7:finance:2022", "7:mvd:2022", "7:finance:2021", "7:mvd:2021"]
    errors: list[BaseException] = []

    def work(oid):
        try:
            for day in range(1, 6):
                answer.submit(engine, timing, oid, at=at(12, 10 + day), now=at(12, 10 + day))
                answer.act(engine, timing, oid, "return", now=at(12, 10 + day, 12), reason="again")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(oid,)) for oid in occurrences]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    verdict = record.verify(engine)
    assert verdict.broken is None and verdict.count == 40 == verdict.head.seq
    engine.dispose()


def test_the_digest_and_the_consolidated_report_print_the_head(chained):
    import io

    from docx import Document
    from openpyxl import load_workbook

    from scheduler.app import reports
    from scheduler.notify import compose
    from scheduler.store.db import session
    from tests.integration.test_digest import MONDAY, reparse

    service, ids = chained
    head = record.head(service.engine)
    assert head.seq == 7
    for language, words in (("kk", "№ 7 буынмен"), ("ru", "звеном № 7"), ("en", "link no. 7")):
        with session(service.engine) as db:
            report = digest_report(service, db, MONDAY, "digest:2024-W10", language)
        to = compose.Recipient("coordinator@mvd.example.kz", "Асқар Нұрланов", language)
        message = reparse(compose.digest(to, report, letterhead(service, language, MONDAY), MONDAY))
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert words in text and head.hash in text, text[-800:]
        assert words in html and head.hash in html
        assert "scheduler audit verify" in text
    for lang, words in (("kk", "№ 7 буынмен"), ("ru", "звеном № 7")):
        made = reports.consolidated(service.engine, service.plan, service.timing.zone, lang=lang, year=2022)
        assert words in made.record and head.hash in made.record
        document = Document(io.BytesIO(reports.write(made, "docx")))
        assert any(head.hash in p.text and words in p.text for p in document.paragraphs)
        sheet = load_workbook(io.BytesIO(reports.write(made, "xlsx"))).active
        assert any(isinstance(c.value, str) and head.hash in c.value for row in sheet.iter_rows() for c in row)


def test_an_event_row_its_writer_did_not_link_is_linked_at_commit(chained):
    """The safety net: a writer that adds an event through a session and forgets `chain.append`."""
    from scheduler.store.db import session
    from scheduler.store.tables import AdminEventRow, EventRow

    service, ids = chained
    with session(service.engine) as db:
        db.add(EventRow(occurrence_id="7:finance:2022", at=at(12, 16), actor="operator", action="note",
                        from_state="accepted", to_state="accepted", details="{}"))
        db.add(AdminEventRow(at=at(12, 16), actor="operator", action="note", subject="test", details="{}"))
    with session(service.engine) as db:  # a rolled-back one leaves nothing behind
        db.add(EventRow(occurrence_id="7:finance:2022", at=at(12, 16), actor="operator", action="note",
                        from_state="accepted", to_state="accepted", details="{}"))
        db.flush()
        db.rollback()
    verdict = record.verify(service.engine)
    assert verdict.broken is None and verdict.count == 9 and verdict.head.kind == "admin_event"


def test_a_rewritten_record_fails_against_the_head_a_digest_printed(chained, database_url, tmp_path):
    """Someone with the database rewrites an event and every hash after it, and the head: the chain
    verifies alone, but not through the link and hash the digest printed before."""
    service, ids = chained
    printed = record.head(service.engine)
    with service.engine.begin() as connection:
        connection.execute(text("UPDATE event SET actor = 'forger@else.kz' WHERE id = :id"), {"id": ids[2]})
        rows = connection.execute(text("SELECT * FROM event ORDER BY chain_seq")).mappings().all()
        previous = rows[1]["hash"]
        for row in rows[2:]:
            digest = chain.link_hash("event", row, row["chain_seq"], previous)
            connection.execute(text("UPDATE event SET prev_hash = :p, hash = :h WHERE id = :id"),
                               {"p": previous, "h": digest, "id": row["id"]})
            previous = digest
        connection.execute(text("UPDATE chain_head SET hash = :h"), {"h": previous})
    assert audit_verify(database_url, tmp_path).returncode == 0  # alone, it cannot tell
    done = subprocess.run([shutil.which("scheduler", path=str(Path(sys.executable).parent)), "audit", "verify",
                           "--expect", f"{printed.seq}:{printed.hash[:12]}"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**{k: v for k, v in os.environ.items()
                                                         if not k.startswith("SCHEDULER_")},
                                                      "SCHEDULER_DATABASE_URL": database_url})
    assert done.returncode == 1 and f"(#{printed.seq}): its hash is" in done.stdout, done.stdout
    assert "as printed" in done.stdout
