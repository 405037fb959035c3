"""Why an occurrence falls due when it does: the rule, the nominal date and every day it moved over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.calendar.expand import Occurrence, expand, governing, window_of
from scheduler.calendar.rules import describe
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.errors import UnknownOccurrence
from scheduler.plan.dating import dated_directory, own_report
from scheduler.plan.model import Plan, Resolution
from scheduler.plan.schema import Before, Obligation
from scheduler.plan.suggest import did_you_mean, meant_occurrence


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
    linked: str | None = None
    """For a row due before another's deadline: that deadline ("34:akimat-akmola:2022-Q1, due …")."""
    text_source: tuple[str, ...] = ()
    """Which text the occurrence is owed under: the original, or the amendments that set its cells;
    and amendments that changed the row only after its nominal date."""
    own_report: bool = False
    """The information goes to the owing body itself (paragraph 3.2's working body): no recipient."""
    dating: tuple[str, ...] = ()
    """The directory's dates that decided something here (a predecessor, a former name, a dated
    membership), each with its source (`scheduler.plan.dating`)."""


def explain(plan: Plan, calendar: WorkdayCalendar, occurrence: str) -> Explanation:
    parts = occurrence.split(":")
    if len(parts) != 3 or not all(parts):
        raise UnknownOccurrence(
            f"{occurrence!r} is not an occurrence id: expected <obligation>:<agency>:<period>, e.g. 7:finance:2022"
        )
    obligation_id, agency, period = parts
    obligation = plan.obligation(obligation_id)
    if obligation is None:
        meant = meant_occurrence(plan, calendar, occurrence)
        guess = f": did you mean {meant!r}?" if meant else did_you_mean(obligation_id, [o.id for o in plan.obligations])
        raise UnknownOccurrence(f"{occurrence}: the plan has no obligation {obligation_id!r}{guess}")
    found = next(
        (o for o in expand(plan, calendar, obligation=obligation_id, agency=agency) if o.period == period),
        None,
    )
    if found is None and plan.agency(agency) is None:
        meant = meant_occurrence(plan, calendar, occurrence)
        guess = f": did you mean {meant!r}?" if meant else did_you_mean(agency, plan.file.agencies)
        raise UnknownOccurrence(f"{occurrence}: unknown agency code {agency!r}{guess}")
    if found is None:
        owed = [o.id for o in expand(plan, calendar, obligation=obligation_id, agency=agency)]
        hint = f"; its occurrences for {agency}: {', '.join(owed)}" if owed else f"; {agency} owes nothing under it"
        raise UnknownOccurrence(f"{occurrence}: obligation {obligation_id} has no occurrence for period {period!r}{hint}")

    version, nominal = governing(plan, obligation, period, calendar)
    text = plan.text_on(obligation_id, nominal.date)
    obligation = text.obligation if text is not None and text.obligation is not None else version.obligation
    refs = nominal.instance.responsible if nominal.instance and nominal.instance.responsible else None
    responsibility = next(r for r in plan.parties_on(obligation, nominal.date, refs, nominal.period) if r.agency == agency)
    direction, direction_source = plan.shift_rule(obligation)
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
    own = found.recipient is None and own_report(plan, obligation_id, agency, nominal.date)
    if own:
        held = f"office {recipient_code}, held in {nominal.date.year} by {agency}" if recipient_code in plan.file.offices \
            else f"{recipient_code}, named in the plan"
        recipient_source = (f"its own report: the information goes to {held}, the owing body itself; it sends "
                            "nothing to itself, its own information goes into the consolidated report it compiles")
    return Explanation(
        occurrence=found,
        obligation=obligation,
        responsibility=responsibility,
        rule=describe(obligation.due, window_of(plan, obligation)),
        direction=direction,
        direction_source=direction_source,
        nominal_transferred_working_day=calendar.is_transferred_working_day(nominal.date),
        skipped=tuple(skipped),
        recipient_source=recipient_source,
        text_source=tuple(text_source(plan, obligation_id, nominal.date)),
        own_report=own,
        dating=tuple(dated_directory(plan, agency, nominal.date, found.recipient)),
        linked=_linked(plan, calendar, obligation, period),
    )


