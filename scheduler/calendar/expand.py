"""Expansion: the plan's obligations become dated occurrences, one per responsible party and period.

An occurrence id is `<obligation>:<agency>:<period>`. It depends only on the plan's numbering, the
agency code and the period label, never on the shifted date, so it survives reloads and holiday
corrections.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from functools import partial
from operator import attrgetter
from typing import NamedTuple

from scheduler.calendar.rules import Nominal, Window, nominal_dates
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.errors import Problem
from scheduler.plan.model import Plan
from scheduler.plan.schema import Before, Obligation


class Occurrence(NamedTuple):
    """One deadline owed by one agency. A named tuple: a million of them are built per benchmark run."""

    id: str
    obligation: str
    agency: str
    period: str
    nominal_due: dt.date
    due: dt.date
    recipient: str | None


def window_of(plan: Plan, obligation: Obligation | None = None) -> Window:
    """The span a row's deadlines fall in: its own plan's, from adoption to the end of its period."""
    if obligation is not None:
        plan = plan.plan_of(obligation.id)
    return Window(plan.adopted, plan.period_end)


def occurrence_id(obligation: str, agency: str, period: str) -> str:
    return f"{obligation}:{agency}:{period}"


def rule_nominals(plan: Plan, calendar: WorkdayCalendar | None, obligation: Obligation, window: Window) -> list[Nominal]:
    """The nominal dates a row's rule gives within `window`. A `before` rule's come from the linked
    row's deadlines (so from the calendar: working days); the others' from the rule alone."""
    rule = obligation.due
    if isinstance(rule, Before):
        return linked_nominals(plan, calendar or WorkdayCalendar(plan.policy.holidays), rule, window)
    return nominal_dates(rule, window, obligation.instances)


def linked_nominals(plan: Plan, calendar: WorkdayCalendar, rule: Before, window: Window) -> list[Nominal]:
    """One nominal date per deadline the linked row sets for `rule.agency`: that deadline (as
    shifted onto a working day) less `rule.working_days` working days, with the same period. Those
    before this plan's adoption are left out; those after its period are kept, as the linked row's
    reports on the period's last year fall due after it."""
    found = []
    for linked in expand(plan, calendar, obligation=rule.target or rule.obligation, agency=rule.agency):
        day = calendar.add_working_days(linked.due, -rule.working_days)
        if day >= window.start:
            found.append(Nominal(linked.period, day))
    return sorted(found, key=lambda n: n.date)


def governing(plan: Plan, obligation: Obligation, period: str, calendar: WorkdayCalendar | None = None):
    """(version, nominal) of the text under which the row's deadline for `period` is owed, or None.

    The earliest text that dates the period within its span wins, as in `expand`."""
    window = window_of(plan, obligation)
    for version in plan.versions_of(obligation):
        for nominal in rule_nominals(plan, calendar, version.obligation, window):
            if nominal.period == period and version.covers(nominal.date):
                return version, nominal
    return None


def expand(
    plan: Plan,
    calendar: WorkdayCalendar,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    agency: str | None = None,
    obligation: str | None = None,
) -> Iterator[Occurrence]:
    """Every occurrence whose (shifted) due date lies in [start, end], in plan order."""
    for row in plan.obligations:
        if obligation is not None and row.id != obligation:
            continue
        window = window_of(plan, row)
        versions = plan.versions_of(row)
        # An amended row is owed as it stood on each deadline's nominal date; a period that two
        # texts both date is owed once, under the earlier text (it fell due before the change).
        seen: set[str] | None = set() if len(versions) > 1 else None
        for version in versions:
            ob = version.obligation
            direction = plan.shift_of(ob)
            for nominal in rule_nominals(plan, calendar, ob, window):
                if version.start is not None and nominal.date < version.start:
                    continue
                if version.end is not None and nominal.date >= version.end:
                    continue
                due = calendar.shift(nominal.date, direction)
                if start is not None and due < start or end is not None and due > end:
                    continue
                instance = nominal.instance
                recipient_code = instance.recipient if instance and instance.recipient else ob.recipient
                recipient = plan.recipient_on(recipient_code, nominal.date)
                refs = instance.responsible if instance and instance.responsible else None
                for party in plan.owing_on(ob, nominal.date, refs):
                    if agency is not None and party != agency:
                        continue
                    oid = occurrence_id(ob.id, party, nominal.period)
                    if seen is not None:
                        if oid in seen:
                            continue
                        seen.add(oid)
                    # A body never reports to itself: the working body's own 3.2 information has no
                    # recipient (`scheduler.plan.dating.own_report` says it is its own report).
                    yield Occurrence(oid, ob.id, party, nominal.period, nominal.date, due,
                                     None if recipient == party else recipient)


