"""One tick's planning time over a million occurrences, SQLite and PostgreSQL, beside a bare indexed
query of the same rows; and the daemon's resident memory.

The database holds 1,000,000 occurrences with due dates spread over 2021–2030 and a focal point for
each of 200 bodies, as a running daemon leaves them (each pointing at its next ladder step).
"Planning" is what a tick does before sending: read the occurrences with a step due (index on
next_step_at), read their ledger keys, decide what to send. The baseline runs the bare indexed
SELECT of the same rows through the same driver. Target: ≤ 2x.

Run: `make bench` or `.venv/bin/python bench/tick.py [--occurrences N]`. PostgreSQL figures need
SCHEDULER_TEST_DATABASE_URL (a server where a scratch database may be created).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table  # noqa: E402
from scheduler.plan import load_plan  # noqa: E402
from scheduler.service import Service  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from scheduler.store.db import connect, migrate, session  # noqa: E402
from scheduler.answers import LADDER_RUNS  # noqa: E402
from scheduler.notify.ladder import DIGEST  # noqa: E402
from scheduler.store.ledger import record  # noqa: E402
from scheduler.store.tables import ContactRow, NotificationRow, OccurrenceRow  # noqa: E402
from scheduler.transport import MaildirTransport  # noqa: E402

NOW = dt.datetime(2025, 6, 16, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
BODIES = [f"body-{n:03d}" for n in range(200)]


def fill(engine, count: int, timing) -> None:
    """Occurrences as a running daemon leaves them: every step before NOW planned, so each points at
    its first step at or after NOW (those whose step is today at 09:00 are due in this tick)."""
    rng = random.Random(94)
    now = NOW.astimezone(dt.timezone.utc)
    start = dt.date(2021, 1, 1)
    stamp = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    with engine.begin() as connection:
        connection.execute(insert(ContactRow), [
            {"agency": b, "name": b, "email": f"{b}@example.kz", "role": "focal", "language": "kk"} for b in BODIES
        ])
        batch = []
        for n in range(count):
            due = start + dt.timedelta(days=rng.randrange(3650))
            agency = BODIES[n % len(BODIES)]
            batch.append({
                "id": f"{n // 200}:{agency}:{n}", "obligation": str(n // 200), "agency": agency, "period": str(n),
                "nominal_due": due, "due": due, "recipient": None, "title_kk": "іс-шара", "status": "active",
                "sequence": 0, "created_at": stamp, "updated_at": stamp,
                "next_step_at": next((m for m, _ in timing.step_instants(due) if m >= now), None),
            })
            if len(batch) == 20_000:
                connection.execute(insert(OccurrenceRow), batch)
                batch = []
        if batch:
            connection.execute(insert(OccurrenceRow), batch)
        # the ledger of the steps already sent, for the occurrences a tick can still look at
        low, high = timing.open_window(NOW)
        rows = connection.execute(
            select(OccurrenceRow.__table__.c.id, OccurrenceRow.__table__.c.agency, OccurrenceRow.__table__.c.due)
            .where(OccurrenceRow.__table__.c.due.between(low, high))
        ).fetchall()
        sent = [
            {"occurrence_id": oid, "step": step.step, "recipient": f"{agency}@example.kz", "name": agency,
             "language": "kk", "agency": agency, "due": due, "scheduled_at": moment, "state": "sent", "attempts": 1,
             "sent_at": moment}
            for oid, agency, due in rows
            for moment, step in timing.step_instants(due)
            if moment < now
        ]
        for start in range(0, len(sent), 20_000):
            connection.execute(insert(NotificationRow), sent[start : start + 20_000])
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def best_of(function, repeat: int = 5) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure_backend(url: str, count: int, plan) -> tuple[float, float, int, int]:
    engine = connect(url)
    migrate(engine)
    service = Service(Settings(database_url=url), plan, engine, MaildirTransport(tempfile.mkdtemp()))
    fill(engine, count, service.timing)
    with session(engine) as db:  # this week's digest went out with the week's first tick, as in a running daemon
        record(db, [p for p in service.plan_due(db, NOW)[1] if p.step == DIGEST])
    low, high = service.timing.open_window(NOW)

    def planning():
        with session(engine) as db:
            return service.plan_due(db, NOW)

    table = OccurrenceRow.__table__
    bare_query = select(table.c.id, table.c.agency, table.c.due, table.c.recipient, table.c.next_step_at).where(
        table.c.status == "active", table.c.state.in_(sorted(LADDER_RUNS)), table.c.next_step_at <= NOW,
        table.c.due.between(low, high)
    )

    def bare():
        with engine.connect() as connection:
            return connection.execute(bare_query).fetchall()

    planning()  # warm the caches both sides get: connection pool, prepared plans
    bare()
    plan_seconds, (considered, planned) = best_of(planning)
    bare_seconds, rows = best_of(bare)
    engine.dispose()
    assert len(rows) == len(considered), "the baseline reads the same rows"
    return plan_seconds, bare_seconds, len(rows), len(planned)


def daemon_rss_mib() -> float | None:
    """Resident memory of `scheduler run` on the shipped plan after start-up and its first tick."""
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "obligations.toml").write_bytes((ROOT / "obligations.toml").read_bytes())
        (Path(scratch) / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            env["SCHEDULER_HTTP_PORT"] = str(sock.getsockname()[1])
        process = subprocess.Popen([sys.executable, "-m", "scheduler", "run"], cwd=scratch, env=env,
                                   stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = process.stderr.readline()
                if "tick now=" in line:
                    break
            status = Path(f"/proc/{process.pid}/status").read_text()
            rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            return rss / 1024
        finally:
            process.terminate()
            process.wait(timeout=30)


def measure(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    plan = load_plan(ROOT / "obligations.toml")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        rows.append(("sqlite", *measure_backend(f"sqlite:///{scratch}/bench.db", args.occurrences, plan)))
    admin_url = os.environ.get("SCHEDULER_TEST_DATABASE_URL")
    if admin_url:
        name = f"scheduler_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            rows.append(("postgresql", *measure_backend(url, args.occurrences, plan)))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        print("tick: postgresql skipped (set SCHEDULER_TEST_DATABASE_URL)", file=sys.stderr)

    table = []
    for backend, plan_s, bare_s, window_rows, planned in rows:
        ratio = plan_s / bare_s
        table.append(Row(f"tick: planning over {args.occurrences:,} occurrences, {backend} "
                         f"({window_rows:,} due, {planned:,} notifications), s",
                         f"{plan_s:.3f}", f"{bare_s:.3f}", f"{ratio:.2f}x", "<= 2x", ratio <= 2))
    rss = daemon_rss_mib()
    table.append(Row("daemon resident memory after its first tick, MiB", f"{rss:.0f}" if rss else "?"))
    return table


def main() -> None:
    print_table("tick planning benchmark (baseline: bare indexed SELECT of the same rows)", measure())


if __name__ == "__main__":
    main()
