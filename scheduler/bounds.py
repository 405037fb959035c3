"""How far the dates and numbers people type may reach, checked where they come in (the command
line's options, the pages' forms and query strings) before any date arithmetic or query sees them.

A date outside FIRST … LAST is refused everywhere: the plan's rules add days, months and working
days to the dates given, and near the ends of Python's calendar (0001-01-01, 9999-12-31) that
arithmetic overflows. The span is the one `new-plan` allows for a plan's years, 1900 to 2200.
An extension may reach at most EXTENSION_YEARS past the end of its plan's period, and starts no
earlier than the plan's adoption (the state machine asks more: later than the plan's due date).
Row ids of the database are PostgreSQL `integer`s: a number past ROW_ID_MAX names no row.

Light on imports: the command line imports this at start-up."""

from __future__ import annotations

import datetime as dt
import re

FIRST = dt.date(1900, 1, 1)
LAST = dt.date(2200, 12, 31)
EXTENSION_YEARS = 5
ROW_ID_MAX = 2**31 - 1  # PostgreSQL's `integer`, the type of every row id

_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() and int() also take '²' and '١'


def within(day: dt.date, first: dt.date = FIRST, last: dt.date = LAST) -> bool:
    return first <= day <= last


def extension_span(plan) -> tuple[dt.date, dt.date]:
    """The days an extension of one of `plan`'s deadlines may name: from the plan's adoption to
    the end of the EXTENSION_YEARS-th year after its period (`plan`: the occurrence's own plan,
    `Plans.plan_of(id)`)."""
    return plan.adopted, dt.date(plan.period_end.year + EXTENSION_YEARS, 12, 31)


def number(text: str | None, low: int = 0, high: int = ROW_ID_MAX) -> int | None:
    """`text` as a whole number written in ASCII digits within low … high; None otherwise."""
    text = (text or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None
