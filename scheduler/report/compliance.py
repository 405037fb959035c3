"""The compliance table for a year: per agency, what it owed, what came on time, late (and by how
many working days), missing, and still pending. A pure function of occurrences, submissions and
`today`; the CLI writes it as CSV, XLSX or HTML."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields

from jinja2 import Environment, select_autoescape

from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.templating import SiteLoader


@dataclass(frozen=True)
class Owed:
    agency: str
    due: dt.date
    submitted_on: dt.date | None  # local date of the submission


@dataclass
class AgencyCompliance:
    agency: str
    name: str
    owed: int = 0
    on_time: int = 0
    late: int = 0
    late_working_days: int = 0  # summed over its late submissions
    most_late_working_days: int = 0
    missing: int = 0
    pending: int = 0


COLUMNS = [f.name for f in fields(AgencyCompliance)]


def year_outside(plan_years: range, year: int) -> str | None:
    """Why there is no report for `year` (None if there is one). The CLI and the dashboard both
    ask this: the plan's years, the year after (its last deadlines fall there) and the year before."""
    if plan_years.start - 1 <= year <= plan_years.stop:
        return None
    return f"{year} is outside the plan's period {plan_years.start}–{plan_years.stop - 1} (and the year after)"


def working_days_late(calendar: WorkdayCalendar, due: dt.date, submitted: dt.date) -> int:
    """Working days after `due` up to and including the day it came."""
    count, day = 0, due
    while day < submitted:
        day += dt.timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


def compliance(owed: Iterable[Owed], names: dict[str, str], today: dt.date, calendar: WorkdayCalendar) -> list[AgencyCompliance]:
    table: dict[str, AgencyCompliance] = {}
    for item in owed:
        row = table.setdefault(item.agency, AgencyCompliance(item.agency, names.get(item.agency, item.agency)))
        row.owed += 1
        if item.submitted_on is None:
            if item.due < today:
                row.missing += 1
            else:
                row.pending += 1
        elif item.submitted_on <= item.due:
            row.on_time += 1
        else:
            late = working_days_late(calendar, item.due, item.submitted_on)
            row.late += 1
            row.late_working_days += late
            row.most_late_working_days = max(row.most_late_working_days, late)
    return sorted(table.values(), key=lambda r: (-r.missing, -r.late, r.agency))


def total(rows: list[AgencyCompliance]) -> AgencyCompliance:
    sums = AgencyCompliance("total", "")
    for row in rows:
        for name in COLUMNS[2:]:
            value = getattr(row, name)
            current = getattr(sums, name)
            setattr(sums, name, max(current, value) if name == "most_late_working_days" else current + value)
    return sums


def as_csv(rows: list[AgencyCompliance]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in [*rows, total(rows)]:
        writer.writerow([getattr(row, c) for c in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read Kazakh names correctly


def as_xlsx(rows: list[AgencyCompliance], year: int) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = f"compliance {year}"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in [*rows, total(rows)]:
        sheet.append([getattr(row, c) for c in COLUMNS])
    sheet.column_dimensions["B"].width = 60
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


_env = Environment(loader=SiteLoader(), autoescape=select_autoescape(["j2"]))


def as_html(rows: list[AgencyCompliance], year: int, plan_title: str, today: dt.date) -> bytes:
    page = _env.get_template("report.html.j2").render(rows=rows, total=total(rows), columns=COLUMNS, year=year,
                                                     plan_title=plan_title, today=today)
    return page.encode("utf-8")
