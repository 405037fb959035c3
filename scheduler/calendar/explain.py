"""Why an occurrence falls due when it does: the rule, the nominal date and every day it moved over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.calendar.expand import Occurrence, expand, nominals_of, window_of
from scheduler.calendar.rules import describe
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.errors import UnknownOccurrence
from scheduler.plan.model import Plan, Resolution
from scheduler.plan.schema import Obligation


@dataclass(frozen=True)
class SkippedDay:
    date: dt.date
    reason: str


@dataclass(frozen=True)
class Explanation:
    occurrence: Occurrence
    obligation: Obligation
    responsibility: Resolution
    rule: str
    direction: str
    direction_source: str
    nominal_transferred_working_day: bool
    skipped: tuple[SkippedDay, ...]
    recipient_source: str | None


def explain(plan: Plan, calendar: WorkdayCalendar, occurrence: str) -> Explanation:
    parts = occurrence.split(":")
    if len(parts) != 3 or not all(parts):
        raise UnknownOccurrence(
            f"{occurrence!r} is not an occurrence id: expected <obligation>:<agency>:<period>, e.g. 7:finance:2022"
        )
    obligation_id, agency, period = parts
    obligation = plan.obligation(obligation_id)
    if obligation is None:
        raise UnknownOccurrence(f"{occurrence}: the plan has no obligation {obligation_id!r}")
    found = next(
        (o for o in expand(plan, calendar, obligation=obligation_id, agency=agency) if o.period == period),
        None,
    )
    if found is None:
        owed = [o.id for o in expand(plan, calendar, obligation=obligation_id, agency=agency)]
        hint = f"; its occurrences for {agency}: {', '.join(owed)}" if owed else f"; {agency} owes nothing under it"
        raise UnknownOccurrence(f"{occurrence}: obligation {obligation_id} has no occurrence for period {period!r}{hint}")

    nominal = next(n for n in nominals_of(plan, obligation) if n.period == period)
    refs = nominal.instance.responsible if nominal.instance and nominal.instance.responsible else None
    responsibility = next(r for r in plan.parties_on(obligation, nominal.date, refs) if r.agency == agency)
    direction = plan.shift_of(obligation)
    skipped = []
    day = nominal.date
    step = dt.timedelta(days=-1 if direction == "previous" else 1)
    while direction != "none" and not calendar.is_working_day(day):
        skipped.append(SkippedDay(day, calendar.day_off_reason(day) or ""))
        day += step
    recipient_code = nominal.instance.recipient if nominal.instance and nominal.instance.recipient else obligation.recipient
    recipient_source = None
    if recipient_code in plan.file.offices:
        recipient_source = f"office {recipient_code}, held in {nominal.date.year} by {found.recipient}"
    elif recipient_code is not None:
        recipient_source = "named in the plan"
    return Explanation(
        occurrence=found,
        obligation=obligation,
        responsibility=responsibility,
        rule=describe(obligation.due, window_of(plan)),
        direction=direction,
        direction_source="this obligation" if obligation.shift else "the plan's policy",
        nominal_transferred_working_day=calendar.is_transferred_working_day(nominal.date),
        skipped=tuple(skipped),
        recipient_source=recipient_source,
    )

