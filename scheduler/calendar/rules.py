"""Rule kinds: from an obligation's `due` rule to its nominal deadlines, before any working-day shift.

Each kind is a pure function of the rule and the plan's window (adoption to the end of the period);
recurring kinds use python-dateutil's rrule. A nominal deadline carries its period label, which
becomes the last part of the occurrence id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache, singledispatch

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, YEARLY, rrule

from scheduler.plan.schema import (
    Annual,
    Before,
    Dates,
    HalfYearly,
    Instance,
    Monthly,
    Once,
    Quarterly,
    Within,
    YearEnd,
)


@dataclass(frozen=True, slots=True)
class Window:
    """Recurring deadlines are generated from `start` to `end` inclusive."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Nominal:
    period: str
    date: dt.date
    instance: Instance | None = None


@singledispatch
def nominal_dates(rule, window: Window, instances: tuple[Instance, ...] = ()) -> list[Nominal]:
    raise TypeError(f"unknown rule kind {type(rule).__name__}")


def _recurring(rule, window: Window, freq: int, bymonth: int | tuple[int, ...] | None = None,
               bymonthday: int | None = None) -> tuple[dt.datetime, ...]:
    start = max(window.start, rule.starts) if rule.starts else window.start
    end = min(window.end, rule.ends) if rule.ends else window.end
    if end < start:
        return ()
    return recurring_dates(freq, bymonth, bymonthday, start, end)


@lru_cache(maxsize=4096)
def recurring_dates(freq: int, bymonth, bymonthday, start: dt.date, end: dt.date) -> tuple[dt.datetime, ...]:
    """rrule's dates, asked once per distinct rule and span: a plan's quarterly rows all share one
    list (dateutil's iteration is most of an expansion's cost)."""
    return tuple(
        rrule(
            freq,
            dtstart=dt.datetime.combine(start, dt.time()),
            until=dt.datetime.combine(end, dt.time()),
            bymonth=bymonth,
            bymonthday=bymonthday,
        )
    )


def _one_off(day: dt.date, window: Window) -> list[Nominal]:
    if not window.start <= day <= window.end:
        return []
    return [Nominal(day.isoformat(), day)]


@nominal_dates.register
def _(rule: Once, window: Window, instances=()) -> list[Nominal]:
    return _one_off(rule.date, window)


@nominal_dates.register
def _(rule: Annual, window: Window, instances=()) -> list[Nominal]:
    found = _recurring(rule, window, freq=YEARLY, bymonth=rule.month, bymonthday=rule.day)
    return [Nominal(str(d.year), d.date()) for d in found]


@nominal_dates.register
def _(rule: HalfYearly, window: Window, instances=()) -> list[Nominal]:
    found = _recurring(rule, window, freq=MONTHLY, bymonth=(6, 12), bymonthday=-1)
    return [Nominal(f"{d.year}-H{d.month // 6}", d.date()) for d in found]


@nominal_dates.register
def _(rule: Quarterly, window: Window, instances=()) -> list[Nominal]:
    found = _recurring(rule, window, freq=MONTHLY, bymonth=(3, 6, 9, 12), bymonthday=-1)
    return [Nominal(f"{d.year}-Q{d.month // 3}", d.date()) for d in found]


@nominal_dates.register
def _(rule: Monthly, window: Window, instances=()) -> list[Nominal]:
    found = _recurring(rule, window, freq=MONTHLY, bymonthday=-1)
    return [Nominal(f"{d.year}-{d.month:02d}", d.date()) for d in found]


@nominal_dates.register
def _(rule: Within, window: Window, instances=()) -> list[Nominal]:
    return _one_off(anchor_date(rule, window) + relativedelta(months=rule.months, days=rule.days), window)


@nominal_dates.register
def _(rule: YearEnd, window: Window, instances=()) -> list[Nominal]:
    return _one_off(dt.date(rule.year, 12, 31), window)


@nominal_dates.register
def _(rule: Before, window: Window, instances=()) -> list[Nominal]:
    raise TypeError("a `before` rule's dates come from the linked row's deadlines: see expand.rule_nominals")


@nominal_dates.register
def _(rule: Dates, window: Window, instances=()) -> list[Nominal]:
    # The text dates these itself, sometimes after the plan's period (reports on its last year):
    # only what falls before the adoption is dropped.
    return [
        Nominal(i.period or i.date.isoformat(), i.date, i)
        for i in sorted(instances, key=lambda i: i.date)
        if i.date >= window.start
    ]


def anchor_date(rule: Within, window: Window) -> dt.date:
    return window.start if rule.anchor == "adoption" else rule.anchor


_MONTHS = (
    "January February March April May June July August September October November December".split()
)


def describe(rule, window: Window) -> str:
    """The rule in words, for `explain` and the README's examples."""
    match rule:
        case Once(date=day):
            return f"once, by {day.day} {_MONTHS[day.month - 1]} {day.year}"
        case Annual(month=month, day=day):
            return f"annually, by {day} {_MONTHS[month - 1]}"
        case HalfYearly():
            return "once every half-year, by the last day of each half-year"
        case Quarterly():
            return "once per quarter, by the last day of each quarter"
        case Monthly():
            return "once a month, by the last day of each month"
        case Within(months=months, days=days):
            span = " and ".join(
                part
                for part in (
                    f"{months} month{'s' * (months != 1)}" if months else "",
                    f"{days} day{'s' * (days != 1)}" if days else "",
                )
                if part
            )
            anchor = "the plan's adoption" if rule.anchor == "adoption" else "the anchor date"
            return f"within {span} of {anchor} ({anchor_date(rule, window).isoformat()})"
        case YearEnd(year=year):
            return f"by the end of {year}"
        case Dates():
            return "on dates the text lists one by one"
        case Before(plan=plan, obligation=row, agency=agency, working_days=days):
            where = f"row {row} of plan {plan}" if plan else f"row {row}"
            return f"{days} working day{'s' * (days != 1)} before {agency}'s deadline under {where}"
    raise TypeError(f"unknown rule kind {type(rule).__name__}")
