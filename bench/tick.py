"""A tick's planning and ledger writes over a million occurrences, SQLite and PostgreSQL, beside a
bare baseline doing the same reads and writes; and the daemon's resident memory.

The database holds 1,000,000 occurrences with due dates spread over 2021–2030 and a focal point for
each of 200 bodies, as a running daemon leaves them (each pointing at its next ladder step, the
steps already sent in the ledger). Of them, 1,000, 10,000 or 100,000 have a step due in this tick.
"Planning + writes" is the tick's part before sending (`Service.plan_and_record`): read the
occurrences with a step due (index on next_step_at), decide what to send, insert the ledger rows
(ON CONFLICT DO NOTHING) and point each occurrence at its next step, in one transaction. The
baseline does the same reads and writes with plain Core statements in the same driver: the indexed
SELECT, a loop making one ledger row per occurrence from a table of the day's steps, one executemany
INSERT … ON CONFLICT DO NOTHING and one executemany UPDATE. Target: ≤ 1.5x. Between runs the
occurrences and the ledger are put back as they were (not timed).

Memory: `scheduler run` on the shipped plan after its first tick; and a fresh process (the
daemon's way: settings, engine, Service, one tick delivering to a Maildir) over the SQLite store of
1,000,000 occurrences with 1,000 due. Target: ≤ 150 MiB. `run` syncs the plan first; the store here
is written by the benchmark, so this is the tick's memory after a sync done by another process.

Run: `make bench` or `.venv/bin/python bench/tick.py [--occurrences N]`. PostgreSQL figures need
SCHEDULER_TEST_DATABASE_URL (a server where a scratch database may be created).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import bindparam, create_engine, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table  # noqa: E402
from scheduler.answers import LADDER_RUNS  # noqa: E402
from scheduler.app.context import Context  # noqa: E402
from scheduler.app.tick import plan_and_record, plan_due  # noqa: E402
from scheduler.notify.ladder import DIGEST  # noqa: E402
from scheduler.plan import load_plan  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from scheduler.store.db import connect, migrate, session  # noqa: E402
from scheduler.store.ledger import record  # noqa: E402
from scheduler.store.tables import ContactRow, NotificationRow, OccurrenceRow  # noqa: E402
from scheduler.transport import MaildirTransport  # noqa: E402

NOW = dt.datetime(2025, 6, 16, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
BODIES = [f"body-{n:03d}" for n in range(200)]
LEVELS = (1_000, 10_000, 100_000)
DUE_OBLIGATION = "due"  # the occurrences that can be made due in this tick; their period orders them


def due_today(timing) -> dict[dt.date, tuple[str, dt.datetime | None]]:
    """Due dates with a ladder step at NOW that mails the agency's focal points: that step, and the
    instant of the step after it."""
    now = NOW.astimezone(dt.timezone.utc)
    today = timing.local_day(NOW)
    found = {}
    for offset in range(-30, 31):
        due = today + dt.timedelta(days=offset)
        steps = timing.step_instants(due)
        for n, (moment, step) in enumerate(steps):
            if moment == now and "focal" in step.notify:
                found[due] = (step.step, steps[n + 1][0] if n + 1 < len(steps) else None)
    return found


def fill(engine, count: int, candidates: int, timing) -> None:
    """Occurrences as a running daemon leaves them: every step before NOW planned, so each points at
    its first step after NOW; `candidates` of them due on a day with a step at NOW (made due by
    `make_due`), the others due anywhere in 2021–2030 (none with a step at NOW)."""
    rng = random.Random(94)
    now = NOW.astimezone(dt.timezone.utc)
    start = dt.date(2021, 1, 1)
    stamp = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    today_dues = sorted(due_today(timing))
    with engine.begin() as connection:
        connection.execute(insert(ContactRow), [
            {"agency": b, "name": b, "email": f"{b}@example.kz", "role": "focal", "language": "kk"} for b in BODIES
        ])
        batch = []
        for n in range(count):
            agency = BODIES[n % len(BODIES)]
            if n < candidates:
                due = today_dues[n % len(today_dues)]
                oid, obligation, period = f"{DUE_OBLIGATION}:{agency}:{n:07d}", DUE_OBLIGATION, f"{n:07d}"
            else:
                due = start + dt.timedelta(days=rng.randrange(3650))
                oid, obligation, period = f"b{n // 200}:{agency}:{n}", f"b{n // 200}", str(n)
            batch.append({
                "id": oid, "obligation": obligation, "agency": agency, "period": period,
                "nominal_due": due, "due": due, "recipient": None, "title_kk": "іс-шара", "status": "active",
                "sequence": 0, "created_at": stamp, "updated_at": stamp,
                "next_step_at": next((m for m, _ in timing.step_instants(due) if m > now), None),
            })
            if len(batch) == 20_000:
                connection.execute(insert(OccurrenceRow), batch)
                batch = []
        if batch:
            connection.execute(insert(OccurrenceRow), batch)
        # the ledger of the steps already sent, for the occurrences a tick can still look at
        low, high = timing.open_window(NOW)
        table = OccurrenceRow.__table__
        rows = connection.execute(
            select(table.c.id, table.c.agency, table.c.due).where(table.c.due.between(low, high))
        ).fetchall()
        sent = [
            {"occurrence_id": oid, "step": step.step, "recipient": f"{agency}@example.kz", "name": agency,
             "language": "kk", "agency": agency, "due": due, "scheduled_at": moment, "state": "sent", "attempts": 1,
             "sent_at": moment}
            for oid, agency, due in rows
            for moment, step in timing.step_instants(due)
            if moment < now
        ]
        for first in range(0, len(sent), 20_000):
            connection.execute(insert(NotificationRow), sent[first : first + 20_000])
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def make_due(engine, level: int, timing, ledger_from: int) -> None:
    """The first `level` candidates have their step at NOW still to plan; the ledger holds nothing
    written after `ledger_from` (the rows of an earlier run)."""
    table = OccurrenceRow.__table__
    now = NOW.astimezone(dt.timezone.utc)
    later = {due: after for due, (_, after) in due_today(timing).items()}
    with engine.begin() as connection:
        connection.execute(delete(NotificationRow.__table__).where(NotificationRow.__table__.c.id > ledger_from))
        connection.execute(update(table).where(table.c.obligation == DUE_OBLIGATION, table.c.period < f"{level:07d}")
                           .values(next_step_at=now))
        for due, after in later.items():
            connection.execute(update(table).where(table.c.obligation == DUE_OBLIGATION, table.c.period >= f"{level:07d}",
                                                   table.c.due == due).values(next_step_at=after))
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE occurrence"))
            connection.execute(text("ANALYZE notification"))


def best_of_each(functions, reset, repeat: int) -> list[tuple[float, object]]:
    """Each function's best time and last result, the functions taking turns (so that a busy moment
    of the machine falls on both sides), the store reset before every run."""
    best = [(float("inf"), None) for _ in functions]
    for _ in range(repeat):
        for n, function in enumerate(functions):
            reset()
            started = time.perf_counter()
            result = function()
            best[n] = (min(best[n][0], time.perf_counter() - started), result)
    return best


def measure_backend(url: str, count: int, plan, levels) -> list[tuple]:
    engine = connect(url)
    migrate(engine)
    service = Context(Settings(database_url=url), plan, engine, MaildirTransport(tempfile.mkdtemp()))
    timing = service.timing
    fill(engine, count, max(levels), timing)
    with session(engine) as db:  # this week's digest went out with the week's first tick, as in a running daemon
        record(db, [p for p in plan_due(service, db, NOW)[1] if p.step == DIGEST])
    with engine.connect() as connection:
        ledger_from = connection.execute(select(func.max(NotificationRow.__table__.c.id))).scalar() or 0
    low, high = timing.open_window(NOW)
    now = NOW.astimezone(dt.timezone.utc)
    steps = due_today(timing)
    focal = {b: (f"{b}@example.kz", b, "kk") for b in BODIES}

    table = OccurrenceRow.__table__
    ledger = NotificationRow.__table__
    bare_query = select(table.c.id, table.c.agency, table.c.due, table.c.recipient, table.c.next_step_at).where(
        table.c.status == "active", table.c.state.in_(sorted(LADDER_RUNS)), table.c.next_step_at <= now,
        table.c.due.between(low, high)
    )
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    bare_insert = dialect.insert(ledger).on_conflict_do_nothing(
        index_elements=["occurrence_id", "step", "recipient", "due", "event_id"])
    bare_update = update(table).where(table.c.id == bindparam("oid")).values(next_step_at=bindparam("next_at"))

    def bare():
        with engine.begin() as connection:
            rows = connection.execute(bare_query).fetchall()
            notifications, nexts = [], []
            for oid, agency, due, _, _ in rows:
                step, after = steps[due]
                email, name, language = focal[agency]
                notifications.append({"occurrence_id": oid, "step": step, "recipient": email, "name": name,
                                      "language": language, "agency": agency, "due": due, "scheduled_at": now,
                                      "state": "pending", "reason": None, "attempts": 0})
                nexts.append({"oid": oid, "next_at": after})
            if notifications:
                connection.execute(bare_insert, notifications)
                connection.execute(bare_update, nexts)
        return rows, notifications

    def real():
        return plan_and_record(service, NOW)

    results = []
    for level in levels:
        reset = lambda: make_due(engine, level, timing, ledger_from)  # noqa: E731
        repeat = 5
        reset()
        considered, planned = real()
        with engine.connect() as connection:
            written = connection.execute(select(func.count()).where(ledger.c.id > ledger_from)).scalar()
        (real_seconds, _), (bare_seconds, (rows, notifications)) = best_of_each((real, bare), reset, repeat)
        assert len(rows) == len(considered) == level, (len(rows), len(considered), level)
        assert len(planned) == len(notifications) == written, (len(planned), len(notifications), written)
        results.append((level, real_seconds, bare_seconds, len(planned)))
    make_due(engine, min(levels), timing, ledger_from)  # as the memory figure's process finds it
    engine.dispose()
    return results


RSS_SCRIPT = """
import datetime as dt, json, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from scheduler.app.context import Context
from scheduler.app.tick import tick
from scheduler.plan import load_plan
from scheduler.settings import Settings
from scheduler.store.db import connect
from scheduler.transport import MaildirTransport
url, now = sys.argv[2], dt.datetime.fromisoformat(sys.argv[3])
plan = load_plan(Path(sys.argv[1]) / "obligations.toml")
service = Context(Settings(database_url=url), plan, connect(url), MaildirTransport(tempfile.mkdtemp()))
report = tick(service, now)
status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
print(json.dumps({"rss": int(status["VmRSS"].split()[0]) / 1024, "peak": int(status["VmHWM"].split()[0]) / 1024,
                  "planned": report.planned}))
