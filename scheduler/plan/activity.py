"""When each party the plan names has a measure of its own: what `responsible = "all"` reads.

Paragraph 3.2 asks "central executive and other state bodies, organisations, akims" for yearly
information "on the implementation of the Plan's measures". A party whose measures all fell in 2021
(the human-rights commission: rows 2, 3 and 4, by 1 July 2021) has no measure in 2022 or 2023 to
inform on, so it owes the information on 2021 only. `spans` gives, per party code as the rows name it
(a body or a group), the spans its own deadlines cover: a period's span for a periodic or annual row
("2022": the year), the day itself for a one-off; a row due before another's deadline counts for the
whole plan. `active` says whether a party has any in the span an "all" deadline covers.
"""

from __future__ import annotations

import datetime as dt

from scheduler.calendar.periods import period_span
from scheduler.calendar.rules import Window, nominal_dates
from scheduler.plan.schema import Before, Obligation, ScopedParty


def _codes(refs) -> list[tuple[str, tuple[int, ...] | None]]:
    if refs is None or refs == "all":
        return []
    return [(r.party, tuple(r.years)) if isinstance(r, ScopedParty) else (r, None) for r in refs]


def spans(texts: list[Obligation], window: Window) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """Per party code named in `texts` (every text each row had), the spans its deadlines cover."""
    found: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for text in texts:
        if text.responsible == "all" or text.due is None:
            continue
        if isinstance(text.due, Before):
            for code, _ in _codes(text.responsible):
                found.setdefault(code, []).append((window.start, window.end))
            continue
        for nominal in nominal_dates(text.due, window, text.instances):
            span = period_span(nominal.period) or (nominal.date, nominal.date)
            refs = nominal.instance.responsible if nominal.instance and nominal.instance.responsible else text.responsible
            for code, years in _codes(refs):
                if years is None or nominal.date.year in years:
                    found.setdefault(code, []).append(span)
    return found


def active(found: dict[str, list[tuple[dt.date, dt.date]]], code: str, covered: tuple[dt.date, dt.date]) -> bool:
    """Whether `code` has a deadline of its own whose span meets `covered`."""
    first, last = covered
    return any(start <= last and end >= first for start, end in found.get(code, ()))
