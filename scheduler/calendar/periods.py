"""Periods: the span a period label stands for, events owed within one, and first periods that the
plan only partly covers. Pure functions over the plan, no clock.

A half-yearly, quarterly or monthly row is owed once per period ("2022-H1", "2021-Q1", "2022-07"),
and its deadline is the period's last day. The plan was adopted during its first such periods
(No. 94 on 24 February 2021: 2021-Q1 and 2021-H1), so those are *partial*: owed from the adoption
only. An event row (`kind = "event"`: a commission sitting, a training) must take place within its
period, from the period's first day (or the adoption) to the deadline.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import re
from collections.abc import Callable
from typing import NamedTuple

_LABEL = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?$")
PERIODIC_RULES = frozenset({"half-yearly", "quarterly", "monthly"})
"""Rules owed once per period (the period, not a day, is what they name): a partial first period is said."""


def period_span(label: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of the period a label names: "2022" (a year), "2022-H1", "2022-Q3",
    "2022-07"; None for any other label (a one-off's date)."""
    match = _LABEL.match(label)
    if match is None:
        return None
    year, part = int(match.group(1)), match.group(2)
    if part is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if part[0] == "H":
        first = 1 if part == "H1" else 7
        months = 6
    elif part[0] == "Q":
        first = 3 * int(part[1]) - 2
        months = 3
    else:
        first = int(part)
        if not 1 <= first <= 12:
            return None
        months = 1
    last = first + months - 1
    return dt.date(year, first, 1), dt.date(year, last, _calendar.monthrange(year, last)[1])


class PeriodInfo(NamedTuple):
    """What a user is told of an occurrence's period."""

    label: str
    start: dt.date  # the first day the occurrence is owed for: the period's first day, or the adoption
    end: dt.date  # the period's last day; an annual event's date ("by 10 December") within it
    partial_from: dt.date | None  # the adoption, or the owing body's first day, when the period is owed only in part
    event: bool  # the row is an event: it must have happened between `start` and the deadline
    partial_why: str | None = None  # "the plan's adoption", or the body's first day and the act that set it


def _adopted(plan, obligation_id: str) -> dt.date:
    plan_of = getattr(plan, "plan_of", None)
    owner = plan_of(obligation_id) if plan_of is not None else plan
    return owner.adopted


def body_start(plan, agency: str | None) -> tuple[dt.date, str] | None:
    """The first day of a body formed during the plan with no predecessor (`valid_from` without
    `predecessor`), and why: a period it joined part-way is owed from that day. A body that succeeds
    another owes the whole period (what its predecessor left is its own), so None for it."""
    found = plan.agency(agency) if agency is not None and hasattr(plan, "agency") else None
    if found is None or found.valid_from is None or found.predecessor is not None:
        return None
    act = f" ({found.source})" if found.source else " (the plan gives no act)"
    return found.valid_from, f"{agency}'s first day{act}"


def succession(plan, agency: str | None, info: PeriodInfo) -> str | None:
    """When the owing body succeeded another during the period: that it owes the whole period, what
    its predecessor left (the predecessor's last day and the act), for `explain`."""
    found = plan.agency(agency) if agency is not None and hasattr(plan, "agency") else None
    if found is None or found.predecessor is None or found.valid_from is None:
        return None
    span = period_span(info.label)
    if span is None or not span[0] < found.valid_from <= span[1]:
        return None
    before = found.valid_from - dt.timedelta(days=1)
    act = f" — source: {found.source}" if found.source else " — source not given in the plan"
    return (f"{agency} succeeds {found.predecessor} from {found.valid_from.isoformat()} ({found.predecessor} answered "
            f"until {before.isoformat()}): it owes the whole period, what its predecessor leaves{act}")


def period_info(plan, obligation_id: str, period: str, agency: str | None = None) -> PeriodInfo | None:
    """The period of a periodic or event row's occurrence; None for a dated one (a one-off, an
    annual report by a date) that is not an event. Given the owing `agency`, a period it joined
    part-way (formed during it) is partial from its first day, as the plan's first is from the adoption."""
    obligation = plan.obligation(obligation_id)
    if obligation is None or obligation.due is None:
        return None
    event = getattr(obligation, "kind", "deliverable") == "event"
    if not event and obligation.due.kind not in PERIODIC_RULES:
        return None
    span = period_span(period)
    if span is None:
        return None
    start, end = span
    rule = obligation.due
    if event and rule.kind == "annual" and start.year == end.year:
        end = min(end, dt.date(start.year, rule.month, rule.day))  # held "by 10 December": up to that date
    adopted = _adopted(plan, obligation_id)
    partial, why = (adopted, "the plan's adoption") if start < adopted <= end else (None, None)
    formed = body_start(plan, agency)
    if formed is not None and start < formed[0] <= end and (partial is None or formed[0] > partial):
        partial, why = formed
    return PeriodInfo(period, partial or start, end, partial, event, why)


def is_event(plan, obligation_id: str) -> bool:
    obligation = plan.obligation(obligation_id)
    return obligation is not None and getattr(obligation, "kind", "deliverable") == "event"


def split_id(occurrence_id: str) -> tuple[str, str] | None:
    """(obligation, period) of an occurrence id `<obligation>:<agency>:<period>`."""
    obligation, _, rest = occurrence_id.partition(":")
    _, _, period = rest.rpartition(":")
    return (obligation, period) if obligation and period else None


def info_of(plan, occurrence_id: str) -> PeriodInfo | None:
    """`period_info` of an occurrence id, its owing body's first day counted."""
    obligation, _, rest = occurrence_id.partition(":")
    agency, _, period = rest.rpartition(":")
    if not (obligation and period):
        return None
    return period_info(plan, obligation, period, agency or None)


def event_opening(plan) -> Callable[[str], dt.date | None]:
    """For the ladder: an occurrence id → the first day of its event's period (or the adoption, in a
    partial first period); None when the occurrence is not an event's."""
    events = {o.id for o in plan.obligations if getattr(o, "kind", "deliverable") == "event"}
    cache: dict[str, dt.date | None] = {}

    def opens(occurrence_id: str) -> dt.date | None:
        if occurrence_id.partition(":")[0] not in events:  # most rows: asked once per tick and occurrence
            return None
        parts = split_id(occurrence_id)
        if parts is None or parts[0] not in events:
            return None
        key = occurrence_id
        if key not in cache:
            info = info_of(plan, occurrence_id)
            cache[key] = info.start if info is not None else None
        return cache[key]

    return opens


def partial_note(info: PeriodInfo | None, language: str = "en") -> str | None:
    """ "partial period: from 24.02.2021" (in kk, ru or en), or None for a whole period."""
    if info is None or info.partial_from is None:
        return None
    day = info.partial_from.strftime("%d.%m.%Y")
    return {
        "kk": f"толық емес кезең: {day} бастап",
        "ru": f"неполный период: с {day}",
    }.get(language, f"partial period: from {day}")


def event_of(plan, occurrence_id: str) -> PeriodInfo | None:
    """The period of an occurrence whose row is an event; None for any other (or unknown) id."""
    info = info_of(plan, occurrence_id)
    return info if info is not None and info.event else None