"""


def tick_rss_mib(url: str) -> dict:
    """A fresh process's resident memory after one tick over the store at `url` (its peak too)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(ROOT), url, NOW.isoformat()], env=env,
                         capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="how many due, comma-separated")
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args(argv)
    levels = [min(int(n), args.occurrences) for n in args.levels.split(",")]
    plan = load_plan(ROOT / "obligations.toml")
    rows = []
    memory = None
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/bench.db"
        rows.append(("SQLite", measure_backend(url, args.occurrences, plan, levels)))
        memory = tick_rss_mib(url)
    admin_url = os.environ.get("SCHEDULER_TEST_DATABASE_URL")
    if admin_url and not args.no_postgresql:
        name = f"scheduler_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            rows.append(("PostgreSQL", measure_backend(url, args.occurrences, plan, levels)))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        print("tick: postgresql skipped (set SCHEDULER_TEST_DATABASE_URL)", file=sys.stderr)

    table = []
    for backend, results in rows:
        for level, real_s, bare_s, planned in results:
            ratio = real_s / bare_s
            table.append(Row(f"tick: planning + writes, {level:,} due among {args.occurrences:,}, {backend} "
                             f"({planned:,} notifications), s", f"{real_s:.3f}", f"{bare_s:.3f}", f"{ratio:.2f}x",
                             "<= 1.5x", ratio <= 1.5))
    table.append(Row(f"tick: resident memory after one tick over {args.occurrences:,} (SQLite, {min(levels):,} due; "
                     f"peak {memory['peak']:.0f}), MiB", f"{memory['rss']:.0f}", "", "", "<= 150 MiB",
                     memory["rss"] <= 150))
    rss = daemon_rss_mib()
    table.append(Row("daemon resident memory after its first tick (shipped plan), MiB", f"{rss:.0f}" if rss else "?"))
    return table


def main() -> None:
    print_table("tick benchmark (baseline: the same reads and writes in plain Core statements)", measure())


if __name__ == "__main__":
    main()
