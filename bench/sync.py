"""`sync` of a million occurrences, SQLite and PostgreSQL: time and peak resident memory, beside the
bare statements that move the same rows.

The plan is bench/expand.py's synthetic national plan (annual and quarterly rows, each owed by 20 of
200 bodies, 2021–2030), sized to about a million occurrences. Each figure is taken in a fresh
process, so that its peak RSS is its own:

- first `sync` into an empty (migrated) database, beside a bare bulk insert of the same rows (Core
  executemany of ready-made rows, in chunks, one transaction) into another empty database;
- second `sync` with nothing changed, beside the bare read of the same rows (the columns sync
  compares, one SELECT) plus the plan's expansion.

Targets (the performance issue): first sync ≤ 3x the bare insert with peak RSS ≤ 300 MiB; second
sync ≤ 1x the bare read + expansion.

Run: `make bench` or `.venv/bin/python bench/sync.py [--obligations N] [--backend sqlite|postgresql]`.
PostgreSQL figures need SCHEDULER_TEST_DATABASE_URL (a server where a scratch database may be created).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table  # noqa: E402

NOW = dt.datetime(2021, 1, 1, 0, 0, tzinfo=dt.timezone.utc)
FIRST_TARGET, SECOND_TARGET, RSS_TARGET_MIB = 3.0, 1.0, 300
DEFAULT_OBLIGATIONS = 1775  # x 20 bodies over ten years: about 1,000,000 occurrences


def _peak_mib() -> float:
    """This process's peak resident memory: VmHWM, the high-water mark of its own memory map. Not
    getrusage's ru_maxrss, which Linux keeps across exec: a child of a process that once held more
    (`make bench` runs every benchmark in one process) would report its parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _plan(obligations: int, scratch: Path):
    from bench.expand import synthetic_plan
    from scheduler.plan.model import Plan

    plan = synthetic_plan(obligations, 20)
    source = scratch / "national.txt"  # what sync digests as the plan's file
    source.write_text(f"synthetic national plan: {obligations} obligations x 20 bodies\n")
    return Plan.build(plan.file, source)


def child(kind: str, url: str, obligations: int) -> dict:
    """One measurement, in this (fresh) process."""
    from sqlalchemy import insert
    from sqlalchemy import select as sa_select

    from scheduler.calendar.expand import expand
    from scheduler.calendar.workdays import WorkdayCalendar
    from scheduler.notify.ladder import Timing
    from scheduler.store.db import connect, migrate
    from scheduler.store.sync import _STORED, sync
    from scheduler.store.tables import OccurrenceRow

    with tempfile.TemporaryDirectory() as scratch:
        plan = _plan(obligations, Path(scratch))
        engine = connect(url)
        if kind in ("bare-insert", "first"):
            migrate(engine)
        before = _peak_mib()
        if kind in ("first", "second"):
            started = time.perf_counter()
            report = sync(engine, plan, None, NOW)
            seconds = time.perf_counter() - started
            return {"seconds": seconds, "rss": _peak_mib(), "before": before, "report": str(report),
                    "rows": report.added + report.unchanged}
        calendar = WorkdayCalendar(plan.policy.holidays)
        if kind == "bare-insert":
            timing = Timing(plan.policy, calendar)
            titles = {o.id: o.title_kk for o in plan.obligations}
            rows = [
                {"id": o.id, "obligation": o.obligation, "agency": o.agency, "period": o.period,
                 "nominal_due": o.nominal_due, "due": o.due, "recipient": o.recipient,
                 "title_kk": titles[o.obligation], "status": "active", "sequence": 0,
                 "next_step_at": timing.step_instants(o.due)[0][0], "created_at": NOW, "updated_at": NOW}
                for o in expand(plan, calendar)
            ]
            started = time.perf_counter()
            with engine.begin() as connection:
                for start in range(0, len(rows), 5000):
                    connection.execute(insert(OccurrenceRow.__table__), rows[start : start + 5000])
            return {"seconds": time.perf_counter() - started, "rows": len(rows)}
        if kind == "bare-read":
            started = time.perf_counter()
            count = sum(1 for _ in expand(plan, calendar))
            expanded = time.perf_counter() - started
            started = time.perf_counter()
            with engine.connect() as connection:
                result = connection.execution_options(yield_per=20_000).execute(sa_select(*_STORED))
                read = sum(1 for _ in result)
            return {"seconds": expanded + time.perf_counter() - started, "expand": expanded, "rows": read,
                    "expanded": count}
    raise SystemExit(f"unknown measurement {kind!r}")


