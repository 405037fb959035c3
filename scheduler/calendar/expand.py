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


def _groups(plan: Plan, calendar: WorkdayCalendar, start, end, agency, obligation):
    """Per row, text and nominal date within [start, end]: (due, row id, period, nominal date,
    recipient, the owing parties' codes in plan order). Every occurrence of a group shares all but
    its party, so a million occurrences take some fifty thousand passes here."""
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
                parties = plan.owing_on(ob, nominal.date, refs, nominal.period)
                if agency is not None:
                    parties = [party for party in parties if party == agency]
                if seen is not None:
                    fresh = []
                    for party in parties:
                        oid = occurrence_id(ob.id, party, nominal.period)
                        if oid not in seen:
                            seen.add(oid)
                            fresh.append(party)
                    parties = fresh
                if parties:
                    yield due, ob.id, nominal.period, nominal.date, recipient, parties


_new = tuple.__new__  # an Occurrence without the Python-level __new__ a named tuple adds


def _occurrences(due, obligation_id, period, nominal_due, recipient, parties) -> list[Occurrence]:
    """One group's occurrences, in the order of `parties`. A body never reports to itself: the
    working body's own 3.2 information has no recipient (`scheduler.plan.dating.own_report` says it
    is its own report)."""
    head, tail = obligation_id + ":", ":" + period
    return [_new(Occurrence, (head + party + tail, obligation_id, party, period, nominal_due, due,
                              None if recipient == party else recipient)) for party in parties]


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
    for group in _groups(plan, calendar, start, end, agency, obligation):
        yield from _occurrences(*group)


def sort_key(occurrence: Occurrence) -> tuple[dt.date, str]:
    return occurrence.due, occurrence.id


def expand_sorted(plan: Plan, calendar: WorkdayCalendar, *, start: dt.date | None = None, end: dt.date | None = None,
                  agency: str | None = None, obligation: str | None = None) -> list[Occurrence]:
    """`expand`'s occurrences in a list, by due date then id, put in that order as they are made
    rather than sorted afterwards.

    The groups are bucketed by due date; within a day they go by `<row>:` (no row id holds a ':',
    so that prefix orders every id of one group against every id of another) and a group's parties
    by `<code>:`. A day on which one row has two groups (two periods due together) is sorted by id
    outright. The cyclic garbage collector is off meanwhile: it would scan every tuple kept so far
    again and again, and they hold no cycles to collect."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        by_day: dict[dt.date, list] = {}
        for group in _groups(plan, calendar, start, end, agency, obligation):
            day = by_day.get(group[0])
            if day is None:
                by_day[group[0]] = [group]
            else:
                day.append(group)
        in_order: dict[int, tuple[list[str], list[str]]] = {}  # id(parties) -> (parties, ordered); holds them alive
        found: list[Occurrence] = []
        for due in sorted(by_day):
            groups = by_day[due]
            groups.sort(key=_row_prefix)
            if any(a[1] == b[1] for a, b in zip(groups, groups[1:])):
                kept = [o for group in groups for o in _occurrences(*group)]
                kept.sort(key=_by_id)
                found += kept
                continue
            for group in groups:
                parties = group[5]
                known = in_order.get(id(parties))
                if known is None:
                    known = in_order[id(parties)] = (parties, sorted(parties, key=_code_prefix))
                found += _occurrences(*group[:5], known[1])
        return found
    finally:
        if collecting:
            gc.enable()


def _row_prefix(group) -> str:
    return group[1] + ":"


def _code_prefix(code: str) -> str:
    return code + ":"


_by_id = attrgetter("id")


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
                for party in plan.parties_on(ob, nominal.date, refs, nominal.period):
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
