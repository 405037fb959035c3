"""The dashboard's figures: the month's calendar cells, the compliance tally and its percentages
per agency and month (the database counts them, whatever the plan's size), and the charts'
geometry (drawn as inline SVG by the templates)."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass

from babel import Locale

from scheduler.answers import ANSWERED
from scheduler.app import dashboard_queries
from scheduler.report.compliance import working_days_late
from scheduler.web.dashboard.view import Row, Words


@dataclass(frozen=True)
class DayCell:
    day: dt.date | None
    count: int = 0
    overdue: int = 0
    settled: int = 0


def month_cells(first: dt.date, rows: list[Row]) -> list[list[DayCell]]:
    by_day: dict[dt.date, list[Row]] = defaultdict(list)
    for row in rows:
        by_day[row.entry.due].append(row)
    weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return [[DayCell(day, len(by_day[day]), sum(r.state == "overdue" and not r.placeholder for r in by_day[day]),
                     sum(r.state in ("submitted", "accepted", "closed") for r in by_day[day]))
             if day.month == first.month else DayCell(None) for day in week] for week in weeks]


def month_cells_of(first: dt.date, counts: dict[dt.date, tuple[int, int, int]]) -> list[list[DayCell]]:
    """The month's weeks from {day: (deadlines, overdue, settled)} (`dashboard_queries.by_day`)."""
    weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return [[DayCell(day, *counts.get(day, (0, 0, 0))) if day.month == first.month else DayCell(None) for day in week]
            for week in weeks]


# --- compliance ---------------------------------------------------------------------------------

@dataclass
class Tally:
    owed: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0
    late_working_days: int = 0

    @property
    def settled(self) -> int:
        """Deadlines that have come: answered, or passed without an answer."""
        return self.on_time + self.late + self.missing

    @property
    def rate(self) -> float | None:
        return self.on_time / self.settled if self.settled else None

    def add(self, row: Row, today: dt.date, calendar) -> None:
        """As the compliance report counts: an answer submitted or accepted; closed ones left out."""
        if not row.placeholder:
            self.count(row.entry.state, row.entry.due, row.submitted_on, today, calendar)

    def count(self, state: str, due: dt.date, submitted_on: dt.date | None, today: dt.date, calendar,
              late_days: dict | None = None) -> None:
        """One deadline (not a placeholder's); `late_days` remembers working days late by (due, came)."""
        if state == "closed":
            return
        self.owed += 1
        answered = state in ANSWERED and submitted_on is not None
        if due >= today:  # not yet due, answered or not: the rate counts only deadlines that have come
            self.pending += 1
        elif not answered:
            self.missing += 1
        elif submitted_on <= due:
            self.on_time += 1
        else:
            self.late += 1
            if late_days is None:
                self.late_working_days += working_days_late(calendar, due, submitted_on)
            else:
                key = (due, submitted_on)
                if key not in late_days:
                    late_days[key] = working_days_late(calendar, due, submitted_on)
                self.late_working_days += late_days[key]


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


@functools.lru_cache(maxsize=8192)
def percent(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    from babel.numbers import format_percent

    return format_percent(value, "#,##0%", locale=_locale(lang))


def compliance_by_agency(rows: list[Row], today: dt.date, calendar) -> list[tuple[str, str, Tally]]:
    tallies: dict[str, Tally] = {}
    names: dict[str, str] = {}
    for row in rows:
        tallies.setdefault(row.entry.agency, Tally()).add(row, today, calendar)
        names[row.entry.agency] = row.agency_name
    found = [(code, names[code], tally) for code, tally in tallies.items() if tally.owed]
    return sorted(found, key=lambda t: (t[2].rate if t[2].rate is not None else 2.0, -t[2].missing, t[1].casefold()))


def compliance_by_month(rows: list[Row], year: int, today: dt.date, calendar) -> list[tuple[dt.date, Tally]]:
    months = {dt.date(year, m, 1): Tally() for m in range(1, 13)}
    for row in rows:
        if row.entry.due.year == year:
            months[row.entry.due.replace(day=1)].add(row, today, calendar)
    return list(months.items())


@dataclass
class YearFigures:
    """A year's compliance counted per agency code and per month, whatever the page's language."""

    tallies: dict[str, Tally]
    named: dict[str, dt.date]  # the nominal date of each agency's last row: the name the table shows
    months: list[tuple[dt.date, Tally]]
    total: Tally


def year_figures(engine, year: int, today: dt.date, calendar, words: Words, *, agency: str | None = None,
                 obligation: str | None = None) -> YearFigures:
    """As `compliance_by_agency`, `compliance_by_month` and their sum count the year's rows, counted
    by the database per agency and month (`dashboard_queries.year_counts`); the working days late
    counted here, once per due date and day the answer came."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    groups, lates = dashboard_queries.year_counts(engine, first, last, today, words.zone, words.placeholders,
                                                  agency=agency, obligation=obligation)
    tallies: dict[str, Tally] = {}
    months = {dt.date(year, m, 1): Tally() for m in range(1, 13)}
    total = Tally()
    for code, month, owed, on_time, late, missing, pending in groups:
        for tally in (tallies.setdefault(code, Tally()), months[dt.date(year, month, 1)], total):
            tally.owed += owed
            tally.on_time += on_time
            tally.late += late
            tally.missing += missing
            tally.pending += pending
    late_days: dict[tuple[dt.date, dt.date], int] = {}
    for code, due, submitted_at in lates:
        key = (due, submitted_at.astimezone(words.zone).date())
        if key not in late_days:
            late_days[key] = working_days_late(calendar, *key)
        for tally in (tallies[code], months[due.replace(day=1)], total):
            tally.late_working_days += late_days[key]
    named = dashboard_queries.last_nominal(engine, (code for code in tallies if code in words.epochs), first=first,
                                           last=last, agency=agency, obligation=obligation)
    return YearFigures(tallies, {code: named.get(code, last) for code in tallies}, list(months.items()), total)


def compliance_of(figures: YearFigures, words: Words) -> list[tuple[str, str, Tally]]:
    """The agencies' tallies in the page's language, lowest rate first (`compliance_by_agency`)."""
    found = [(code, words.agency(code, figures.named[code]), tally) for code, tally in figures.tallies.items() if tally.owed]
    return sorted(found, key=lambda t: (t[2].rate if t[2].rate is not None else 2.0, -t[2].missing, t[1].casefold()))


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str
    x: float
    y: float
    width: float
    height: float
    href: str | None = None


def agency_bars(by_agency: list[tuple[str, str, Tally]], lang: str, query: str) -> tuple[list[Bar], int]:
    """Horizontal bars, one per agency with a settled deadline: its name above, the rate beside."""
    bars, y, full = [], 8, 470
    for code, name, tally in by_agency:
        if tally.rate is None:
            continue
        label = name if len(name) <= 78 else name[:76] + "…"
        bars.append(Bar(label, tally.rate, percent(tally.rate, lang), 0, y, round(full * tally.rate, 1), 14,
                        f"/agencies/{code}{query}"))
        y += 38
    return bars, y + 4


def month_columns(by_month: list[tuple[dt.date, Tally]], words: Words, lang: str) -> list[Bar]:
    columns, width, height = [], 44, 150
    for index, (first, tally) in enumerate(by_month):
        value = tally.rate
        tall = round(height * value, 1) if value is not None else 0
        columns.append(Bar(words.short_month(first), value, percent(value, lang), 40 + index * 48,
                           30 + height - tall, width, tall))
    return columns
