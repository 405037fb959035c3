"""The plan file's cross-references: what the schema alone cannot see. Codes that name bodies,
groups and offices that exist; the plan's dates in order; each row's rule, instances, recipient and
parties; ids used once. Every problem is collected with its line and subject."""

from __future__ import annotations

from collections import Counter

from scheduler.errors import Problem
from scheduler.plan.model import GOVERNMENT, party_code
from scheduler.plan.schema import GroupMember, PlanFile, ScopedParty
from scheduler.plan.shape import _MONTH_NAMES, _Locator
from scheduler.plan.suggest import did_you_mean as _did_you_mean


class _Checks:
    """One plan file's checks, sharing the file, its locator and the problems found so far."""

    def __init__(self, file: PlanFile, where: _Locator):
        self.file, self.where = file, where
        self.problems: list[Problem] = []
        self.agencies, self.groups, self.offices = file.agencies, file.groups, file.offices
        self.period = range(file.plan.period.first, file.plan.period.last + 1)
        self.period_text = f"{file.plan.period.first}–{file.plan.period.last}"
        self.section_numbers = [s.number for s in file.sections]

    def problem(self, loc: tuple, message: str) -> None:
        self.problems.append(self.where.problem(loc, message))

    def party(self, loc: tuple, ref) -> None:
        agencies, groups, offices = self.agencies, self.groups, self.offices
        code = party_code(ref)
        if code == "all":
            self.problem(loc, "'all' stands alone: responsible = \"all\"")
        elif code not in agencies and code not in groups and code not in offices:
            self.problem(loc, f"unknown agency or group {code!r}{_did_you_mean(code, [*agencies, *groups, *offices])}")
        if isinstance(ref, ScopedParty):
            outside = [y for y in ref.years if y not in self.period]
            if outside:
                self.problem(loc, f"year scope {', '.join(map(str, outside))} is outside the plan's period {self.period_text}")

    def recipient(self, loc: tuple, code: str | None) -> None:
        agencies = self.agencies
        if code is not None and code != GOVERNMENT and code not in agencies and code not in self.offices:
            what = " (a group cannot receive)" if code in self.groups else ""
            suggestion = what or _did_you_mean(code, [*agencies, *self.offices, GOVERNMENT])
            self.problem(loc, f"recipient {code!r} is not an agency, an office or {GOVERNMENT!r}{suggestion}")
        elif code in agencies and agencies[code].placeholder:
            self.problem(loc, f"recipient {code!r} is a placeholder (placeholder = true: no addressee), so nothing can be "
                              "sent to it; name the body that receives, or leave the recipient out")


def _meta(c: _Checks) -> None:
    file, agencies, offices, problem = c.file, c.agencies, c.offices, c.problem
    for namespace, names in (("group", c.groups), ("office", offices)):
        for code in names:
            if code in agencies:
                problem((namespace, code), f"code {code!r} is already an agency's; codes must be unique")
    if file.plan.adopted < file.plan.date:
        problem(("plan", "adopted"), f"adopted {file.plan.adopted} is before the act's date {file.plan.date}")
    if file.plan.adopted.year > file.plan.period.last:
        problem(("plan", "adopted"), f"adopted {file.plan.adopted} after the plan's period {c.period_text}")
    if file.plan.coordinator not in agencies and file.plan.coordinator not in offices:
        suggestion = _did_you_mean(file.plan.coordinator, [*agencies, *offices])
        problem(("plan", "coordinator"), f"coordinator {file.plan.coordinator!r} is neither an agency nor an office{suggestion}")
    elif file.plan.coordinator in agencies and agencies[file.plan.coordinator].placeholder:
        problem(("plan", "coordinator"), f"coordinator {file.plan.coordinator!r} is a placeholder (no addressee): "
                                         "the digest needs a body the plan names")


def _agencies(c: _Checks) -> None:
    agencies, problem = c.agencies, c.problem
    for code, agency in agencies.items():
        if agency.predecessor is not None:
            if agency.predecessor not in agencies:
                problem(("agency", code, "predecessor"), f"predecessor {agency.predecessor!r} is not an agency")
                continue
            chain, cursor = [code], agency.predecessor
            while cursor is not None and cursor not in chain:
                chain.append(cursor)
                cursor = agencies[cursor].predecessor if cursor in agencies else None
            if cursor is not None:
                problem(("agency", code, "predecessor"), f"predecessors go round in a circle: {' → '.join(chain + [cursor])}")
        for index, former in enumerate(agency.former_names):
            if agency.valid_from and former.until < agency.valid_from:
                problem(("agency", code, "former_name", index), f"former name ends {former.until}, before the body existed")


def _groups_and_offices(c: _Checks) -> None:
    agencies, problem = c.agencies, c.problem
    for code, group in c.groups.items():
        for member in group.members:
            member_code = member.agency if isinstance(member, GroupMember) else member
            if member_code not in agencies:
                problem(("group", code, "members"), f"member {member_code!r} is not an agency")
        members = [m.agency if isinstance(m, GroupMember) else m for m in group.members]
        for repeated in sorted(m for m, n in Counter(members).items() if n > 1):
            problem(("group", code, "members"), f"member {repeated!r} is listed twice")
    for code, office in c.offices.items():
        held: dict[int, str] = {}
        for tenure in office.held_by:
            if tenure.agency not in agencies:
                problem(("office", code, "held_by"), f"holder {tenure.agency!r} is not an agency")
            for year in tenure.years:
                if year in held:
                    problem(("office", code, "held_by"), f"{year} is held by both {held[year]} and {tenure.agency}")
                held[year] = tenure.agency
            if tenure.agency in agencies and agencies[tenure.agency].placeholder:
                problem(("office", code, "held_by"), f"holder {tenure.agency!r} is a placeholder (no addressee): "
                                                     "an office is held by a body the plan names")


