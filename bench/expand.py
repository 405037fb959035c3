"""Expansion speed and memory: the project beside a bare rrule + holiday-shift loop.

A synthetic national-scale plan: 2,000 obligations, each owed by 20 of 200 bodies, 60% quarterly and
40% annual, over ten years (2021–2030): about 1.1 million occurrences. The baseline computes the
same (obligation, party, period, due) tuples with python-dateutil and the `holidays` package directly,
with the same per-date memo, and nothing else. Targets: project time at most 2x the baseline, and
at most 1.3x keeping the occurrences in a sorted list as the commands do; the shipped plan's full
`expand` well under a second.

Run: `make bench` or `.venv/bin/python bench/expand.py [--obligations N]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import holidays
from dateutil.rrule import MONTHLY, YEARLY, rrule

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table  # noqa: E402
from scheduler.calendar.expand import expand, expand_sorted, sort_key  # noqa: E402
from scheduler.calendar.rules import recurring_dates  # noqa: E402
from scheduler.calendar.workdays import WorkdayCalendar  # noqa: E402
from scheduler.plan import load_plan  # noqa: E402
from scheduler.plan.model import Plan  # noqa: E402
from scheduler.plan.schema import PlanFile  # noqa: E402

FIRST_YEAR, LAST_YEAR = 2021, 2030
BODIES = [f"body-{n:03d}" for n in range(200)]


def synthetic_plan(obligations: int, parties: int, seed: int = 94) -> Plan:
    rng = random.Random(seed)
    rows = []
    for n in range(obligations):
        if rng.random() < 0.6:
            due = {"kind": "quarterly"}
        else:
            due = {"kind": "annual", "month": rng.randint(1, 12), "day": rng.randint(1, 28)}
        rows.append(
            {"id": str(n + 1), "title_kk": f"іс-шара {n + 1}", "responsible": rng.sample(BODIES, parties), "due": due}
        )
    raw = {
        "schema": 1,
        "plan": {
            "id": "national",
            "title_kk": "ұлттық жоспар",
            "number": "1",
            "date": dt.date(FIRST_YEAR, 1, 1),
            "adopted": dt.date(FIRST_YEAR, 1, 1),
            "period": {"from": FIRST_YEAR, "to": LAST_YEAR},
            "coordinator": BODIES[0],
        },
        "agency": {code: {"kind": "ministry", "short_kk": code, "name_kk": code} for code in BODIES},
        "obligation": rows,
    }
    return Plan.build(PlanFile.model_validate(raw), Path("<synthetic>"))


def project(plan: Plan) -> tuple[int, int]:
    recurring_dates.cache_clear()  # each run starts cold: no rule's dates kept from the last one
    calendar = WorkdayCalendar("KZ", "en")
    count = checksum = 0
    for occurrence in expand(plan, calendar):
        count += 1
        checksum += occurrence.due.toordinal()
    return count, checksum


def kept(plan: Plan) -> tuple[int, int]:
    """The expansion kept, as `scheduler validate` and `scheduler expand` keep it: a sorted list."""
    recurring_dates.cache_clear()
    found = expand_sorted(plan, WorkdayCalendar("KZ", "en"))
    return len(found), sum(o.due.toordinal() for o in found)


def bare_loop(plan: Plan) -> tuple[int, int]:
    """The least work that produces the same tuples: rrule, the shift, one tuple per party."""
    days_off = holidays.country_holidays("KZ", language="en_US")
    working: dict[dt.date, bool] = {}
    start = dt.datetime(FIRST_YEAR, 1, 1)
    until = dt.datetime(LAST_YEAR, 12, 31)
    count = checksum = 0
    for ob in plan.file.obligations:
        rule = ob.due
        if rule.kind == "quarterly":
            dates = rrule(MONTHLY, dtstart=start, until=until, bymonth=(3, 6, 9, 12), bymonthday=-1)
        else:
            dates = rrule(YEARLY, dtstart=start, until=until, bymonth=rule.month, bymonthday=rule.day)
        for when in dates:
            day = when.date()
            while True:
                ok = working.get(day)
                if ok is None:
                    ok = working[day] = days_off.is_working_day(day)
                if ok:
                    break
                day -= dt.timedelta(days=1)
            for party in ob.responsible:
                item = (ob.id, party, when.year, day)
                count += 1
                checksum += item[3].toordinal()
    return count, checksum


def timed(function, *args, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - started)
    return best, result


def peak_memory(function, *args) -> int:
    gc.collect()
    tracemalloc.start()
    function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def shipped_plan_figures() -> tuple[float, float, int]:
    def in_process():
        plan = load_plan(ROOT / "obligations.toml")
        return sorted(expand(plan, WorkdayCalendar("KZ", "en")), key=sort_key)

    seconds, found = timed(in_process)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "expand", "--plan", str(ROOT / "obligations.toml"), "--format", "json"],
        capture_output=True,
        check=True,
    )
    command_seconds = time.perf_counter() - started
    assert len(json.loads(result.stdout)) == len(found)
    return seconds, command_seconds, len(found)


def measure(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obligations", type=int, default=2000)
    parser.add_argument("--parties", type=int, default=20)
    args = parser.parse_args(argv)

    plan = synthetic_plan(args.obligations, args.parties)
    project_seconds, (count, checksum) = timed(project, plan)
    bare_seconds, (bare_count, bare_checksum) = timed(bare_loop, plan)
    kept_seconds, kept_found = timed(kept, plan)
    if (count, checksum) != (bare_count, bare_checksum) or kept_found != (count, checksum):
        sys.exit(f"the two loops disagree: {count}/{checksum} vs {bare_count}/{bare_checksum}")
    project_peak = peak_memory(project, plan)
    bare_peak = peak_memory(bare_loop, plan)
    shipped_seconds, shipped_command_seconds, shipped_count = shipped_plan_figures()

    ratio = project_seconds / bare_seconds
    return [
        Row(f"expand: {count:,} occurrences ({args.obligations}x{args.parties}, 10 years), s", f"{project_seconds:.2f}",
            f"{bare_seconds:.2f}", f"{ratio:.2f}x", "<= 2x", ratio <= 2),
        Row(f"expand: {count:,} occurrences kept in a sorted list (as validate and expand keep them), s", f"{kept_seconds:.2f}",
            f"{bare_seconds:.2f}", f"{kept_seconds / bare_seconds:.2f}x", "<= 1.3x", kept_seconds / bare_seconds <= 1.3),
        Row("expand: occurrences/s", f"{count / project_seconds:,.0f}", f"{bare_count / bare_seconds:,.0f}", f"{1 / ratio:.2f}"),
        Row("expand: peak traced memory, MiB", f"{project_peak / 2**20:.1f}", f"{bare_peak / 2**20:.1f}",
            f"{project_peak / bare_peak:.2f}x"),
        Row(f"expand: shipped plan, load+expand ({shipped_count} occ.), s", f"{shipped_seconds:.3f}", "", "", "< 1 s",
            shipped_seconds < 1),
        Row("expand: shipped plan, `scheduler expand --format json`, s", f"{shipped_command_seconds:.3f}", "", "", "< 1 s",
            shipped_command_seconds < 1),
    ]


def main() -> None:
    print_table("expand benchmark (baseline: bare dateutil rrule + holiday shift)", measure())


if __name__ == "__main__":
    main()
