"""The record's hash chain: what linking costs an answer's write, and how long `audit verify` takes.

On the shipped plan (SQLite, and PostgreSQL with SCHEDULER_TEST_DATABASE_URL): N answer actions
(submit, then return, over and over on many occurrences) timed with the chain and with its append
replaced by nothing (the baseline: the same writes unchained); then the chain's verification over
every event, and over a log of `--events` events made with plain INSERTs and linked by the
migration's pass (`chain_existing`). A tick writes no event: it is not concerned.

Run: `.venv/bin/python bench/chain.py [--actions N] [--events N] [--no-postgresql]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, print_table  # noqa: E402
from scheduler.app import answer  # noqa: E402
from scheduler.calendar.workdays import WorkdayCalendar  # noqa: E402
from scheduler.notify.ladder import Timing  # noqa: E402
from scheduler.plan import load_plan  # noqa: E402
from scheduler.store import chain  # noqa: E402
from scheduler.store.db import connect, migrate  # noqa: E402
from scheduler.store.sync import sync  # noqa: E402
from scheduler.store.tables import ChainHeadRow, EventRow  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
START = dt.datetime(2022, 12, 12, 4, 0, tzinfo=dt.timezone.utc)


def actions(engine, timing, ids: list[str], count: int, offset: int) -> float:
    """`count` actions, alternately submitting and returning, spread over `ids`; seconds taken."""
    started = time.perf_counter()
    for n in range(count):
        oid = ids[(n // 2) % len(ids)]
        when = START + dt.timedelta(minutes=offset + n)
        if n % 2 == 0:
            answer.submit(engine, timing, oid, at=when, now=when)
        else:
            answer.act(engine, timing, oid, "return", now=when, reason="again")
    return time.perf_counter() - started


def measure(url: str, count: int, events: int, label: str) -> list[Row]:
    plan = load_plan(ROOT / "obligations.toml")
    engine = connect(url)
    migrate(engine)
    sync(engine, plan, (), START)
    timing = Timing(plan.policy, WorkdayCalendar(plan.policy.holidays, "en"))
    with engine.connect() as connection:
        ids = list(connection.execute(text("SELECT id FROM occurrence WHERE due < '2022-12-01' ORDER BY id LIMIT 400")).scalars())
    actions(engine, timing, ids, 40, 0)  # warm up
    linked = bare = 0.0
    appending = chain.append
    block = 20
    for n in range(0, count, block):  # alternating blocks, so that neither gets the warmer caches
        linked += actions(engine, timing, ids, block, 100 + 2 * n)
        chain.append = lambda db, row: None
        try:
            bare += actions(engine, timing, ids, block, 100 + 2 * n + block)
        finally:
            chain.append = appending
    with engine.begin() as connection:  # the unchained half: link it, as the migration would
        connection.execute(text("UPDATE event SET chain_seq = NULL, prev_hash = NULL, hash = NULL"))
        connection.execute(text("UPDATE chain_head SET seq = 0, hash = :g, kind = NULL, row_id = NULL"),
                           {"g": chain.GENESIS})
        chain.chain_existing(connection, EventRow.__table__, ChainHeadRow.__table__)
    with engine.begin() as connection:  # a longer log, with plain INSERTs
        row = {"occurrence_id": ids[0], "at": START, "actor": "operator", "action": "close", "from_state": "open",
               "to_state": "closed", "details": '{"reason": "bench — сынақ"}', "client": None}
        for start in range(0, events, 5000):
            connection.execute(insert(EventRow.__table__), [row] * min(5000, events - start))
        started = time.perf_counter()
        chain.chain_existing(connection, EventRow.__table__, ChainHeadRow.__table__)
        chained = time.perf_counter() - started
    with engine.connect() as connection:
        verdict = chain.verify(connection)
    assert verdict.broken is None, verdict.broken
    engine.dispose()
    per = lambda seconds: f"{seconds / count * 1000:.2f} ms"  # noqa: E731
    return [
        Row(f"{label}: one answer action, chained", per(linked), per(bare), f"{linked / bare:.2f}x", "≤ 1.2x",
            linked / bare <= 1.2),
        Row(f"{label}: migration's pass over {verdict.count:,} events", f"{chained:.2f} s"),
        Row(f"{label}: audit verify of {verdict.count:,} events", f"{verdict.seconds:.2f} s",
            "", "", f"{verdict.count / verdict.seconds:,.0f} events/s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=400)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += measure(f"sqlite:///{folder}/bench.db", args.actions, args.events, "SQLite")
    admin_url = os.environ.get("SCHEDULER_TEST_DATABASE_URL")
    if admin_url and not args.no_postgresql:
        name = f"scheduler_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            rows += measure(url, args.actions, args.events, "PostgreSQL")
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print_table("The record's hash chain", rows)


if __name__ == "__main__":
    main()
