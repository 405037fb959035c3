"""The loaded plan: the file's tables joined up, with the dated questions expansion asks.

Every answer that depends on time takes the date as an argument ("who is responsible on this
date", "what was this body called then"); nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import scheduler.plan.parties as parties
from scheduler.plan.parties import GOVERNMENT, Resolution
from scheduler.plan.schema import (
    Agency,
    Amendment,
    Group,
    GroupMember,
    Obligation,
    PartyRef,
    PlanFile,
    Policy,
    ScopedParty,
)
from scheduler.plan.versions import (  # noqa: F401  (amendments_in_order, texts_of: asked for here too)
    Version,
    _scheduling,
    amendments_in_order,
    texts_of,
    undo_change,
)


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
    as_of_date: dt.date | None = None
    """The day whose plan this is (`--as-of`); None: the plan with every amendment in the file."""
    _versions: dict = field(default_factory=dict, repr=False)
    """Per amended row: its texts over time (`Version`s), the text as of `as_of_date` last."""
    _expansion_versions: dict = field(default_factory=dict, repr=False)
    """The same, with neighbours that schedule alike merged: what expansion walks."""
    members: tuple[Plan, ...] = ()
    """Several plans loaded together: each plan on its own (its ids as they are here, the shared
    directory); this plan is their union, whose meta and policy are the home plan's. Empty: one plan."""
    _member_of: dict = field(default_factory=dict, repr=False)
    _texts: tuple[Obligation, ...] = field(default=(), repr=False)
    """Every text of every row (amended rows' earlier ones too): what `responsible = "all"` reads."""

    @classmethod
    def build(cls, file: PlanFile, source: Path, as_of: dt.date | None = None, members: tuple[Plan, ...] = ()) -> Plan:
        headings = {h.id: h for h in file.headings}
        merged = tuple(_with_heading(o, headings.get(o.under or "")) for o in file.obligations)
        amendments = [a for m in members for a in m.file.plan.amendments] if members else file.plan.amendments
        ordered = amendments_in_order(amendments)
        in_force = [a for a in ordered if as_of is None or a.effective_from <= as_of]
        touched = {c.obligation for a in ordered for c in a.changes}
        versions: dict[str, list[Version]] = {}
        current: list[Obligation] = []
        every_text: list[Obligation] = []
        for obligation in merged:
            if obligation.id not in touched:
                current.append(obligation)
                every_text.append(obligation)
                continue
            texts = texts_of(obligation, ordered)[: len(in_force) + 1]
            bounds = [None, *(a.effective_from for a in in_force), None]
            made_by = [None, *in_force]
            versions[obligation.id] = [Version(bounds[i], bounds[i + 1], texts[i], made_by[i]) for i in range(len(texts))]
            latest = next((t for t in reversed(texts) if t is not None), None)
            if latest is not None:  # a removed row keeps its last text, for `explain`
                current.append(latest)
            every_text.extend(t for t in texts if t is not None)
        expansion_versions = {}
        for oid, chain in versions.items():
            joined: list[Version] = []
            for version in chain:
                if joined and _scheduling(joined[-1].obligation) == _scheduling(version.obligation):
                    joined[-1] = Version(joined[-1].start, version.end, joined[-1].obligation, joined[-1].amendment)
                else:
                    joined.append(version)
            expansion_versions[oid] = [v for v in joined if v.obligation is not None]
        merged = tuple(current)
        named: dict[str, None] = {}
        year_scoped = set()
        for obligation in every_text:
            for refs in (obligation.responsible, *(i.responsible for i in obligation.instances if i.responsible)):
                if refs != "all" and any(isinstance(r, ScopedParty) or r in file.offices for r in refs):
                    year_scoped.add(refs)  # scoped by year, or an office held by year
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
            _texts=tuple(every_text),
            _change_points=sorted(points),
            _year_scoped=frozenset(year_scoped),
            as_of_date=as_of,
            _versions=versions,
            _expansion_versions=expansion_versions,
            members=members,
            _member_of={o.id: m for m in members for o in (*m.file.obligations, *m.file.headings)},
        )

    @classmethod
    def together(cls, members: list[Plan], home: int) -> Plan:
        """Several plans as one: every row of each (ids made unique by the loader), the shared
        directory, and the home plan's meta, policy and sections for what belongs to no one plan."""
        first = members[home].file
        file = first.model_copy(update={
            "headings": tuple(h for m in members for h in m.file.headings),
            "obligations": tuple(o for m in members for o in m.file.obligations),
        })
        return cls.build(file, members[home].source, members=tuple(members))

    def as_of(self, day: dt.date) -> Plan:
        """The plan as in force on `day`: amendments that took effect later are undone."""
        return Plan.build(self.file, self.source, as_of=day, members=self.members)

    # --- several plans ---------------------------------------------------------------------------

    def plan_of(self, some_id: str) -> Plan:
        """The plan a row or an occurrence belongs to (itself when one plan is loaded): its meta,
        policy, window."""
        return self._member_of.get(some_id.partition(":")[0], self) if self._member_of else self

    def coordinator_of(self, some_id: str = "") -> str:
        """The coordinator of the plan an obligation or occurrence id belongs to (the home plan's
        for "")."""
        return self.plan_of(some_id).file.plan.coordinator

    def member(self, plan_id: str | None) -> Plan:
        """One of the plans loaded, by its id (None: the home plan); KeyError naming the ids known."""
        if plan_id is None or plan_id == self.file.plan.id:
            return next((m for m in self.members if m.file.plan.id == self.file.plan.id), self)
        found = next((m for m in self.members if m.file.plan.id == plan_id), None)
        if found is None:
            raise KeyError(f"no plan {plan_id!r} is loaded; the plans are: {', '.join(p.file.plan.id for p in self.plans)}")
        return found

    @property
    def sources(self) -> tuple[Path, ...]:
        """The files the plan was read from, in the order given."""
        return tuple(m.source for m in self.members) or (self.source,)

    @property
    def plans(self) -> tuple[Plan, ...]:
        """Each plan loaded, on its own: the members, or this plan alone."""
        return self.members or (self,)

    # --- amendments ------------------------------------------------------------------------------

    def amendments_in_force(self) -> list[Amendment]:
        """The amendments that change rows and are in force in this view, in the order they took effect."""
        ordered = amendments_in_order(a for plan in self.plans for a in plan.file.plan.amendments)
        return [a for a in ordered if self.as_of_date is None or a.effective_from <= self.as_of_date]

    def versions_of(self, obligation: Obligation) -> list[Version]:
        """The texts of a row that govern its deadlines, each over a span of nominal dates."""
        versions = self._expansion_versions.get(obligation.id)
        return versions if versions is not None else [Version(None, None, obligation, None)]

    def history_of(self, obligation_id: str) -> list[Version]:
        """Every text the row had (wording changes included); one version for a row never amended."""
        versions = self._versions.get(obligation_id)
        if versions is not None:
            return versions
        obligation = self._by_id.get(obligation_id)
        return [Version(None, None, obligation, None)] if obligation is not None else []

    def text_on(self, obligation_id: str, day: dt.date) -> Version | None:
        """The version of the row that governs a deadline nominally due on `day`."""
        return next((v for v in self.history_of(obligation_id) if v.covers(day)), None)

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
        """The plan's years; with several plans loaded, every year some plan covers."""
        periods = [p.file.plan.period for p in self.plans]
        return range(min(p.first for p in periods), max(p.last for p in periods) + 1)

    def translation_status(self, language: str) -> str | None:
        """"official" or "working" for the plan's words in `language`, None when it has none in it
        (see `PlanMeta.translation_status`)."""
        return self.file.plan.translation_status(language)

    def obligation(self, obligation_id: str) -> Obligation | None:
        return self._by_id.get(obligation_id)

    def shift_of(self, obligation: Obligation) -> str:
        """Which way a deadline of the row on a day off moves: the row's own `shift`; else, for a
        period counted from an act ("within N days/months"), the policy's `shift_period`; else the
        policy's `shift`, for a dated deadline ("not later than")."""
        return self.shift_rule(obligation)[0]

    def shift_rule(self, obligation: Obligation) -> tuple[str, str]:
        """(direction, the rule that chose it, in words) for `shift_of` and `explain`."""
        if obligation.shift:
            return obligation.shift, "this row's own shift"
        policy = self.plan_of(obligation.id).policy
        if getattr(obligation.due, "kind", None) == "within":
            return policy.shift_period, ("the plan's policy for a period counted from an act (shift_period): the "
                                         "period's last day on a day off ends on the next working day"
                                         if policy.shift_period == "next" else
                                         "the plan's policy for a period counted from an act (shift_period)")
        return policy.shift, "the plan's policy for a dated deadline (shift)"

    # --- the directory, asked on a date ---------------------------------------------------------

    def agency(self, code: str) -> Agency | None:
        return self.file.agencies.get(code)

    @cached_property
    def placeholders(self) -> frozenset[str]:
        """The parties named with no addressee (`placeholder = true`): listed, never mailed, not counted."""
        return frozenset(code for code, agency in self.file.agencies.items() if agency.placeholder)

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
        return parties.members_on(group, day)

    @cached_property
    def _activity(self) -> dict:
        from scheduler.calendar.rules import Window
        from scheduler.plan.activity import spans

        return spans(list(self._texts), Window(self.adopted, self.period_end))

    def parties_on(self, obligation: Obligation, day: dt.date, refs=None, period: str | None = None) -> list[Resolution]:
        """Who owes `obligation` for a deadline nominally on `day`, with why (scheduler/plan/parties.py)."""
        return parties.parties_on(self, obligation, day, refs, period)

    def owing_on(self, obligation: Obligation, day: dt.date, refs=None, period: str | None = None) -> list[str]:
        """The agency codes of `parties_on`, without the reasons; what expansion asks, many times.

        The answer only changes at a change point of the directory, or with the year where a party
        is scoped by year, so it is kept per (responsible list, epoch, year).
        """
        if refs is None:
            refs = obligation.responsible
        scope = ("all", self.plan_of(obligation.id).file.plan.id) if refs == "all" else refs  # "all": its own plan's parties
        key = (scope, bisect_right(self._change_points, day), day.year if refs in self._year_scoped else 0,
               period if refs == "all" else None)
        owing = self._owing_cache.get(key)
        if owing is None:
            owing = self._owing_cache[key] = [r.agency for r in self.parties_on(obligation, day, refs, period)]
        return owing

    def office_holder(self, office_code: str, year: int) -> str | None:
        tenure = self.tenure(office_code, year)
        return tenure.agency if tenure is not None else None

    def tenure(self, office_code: str, year: int):
        """Who holds the office in `year` (a `Tenure`, with its `assumed` reading if any), or None."""
        for tenure in self.file.offices[office_code].held_by:
            if year in tenure.years:
                return tenure
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
        return parties.display_name(self.file, code, day, lang, short)



def _day_after(day: dt.date | None) -> dt.date | None:
    return day + dt.timedelta(days=1) if day else None


def _exists(agency: Agency, day: dt.date) -> bool:
    return not (agency.valid_from and day < agency.valid_from) and not (
        agency.valid_until and day > agency.valid_until
    )


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