def _run_child(kind: str, url: str, obligations: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    result = subprocess.run([sys.executable, __file__, "--child", kind, "--url", url, "--obligations", str(obligations)],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"bench/sync.py --child {kind} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_backend(urls: tuple[str, str], obligations: int) -> dict:
    bare_url, sync_url = urls
    figures = {
        "bare-insert": _run_child("bare-insert", bare_url, obligations),
        "first": _run_child("first", sync_url, obligations),
        "second": _run_child("second", sync_url, obligations),
        "bare-read": _run_child("bare-read", sync_url, obligations),
    }
    assert figures["bare-insert"]["rows"] == figures["first"]["rows"] == figures["bare-read"]["rows"], figures
    assert "0 added" in figures["second"]["report"] and " 0 moved, 0 changed, 0 cancelled" in figures["second"]["report"], figures
    return figures


def _postgresql_databases(admin_url: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    names = [f"scheduler_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    urls = tuple(make_url(admin_url).set(database=name).render_as_string(hide_password=False) for name in names)
    return urls, drop


def measure(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obligations", type=int, default=DEFAULT_OBLIGATIONS)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    args = parser.parse_args(argv)
    backends = args.backend or ["sqlite", "postgresql"]

    results = []
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as scratch:
            urls = (f"sqlite:///{scratch}/bare.db", f"sqlite:///{scratch}/sync.db")
            results.append(("SQLite", measure_backend(urls, args.obligations)))
    admin_url = os.environ.get("SCHEDULER_TEST_DATABASE_URL")
    if "postgresql" in backends and admin_url:
        urls, drop = _postgresql_databases(admin_url)
        try:
            results.append(("PostgreSQL", measure_backend(urls, args.obligations)))
        finally:
            drop()
    elif "postgresql" in backends:
        print("sync: postgresql skipped (set SCHEDULER_TEST_DATABASE_URL)", file=sys.stderr)

    table = []
    for backend, f in results:
        count = f["first"]["rows"]
        first, bare = f["first"]["seconds"], f["bare-insert"]["seconds"]
        ratio = first / bare
        table.append(Row(f"sync: first, {count:,} occurrences, {backend}, s (baseline: bare bulk insert)",
                         f"{first:.1f}", f"{bare:.1f}", f"{ratio:.2f}x", f"<= {FIRST_TARGET:g}x", ratio <= FIRST_TARGET))
        rss = f["first"]["rss"]
        table.append(Row(f"sync: first, {backend}, peak RSS, MiB (baseline: before sync)", f"{rss:.0f}",
                         f"{f['first']['before']:.0f}", "", f"<= {RSS_TARGET_MIB} MiB", rss <= RSS_TARGET_MIB))
        second, read = f["second"]["seconds"], f["bare-read"]["seconds"]
        ratio = second / read
        table.append(Row(f"sync: second, nothing changed, {backend}, s (baseline: bare read + expansion)",
                         f"{second:.1f}", f"{read:.1f}", f"{ratio:.2f}x", f"<= {SECOND_TARGET:g}x", ratio <= SECOND_TARGET))
        table.append(Row(f"sync: second, {backend}, peak RSS, MiB", f"{f['second']['rss']:.0f}"))
    return table


def main() -> None:
    if "--child" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--child", required=True)
        parser.add_argument("--url", required=True)
        parser.add_argument("--obligations", type=int, required=True)
        args = parser.parse_args()
        print(json.dumps(child(args.child, args.url, args.obligations)))
        return
    print_table("sync benchmark (each figure in a fresh process)", measure())


if __name__ == "__main__":
    main()
