"""How occurrences are printed: an aligned terminal table, JSON or CSV."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.calendar.expand import Occurrence
    from scheduler.calendar.workdays import WorkdayCalendar
    from scheduler.plan.model import Plan

FIELDS = ("id", "obligation", "agency", "period", "nominal_due", "due", "recipient", "title")


def record(plan: Plan, occurrence: Occurrence) -> dict:
    """One occurrence as the JSON and CSV outputs show it (CONTRACT fields first)."""
    obligation = plan.obligation(occurrence.obligation)
    agency = plan.agency(occurrence.agency)
    return {
        "id": occurrence.id,
        "obligation": occurrence.obligation,
        "agency": occurrence.agency,
        "period": occurrence.period,
        "nominal_due": occurrence.nominal_due.isoformat(),
        "due": occurrence.due.isoformat(),
        "recipient": occurrence.recipient,
        "title": obligation.title_kk,
        "title_en": obligation.title_en,
        "form": obligation.form_kk,
        "agency_name": plan.display_name(occurrence.agency, occurrence.nominal_due, "kk"),
        "by_agreement": agency.by_agreement,
        **_period_fields(plan, occurrence),
        "plan": plan.plan_of(occurrence.obligation).file.plan.id,
    }


def _period_fields(plan: Plan, occurrence: Occurrence) -> dict:
    """`kind` ("event" for a row that must take place in its period, else "deliverable") and
    `partial_from` (the adoption, when the plan covers only part of the period; else null)."""
    from scheduler.calendar.periods import period_info

    info = period_info(plan, occurrence.obligation, occurrence.period, occurrence.agency)
    return {"kind": "event" if info is not None and info.event else "deliverable",
            "partial_from": info.partial_from.isoformat() if info is not None and info.partial_from else None}


def period_note(plan: Plan, occurrence: Occurrence, language: str = "en") -> str:
    """What the table says of an occurrence's period: "event", "partial period: from 24.02.2021"."""
    from scheduler.calendar.periods import partial_note, period_info

    info = period_info(plan, occurrence.obligation, occurrence.period, occurrence.agency)
    if info is None:
        return ""
    return "; ".join(w for w in ("event" if info.event else None, partial_note(info, language)) if w)


def as_json(plan: Plan, occurrences: Sequence[Occurrence]) -> str:
    return json.dumps([record(plan, o) for o in occurrences], ensure_ascii=False, indent=2) + "\n"


DATE_FIELDS = frozenset({"nominal_due", "due", "partial_from"})  # ISO dates, never quoted


def as_csv(plan: Plan, occurrences: Sequence[Occurrence]) -> str:
    """The JSON's records as CSV lines, the header first; a text a spreadsheet would compute is
    quoted, the dates are not (`scheduler.report.cells`)."""
    from scheduler.report.cells import csv_lines, csv_text

    records = [record(plan, o) for o in occurrences]
    names = list(records[0]) if records else list(FIELDS)
    rows = ([r[n] if n in DATE_FIELDS else csv_text(r[n]) for n in names] for r in records)
    return csv_lines([names, *rows])


@cache
def _wcswidth():
    from wcwidth import wcswidth  # when a table is printed, not when the commands are registered

    return wcswidth


def _width(text: str) -> int:
    width = _wcswidth()(text)
    return len(text) if width < 0 else width


def _fit(text: str, width: int) -> str:
    """Cut `text` to `width` terminal columns, marking the cut with an ellipsis."""
    if _width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = max(_width(ch), 0)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], stretch: int | None = None) -> str:
    """Columns aligned by display width; the `stretch` column is cut to fit a terminal."""
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    if stretch is not None and sys.stdout.isatty():
        room = shutil.get_terminal_size().columns - sum(w + 2 for i, w in enumerate(widths) if i != stretch)
        widths[stretch] = max(20, min(widths[stretch], room))
        rows = [[_fit(c, widths[stretch]) if i == stretch else c for i, c in enumerate(r)] for r in rows]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(cells)).rstrip()

    rule = "  ".join("─" * w for w in widths)
    return "\n".join([line(headers), rule] + [line(r) for r in rows]) + "\n"


def as_table(plan: Plan, occurrences: Sequence[Occurrence]) -> str:
    rows = []
    notes = [period_note(plan, o) for o in occurrences]
    for o, note in zip(occurrences, notes):
        moved = "" if o.due == o.nominal_due else o.nominal_due.isoformat()
        rows.append(
            [
                o.due.isoformat(),
                moved,
                o.id,
                plan.display_name(o.agency, o.nominal_due, "kk", short=True),
                *([note] if any(notes) else []),
                plan.obligation(o.obligation).title_kk,
            ]
        )
    # A "period" column when a row is an event or its period is partly before the plan's adoption.
    headers = ["due", "nominal", "occurrence", "agency", *(["period"] if any(notes) else []), "title"]
    body = table(headers, rows, stretch=len(headers) - 1)
    return body + f"{len(occurrences)} occurrence(s)\n"


def as_ics(plan: Plan, calendar: WorkdayCalendar, occurrences: Sequence[Occurrence], agency: str | None) -> bytes:
    """The same occurrences as an iCalendar feed; stamped with the plan's own date, so stable."""
    from scheduler.feeds import content
    from scheduler.feeds.ics import deadlines_calendar

    events = [
        content.deadline(
            plan, calendar, occurrence_id=o.id, obligation_id=o.obligation, agency=o.agency,
            nominal=o.nominal_due, due=o.due, recipient=o.recipient, lang="kk",
        )
        for o in occurrences
    ]
    name = " + ".join(p.file.plan.id for p in plan.plans) + (f" — {plan.display_name(agency, plan.period_end, 'kk', short=True)}" if agency else "")
    return deadlines_calendar(events, name, content.plan_stamp(plan))