def sort_key(occurrence: Occurrence) -> tuple[dt.date, str]:
    return occurrence.due, occurrence.id


_BY_DUE_THEN_ID = attrgetter("due", "id")  # `sort_key`, without a Python call per occurrence


def expand_sorted(plan: Plan, calendar: WorkdayCalendar, **filters) -> list[Occurrence]:
    """`expand`'s occurrences kept in a list, by due date then id. The cyclic garbage collector is
    off meanwhile: it would scan every tuple kept so far again and again (a million of them take
    half as long again), and they hold no cycles to collect."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return sorted(expand(plan, calendar, **filters), key=_BY_DUE_THEN_ID)
    finally:
        if collecting:
            gc.enable()


def check_expansion(plan: Plan, locate, member: Plan | None = None) -> list[Problem]:
    """Problems that only show once the rules run: empty rules, unknown office holders, clashes.

    `locate(obligation_index, key)` gives the (line, subject) of an obligation's key for messages.
    With several plans loaded, `member` is the one whose rows are checked (in the union, `plan`).
    """
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    own = member or plan
    calendar = WorkdayCalendar(plan.policy.holidays) if any(isinstance(o.due, Before) for o in own.obligations) else None

    def report(index: int, message: str, key: str | None = None) -> None:
        line, subject = locate(index, key)
        problems.append(Problem(own.source, message, line=line, subject=subject))

    index_of = {o.id: i for i, o in enumerate(own.file.obligations)}
    for row in plan.obligations:
        if row.id not in index_of:
            continue
        index = index_of[row.id]
        problem = partial(report, index)
        window = window_of(plan, row)
        versions = plan.versions_of(row)
        if len(versions) == 1 and versions[0].start is None and versions[0].end is None:
            owed_ids = None
            pairs = [(row, rule_nominals(plan, calendar, row, window))]
        else:
            owed_ids = set()
            pairs = [
                (v.obligation, [n for n in rule_nominals(plan, calendar, v.obligation, window) if v.covers(n.date)])
                for v in versions
            ]
        nominals = [n for _, ns in pairs for n in ns]
        if not nominals:
            problem(
                f"its rule yields no deadline between the adoption ({window.start}) and the end of "
                f"the period ({window.end})",
                "due",
            )
            continue
        owed = 0
        for ob, version_nominals in pairs:
            for nominal in version_nominals:
                instance = nominal.instance
                recipient_code = instance.recipient if instance and instance.recipient else ob.recipient
                if recipient_code in plan.file.offices and plan.recipient_on(recipient_code, nominal.date) is None:
                    problem(
                        f"recipient office {recipient_code} has no holder in {nominal.date.year} "
                        f"(deadline {nominal.date})",
                        "recipient",
                    )
                refs = instance.responsible if instance and instance.responsible else None
                for party in plan.parties_on(ob, nominal.date, refs):
                    owed += 1
                    oid = occurrence_id(ob.id, party.agency, nominal.period)
                    if owed_ids is not None:
                        if oid in owed_ids:
                            continue  # the same period under a later text: owed once (see `expand`)
                        owed_ids.add(oid)
                    if oid in seen:
                        problem(f"occurrence id {oid} is produced twice ({seen[oid]} and {nominal.date})")
                    seen[oid] = nominal.date.isoformat()
        if not owed:
            problem("no responsible party exists on any of its deadlines", "responsible")
    return problems