def _linked(plan: Plan, calendar: WorkdayCalendar, obligation: Obligation, period: str) -> str | None:
    """For a row due before another's deadline: that deadline, as `explain` names it."""
    rule = obligation.due
    if not isinstance(rule, Before):
        return None
    target = rule.target or rule.obligation
    found = next((o for o in expand(plan, calendar, obligation=target, agency=rule.agency) if o.period == period), None)
    if found is None:
        return None
    return f"{found.id}, due {found.due.isoformat()}; this deadline is {rule.working_days} working days before it"


def _publication_assumed(amendment, nominal: dt.date, applied: bool) -> list[str]:
    """The assumption a deadline rests on when an amendment takes effect a number of days after a
    publication date the plan does not give: published on signing. Only a deadline it governs is
    in doubt (one before the earliest day is under the earlier text whatever the date)."""
    from scheduler.plan.assumptions import publication_in_doubt

    latest = publication_in_doubt(amendment, nominal) if applied else None
    if latest is None:
        return []
    return [f"assumption (the program's reading, not the source's): No. {amendment.number} was published on the day "
            f"it was signed ({amendment.date.isoformat()}); this deadline is owed under the amended text only if it "
            f"was published by {latest.isoformat()}, else under the text before it. The source does not give the "
            f"date: set published = YYYY-MM-DD on amendment {amendment.number} in the plan file"]


def _act(amendment) -> str:
    return f"No. {amendment.number} of {amendment.date.isoformat()}"


def text_source(plan: Plan, obligation_id: str, nominal: dt.date) -> list[str]:
    """Lines for `explain`: the amendments whose changes this deadline is owed under, by field,
    or the original text; then those that changed the row only after the deadline's nominal date."""
    meta = plan.plan_of(obligation_id).file.plan
    applied: dict[str, tuple] = {}
    later = []
    for amendment in plan.amendments_in_force():
        changes = [c for c in amendment.changes if c.obligation == obligation_id]
        if not changes:
            continue
        if amendment.effective_from <= nominal:
            for change in changes:
                name = "row added" if change.added else "row removed" if change.removed else (
                    f"instance {change.instance}: {change.field}" if change.instance is not None else change.field
                )
                applied[name] = (amendment, change)
        else:
            later.append((amendment, changes))
    lines = []
    if applied:
        by_act: dict[int, tuple] = {}
        for name, (amendment, change) in applied.items():
            label = name + (" (earlier text not in the source)" if change.field and "before" not in change.model_fields_set else "")
            by_act.setdefault(id(amendment), (amendment, []))[1].append(label)
        for amendment, names in by_act.values():
            lines.append(f"as amended by {_act(amendment)}, {amendment.describe_effective()}: {', '.join(names)}")
            lines += _publication_assumed(amendment, nominal, applied=True)
    else:
        lines.append(f"the original text of No. {meta.number} of {meta.date.isoformat()}")
    for amendment, changes in later:
        names = sorted({c.field or ("row added" if c.added else "row removed") for c in changes})
        unknown = [c for c in changes if c.field and "before" not in c.model_fields_set]
        line = (
            f"{_act(amendment)} changed this row ({', '.join(names)}), {amendment.describe_effective()}: "
            f"this deadline (nominally {nominal.isoformat()}) is owed under the text before it"
        )
        if unknown:
            line += "; the source does not give that earlier wording, so the amended text is shown"
        lines.append(line)
        if unknown:
            lines.append(f"assumption (the program's reading, not the source's): the text before {_act(amendment)} is "
                         f"read as the amended one reads ({', '.join(sorted({c.field for c in unknown}))}), its dates, "
                         "parties and recipients included: the source does not give it")
        lines += _publication_assumed(amendment, nominal, applied=False)
    if plan.as_of_date is not None:
        lines.append(f"as of {plan.as_of_date.isoformat()}: amendments in force later are left out")
    return lines

