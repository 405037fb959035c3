"""Who owes a row on a day, and with what reason (what `explain` prints), and what a body was
called on a day: the plan's dated questions of parties, asked through `Plan`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.plan.schema import Group, GroupMember, Obligation, ScopedParty

GOVERNMENT = "government"
"""The recipient code for the Government itself, which is not an agency in the directory."""


@dataclass(frozen=True)
class Resolution:
    """Why an agency owes an occurrence, for `explain`."""

    agency: str
    reason: str


def members_on(group: Group, day: dt.date) -> list[str]:
    members = []
    for member in group.members:
        if isinstance(member, GroupMember):
            if member.since and day < member.since or member.until and day > member.until:
                continue
            members.append(member.agency)
        else:
            members.append(member)
    return members


def parties_on(plan, obligation: Obligation, day: dt.date, refs=None, period: str | None = None) -> list[Resolution]:
    """Who owes `obligation` for a deadline nominally on `day`, in the plan's order. For
    `responsible = "all"` and a `period` that names a span ("2022"): the parties with a measure
    of their own in it (`scheduler.plan.activity`)."""
    if refs is None:
        refs = obligation.responsible
    if refs == "all":
        # The bodies the plan names, not its placeholders ("interested state bodies", "NGOs").
        owner = plan.plan_of(obligation.id)
        refs = [c for c in owner._named_parties if not getattr(plan.file.agencies.get(c), "placeholder", False)]
        how = "every party the plan names"
        covered = _span_of(period)
        if covered is not None:
            from scheduler.plan.activity import active

            refs = [c for c in refs if active(owner._activity, c, covered)]
            how += f" with a measure of its own in {period} (the information is on the Plan's measures)"
    else:
        how = "named in the plan"
    found: dict[str, Resolution] = {}
    for ref in refs:
        if isinstance(ref, ScopedParty):
            if day.year not in ref.years:
                continue
            code, scope = ref.party, f" for {_years(ref.years)}"
        else:
            code, scope = ref, ""
        if code in plan.file.groups:
            group = plan.file.groups[code]
            candidates = [(m, f"member of {code} on {day.isoformat()}{scope}") for m in members_on(group, day)]
        elif code in plan.file.offices:
            tenure = plan.tenure(code, day.year)
            assumed = f"; assumption (the program's reading, not the source's): {tenure.assumed}" if tenure and tenure.assumed else ""
            candidates = [(tenure.agency, f"holder of {code} in {day.year}{scope}{assumed}")] if tenure else []
        else:
            candidates = [(code, how + scope)]
        for candidate, reason in candidates:
            answering = plan.agency_on(candidate, day)
            if answering is None or answering in found:
                continue
            if answering != candidate:
                reason += f"; {candidate} did not exist yet, its predecessor {answering} answers"
            found[answering] = Resolution(answering, reason)
    return list(found.values())


def display_name(file, code: str, day: dt.date, lang: str = "kk", short: bool = False) -> str:
    """The body's name as it was on `day`, in `lang` (falling back to Kazakh)."""
    if code == GOVERNMENT:
        return {"kk": "Қазақстан Республикасының Үкіметі", "ru": "Правительство Республики Казахстан"}.get(
            lang, "Government of the Republic of Kazakhstan"
        )
    agency = file.agencies.get(code)
    if agency is None:
        office = file.offices.get(code)
        if office is None:
            return code
        return getattr(office, f"name_{lang}", None) or office.name_kk
    named = agency
    for former in sorted(agency.former_names, key=lambda f: f.until):
        if day <= former.until:
            named = former
            break
    if short and lang == "kk":
        return named.short_kk or agency.short_kk
    return getattr(named, f"name_{lang}", None) or named.name_kk


def _span_of(period: str | None) -> tuple[dt.date, dt.date] | None:
    if period is None:
        return None
    from scheduler.calendar.periods import period_span

    return period_span(period)


def _years(years: tuple[int, ...]) -> str:
    return ", ".join(str(y) for y in years)
