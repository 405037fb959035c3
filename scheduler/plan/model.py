"""The loaded plan: the file's tables joined up, with the dated questions expansion asks.

Every answer that depends on time takes the date as an argument ("who is responsible on this
date", "what was this body called then"); nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from scheduler.plan.schema import (
    Agency,
    Group,
    GroupMember,
    Obligation,
    PartyRef,
    PlanFile,
    Policy,
    ScopedParty,
)

GOVERNMENT = "government"
"""The recipient code for the Government itself, which is not an agency in the directory."""


@dataclass(frozen=True)
class Resolution:
    """Why an agency owes an occurrence, for `explain`."""

    agency: str
    reason: str


def party_code(ref: PartyRef) -> str:
    return ref.party if isinstance(ref, ScopedParty) else ref


@dataclass(frozen=True, eq=False)
class Plan:
    file: PlanFile
    source: Path
    obligations: tuple[Obligation, ...]
    """Obligations with the cells they share with their heading filled in."""
    _by_id: dict[str, Obligation] = field(repr=False)
    _named_parties: tuple[str, ...] = field(repr=False)
    _change_points: list[dt.date] = field(repr=False)
    """Dates on which some body comes into or goes out of existence or of a group."""
    _year_scoped: frozenset = field(repr=False)
    """The responsible lists that scope a party by year."""
    _owing_cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, file: PlanFile, source: Path) -> Plan:
        headings = {h.id: h for h in file.headings}
        merged = tuple(_with_heading(o, headings.get(o.under or "")) for o in file.obligations)
        named: dict[str, None] = {}
        year_scoped = set()
        for obligation in merged:
            for refs in (obligation.responsible, *(i.responsible for i in obligation.instances if i.responsible)):
                if refs != "all" and any(isinstance(r, ScopedParty) for r in refs):
                    year_scoped.add(refs)
            if obligation.responsible == "all":
                continue
            for ref in obligation.responsible:
                named.setdefault(party_code(ref))
            for instance in obligation.instances:
                for ref in instance.responsible or ():
                    named.setdefault(party_code(ref))
        points = set()
        for agency in file.agencies.values():
            points.update(d for d in (agency.valid_from, _day_after(agency.valid_until)) if d)
        for group in file.groups.values():
            for member in group.members:
                if isinstance(member, GroupMember):
                    points.update(d for d in (member.since, _day_after(member.until)) if d)
        return cls(
            file=file,
            source=source,
            obligations=merged,
            _by_id={o.id: o for o in merged},
            _named_parties=tuple(named),
            _change_points=sorted(points),
            _year_scoped=frozenset(year_scoped),
        )

    # --- the plan's frame ---------------------------------------------------------------------

    @property
    def policy(self) -> Policy:
        return self.file.policy

    @property
    def adopted(self) -> dt.date:
        return self.file.plan.adopted

    @property
    def period_end(self) -> dt.date:
        return dt.date(self.file.plan.period.last, 12, 31)

    @property
    def years(self) -> range:
        return range(self.file.plan.period.first, self.file.plan.period.last + 1)

    def translation_status(self, language: str) -> str | None:
        """"official" or "working" for the plan's words in `language`, None when it has none in it
        (see `PlanMeta.translation_status`)."""
        return self.file.plan.translation_status(language)

    def obligation(self, obligation_id: str) -> Obligation | None:
        return self._by_id.get(obligation_id)

    def shift_of(self, obligation: Obligation) -> str:
        return obligation.shift or self.policy.shift

    # --- the directory, asked on a date ---------------------------------------------------------

    def agency(self, code: str) -> Agency | None:
        return self.file.agencies.get(code)

    def agency_on(self, code: str, day: dt.date) -> str | None:
        """The body that answers for `code` on `day`: itself, or its predecessor before it existed."""
        seen = set()
        while code not in seen:
            seen.add(code)
            agency = self.file.agencies[code]
            if _exists(agency, day):
                return code
            if agency.valid_from and day < agency.valid_from and agency.predecessor:
                code = agency.predecessor
                continue
            return None
        return None

    def members_on(self, group: Group, day: dt.date) -> list[str]:
        members = []
        for member in group.members:
            if isinstance(member, GroupMember):
                if member.since and day < member.since or member.until and day > member.until:
                    continue
                members.append(member.agency)
            else:
                members.append(member)
        return members

    def parties_on(self, obligation: Obligation, day: dt.date, refs=None) -> list[Resolution]:
        """Who owes `obligation` for a deadline nominally on `day`, in the plan's order."""
        if refs is None:
            refs = obligation.responsible
        if refs == "all":
            refs = self._named_parties
            how = "every party the plan names"
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
            if code in self.file.groups:
                group = self.file.groups[code]
                candidates = [(m, f"member of {code} on {day.isoformat()}{scope}") for m in self.members_on(group, day)]
            else:
                candidates = [(code, how + scope)]
            for candidate, reason in candidates:
                answering = self.agency_on(candidate, day)
                if answering is None or answering in found:
                    continue
                if answering != candidate:
                    reason += f"; {candidate} did not exist yet, its predecessor {answering} answers"
                found[answering] = Resolution(answering, reason)
        return list(found.values())

    def owing_on(self, obligation: Obligation, day: dt.date, refs=None) -> list[str]:
        """The agency codes of `parties_on`, without the reasons; what expansion asks, many times.

        The answer only changes at a change point of the directory, or with the year where a party
        is scoped by year, so it is kept per (responsible list, epoch, year).
        """
        if refs is None:
            refs = obligation.responsible
        key = (refs, bisect_right(self._change_points, day), day.year if refs in self._year_scoped else 0)
        owing = self._owing_cache.get(key)
        if owing is None:
            owing = self._owing_cache[key] = [r.agency for r in self.parties_on(obligation, day, refs)]
        return owing

    def office_holder(self, office_code: str, year: int) -> str | None:
        for tenure in self.file.offices[office_code].held_by:
            if year in tenure.years:
                return tenure.agency
        return None

    def recipient_on(self, code: str | None, day: dt.date) -> str | None:
        """An agency code, `government`, or None; offices resolve to their holder that year."""
        if code is None or code == GOVERNMENT:
            return code
        if code in self.file.offices:
            holder = self.office_holder(code, day.year)
            return None if holder is None else self.agency_on(holder, day)
        return self.agency_on(code, day)

    def display_name(self, code: str, day: dt.date, lang: str = "kk", short: bool = False) -> str:
        """The body's name as it was on `day`, in `lang` (falling back to Kazakh)."""
        if code == GOVERNMENT:
            return {"kk": "Қазақстан Республикасының Үкіметі", "ru": "Правительство Республики Казахстан"}.get(
                lang, "Government of the Republic of Kazakhstan"
            )
        agency = self.file.agencies.get(code)
        if agency is None:
            office = self.file.offices.get(code)
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


def _day_after(day: dt.date | None) -> dt.date | None:
    return day + dt.timedelta(days=1) if day else None


def _exists(agency: Agency, day: dt.date) -> bool:
    return not (agency.valid_from and day < agency.valid_from) and not (
        agency.valid_until and day > agency.valid_until
    )


def _years(years: tuple[int, ...]) -> str:
    return ", ".join(str(y) for y in years)


_SHARED_CELLS = (
    "form_kk",
    "form_ru",
    "form_en",
    "deadline_kk",
    "deadline_ru",
    "deadline_en",
    "due",
    "shift",
    "recipient",
    "costs_kk",
    "financing_kk",
)


def _with_heading(obligation: Obligation, heading) -> Obligation:
    if heading is None:
        return obligation
    update = {
        name: getattr(heading, name)
        for name in _SHARED_CELLS
        if getattr(obligation, name) is None and getattr(heading, name) is not None
    }
    if obligation.section is None and heading.section is not None:
        update["section"] = heading.section
    return obligation.model_copy(update=update) if update else obligation
