"""The compliance XLSX the dashboard serves at `/report/<year>.xlsx`: the table and the item sheet of
1,000, 8,000 and 33,000 deadlines, beside bare openpyxl writing the same values in write-only mode
(no styles, no print setup); and the consolidated XLSX of the shipped plan's every deadline, once
and ten times over.

The items are built from the shipped plan's obligations and bodies, titles and names in Russian
where the plan has them, every fifth one submitted late. The figure is the best of the runs, in
seconds. Target (the operations review): 33,000 lines in a few seconds (≤ 5 s), and the time
linear in the lines: the 33,000 at most 1.5× what 33 times the 1,000 would take.

Run: `make bench` or `.venv/bin/python bench/xlsx.py [--sizes 1000,8000,33000] [--runs N]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table  # noqa: E402
from scheduler.calendar.expand import expand  # noqa: E402
from scheduler.calendar.workdays import WorkdayCalendar  # noqa: E402
from scheduler.plan import load_plan  # noqa: E402
from scheduler.report import AgencyCompliance, Item, as_xlsx, consolidate, consolidated_xlsx, unanswered  # noqa: E402

TODAY = dt.date(2023, 1, 16)
TARGET_SECONDS = 5.0
LINEAR_SLACK = 1.5
STATES = ("overdue", "open", "submitted", "returned", "accepted", "closed")


def items(plan, count: int) -> list[Item]:
    """`count` deadlines cycling through the plan's obligations and bodies."""
    obligations = list(plan.obligations)
    codes = sorted(plan.file.agencies)
    start = dt.date(2022, 1, 10)
    found = []
    for n in range(count):
        obligation, code = obligations[n % len(obligations)], codes[n % len(codes)]
        due = start + dt.timedelta(days=n % 350)
        late = n % 5 == 0
        found.append(Item(plan.display_name(code, due, "ru"), obligation.id, obligation.title_ru or obligation.title_kk,
                          f"{due.year}-Q{(due.month - 1) // 3 + 1}", due, STATES[n % len(STATES)],
                          due + dt.timedelta(days=3) if late else None, 3 if late else 0))
    return found


def table(plan) -> list[AgencyCompliance]:
    return [AgencyCompliance(code, plan.display_name(code, TODAY, "ru"), owed=40, on_time=30, late=5,
                             late_working_days=12, most_late_working_days=4, missing=5)
            for code in sorted(plan.file.agencies)]


def bare(rows: list[AgencyCompliance], lines: list[Item]) -> bytes:
    """The same values, written by openpyxl in write-only mode and nothing else."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    first = book.create_sheet("compliance")
    for row in rows:
        first.append([row.agency, row.name, row.owed, row.on_time, row.late, row.late_working_days,
                      row.most_late_working_days, row.missing, row.pending])
    second = book.create_sheet("items")
    for item in lines:
        second.append([item.agency, item.obligation, item.title, item.period, item.due, item.state, item.submitted_on,
                       item.working_days_late or None])
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def best(function, runs: int) -> float:
    seconds = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        function()
        seconds = min(seconds, time.perf_counter() - started)
    return seconds


def consolidated_seconds(plan, runs: int, copies: int = 1) -> tuple[float, int]:
    """The consolidated XLSX of the whole plan, every deadline open, each one `copies` times (as
    several plans' worth would be): (seconds, answer rows)."""
    once = unanswered(expand(plan, WorkdayCalendar("KZ", "en")))
    answers = [dataclasses.replace(a, occurrence=f"{a.occurrence}~{n}") for n in range(copies) for a in once]
    report = consolidate(plan, answers, lang="ru", today=TODAY)
    return best(lambda: consolidated_xlsx.write(report), runs), len(answers)


def measure(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,8000,33000", help="comma-separated numbers of item lines")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    plan = load_plan(ROOT / "obligations.toml")
    rows = table(plan)
    figures = []
    per_line = None
    for size in (int(s) for s in args.sizes.split(",")):
        lines = items(plan, size)
        project = best(lambda lines=lines: as_xlsx(rows, 2022, lines, title=plan.file.plan.title_kk, today=TODAY,
                                                   lang="ru"), args.runs)
        baseline = best(lambda lines=lines: bare(rows, lines), args.runs)
        per_line = per_line or project / size  # the smallest size sets the linear expectation
        linear = project <= LINEAR_SLACK * per_line * size or size == int(args.sizes.split(",")[0])
        fast = project <= TARGET_SECONDS
        figures.append(Row(f"xlsx: compliance, {size:,} item lines, s (baseline: bare write-only openpyxl)",
                           f"{project:.2f}", f"{baseline:.2f}", f"{project / baseline:.2f}x",
                           f"<= {TARGET_SECONDS:.0f} s, linear", fast and linear))
    seconds, count = consolidated_seconds(plan, args.runs)
    figures.append(Row(f"xlsx: consolidated, whole shipped plan ({count:,} answers), s", f"{seconds:.2f}"))
    tenfold, many = consolidated_seconds(plan, args.runs, copies=10)
    figures.append(Row(f"xlsx: consolidated, {many:,} answers (the plan's ten times), s", f"{tenfold:.2f}", "", "",
                       "linear", tenfold <= LINEAR_SLACK * 10 * seconds))
    return figures


def main() -> None:
    print_table("xlsx benchmark (baseline: the same values, bare openpyxl in write-only mode)", measure(sys.argv[1:]))


if __name__ == "__main__":
    main()