def _sections_and_headings(c: _Checks) -> None:
    file, problem, section_numbers = c.file, c.problem, c.section_numbers
    for index, section in enumerate(file.sections):
        if section_numbers.count(section.number) > 1 and section_numbers.index(section.number) != index:
            problem(("section", index, "number"), f"section {section.number} is defined twice")
    if not c.agencies:
        problem(("agency",), "the plan has no [agency.<code>] tables")
    if not file.obligations:
        problem(("obligation",), "the plan has no [[obligation]] tables")
    obligation_ids = {o.id for o in file.obligations}
    for index, heading in enumerate(file.headings):
        if heading.id in obligation_ids:
            problem(("heading", index, "id"), f"id {heading.id!r} is also an obligation's id")
        if file.sections and heading.section is not None and heading.section not in section_numbers:
            problem(("heading", index, "section"), f"section {heading.section} is not defined")
    for index, heading in enumerate(file.headings):
        c.recipient(("heading", index, "recipient"), heading.recipient)


def _rows(c: _Checks) -> None:
    file, problem = c.file, c.problem
    headings = {h.id: h for h in file.headings}
    first_seen: dict[str, int] = {}
    for index, ob in enumerate(file.obligations):
        loc = ("obligation", index)
        if ob.id in first_seen:
            first_line = c.where.at(("obligation", first_seen[ob.id], "id"))[0]
            problem(loc + ("id",), f"duplicate id {ob.id!r}, already used on line {first_line}")
        first_seen.setdefault(ob.id, index)
        if ob.under is not None and ob.under not in headings:
            problem(loc + ("under",), f"heading {ob.under!r} is not defined")
        if file.sections and ob.section is not None and ob.section not in c.section_numbers:
            problem(loc + ("section",), f"section {ob.section} is not defined")
        if ob.responsible != "all":
            for ref in ob.responsible:
                c.party(loc + ("responsible",), ref)
        c.recipient(loc + ("recipient",), ob.recipient)
        rule = ob.due if ob.due is not None else getattr(headings.get(ob.under or ""), "due", None)
        if rule is None:
            problem(loc, "due: required key is missing (no rule here or in its heading)")
            continue
        _rule(c, loc, ob, rule)
        _instances(c, loc, ob)


def _rule(c: _Checks, loc: tuple, ob, rule) -> None:
    file, problem = c.file, c.problem
    if ob.kind == "event" and rule.kind == "annual" and rule.month < 7:
        # An annual event is held between 1 January and its deadline ("by 10 December"): one due
        # in the first half of the year ("by 20 January") is how a report on the year before
        # reads, not an event held in the year's first weeks.
        day = f"{rule.day} {_MONTH_NAMES[rule.month - 1]}"
        problem(loc + ("kind",), (
            f'kind = "event" with an annual rule due {day}: an annual event is held between 1 January and '
            f"its due date, and {day} leaves only the year's first weeks. For an event held once each year "
            f'write its date in the second half of the year, e.g. due = {{ kind = "annual", month = 12, day = 10 }}; '
            f'for a report due by {day} leave out kind = "event" (a report on the year before is written with a '
            f'"dates" rule, one [[obligation.instance]] per year, period = the year it covers)'))
    if rule.kind == "dates" and not ob.instances:
        problem(loc + ("due",), "a 'dates' rule needs at least one [[obligation.instance]]")
    if rule.kind != "dates" and ob.instances:
        problem(loc + ("instance",), f"instances are only for a 'dates' rule, not {rule.kind!r}")
    if rule.kind in ("once", "year-end"):
        day = getattr(rule, "date", None)
        if day is not None and day < file.plan.adopted:
            problem(loc + ("due",), f"date {day} is before the plan's adoption ({file.plan.adopted})")
        elif day is not None and day.year > file.plan.period.last:
            problem(loc + ("due",), f"date {day} is after the plan's period {c.period_text}: write a date "
                    f"from {file.plan.adopted} to {file.plan.period.last}-12-31")


def _instances(c: _Checks, loc: tuple, ob) -> None:
    adopted = c.file.plan.adopted
    periods = Counter(i.period or i.date.isoformat() for i in ob.instances)
    for j, instance in enumerate(ob.instances):
        iloc = loc + ("instance", j)
        c.recipient(iloc + ("recipient",), instance.recipient)
        for ref in instance.responsible or ():
            c.party(iloc + ("responsible",), ref)
        if instance.date < adopted:
            c.problem(iloc + ("date",), f"date {instance.date} is before the plan's adoption ({adopted})")
        label = instance.period or instance.date.isoformat()
        if periods[label] > 1:
            c.problem(iloc + ("period",), f"period {label!r} is used by more than one instance")


def cross_references(file: PlanFile, where: _Locator) -> list[Problem]:
    """Every problem of the file's cross-references, in file order by kind of table."""
    checks = _Checks(file, where)
    for step in (_meta, _agencies, _groups_and_offices, _sections_and_headings, _rows):
        step(checks)
    return checks.problems
