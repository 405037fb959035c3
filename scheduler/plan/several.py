"""Several plans loaded together: one directory of bodies for all of them, row ids made unique
(`<plan-id>/<row>` for every plan but the first adopted), and `before` rules linked across plans."""

from __future__ import annotations

from pathlib import Path

from scheduler.errors import Problem
from scheduler.plan import schema
from scheduler.plan.amendment_checks import _shown
from scheduler.plan.schema import PlanFile
from scheduler.plan.shape import _Locator
from scheduler.plan.suggest import did_you_mean as _did_you_mean


def _linked(parsed: list[tuple[PlanFile, _Locator]], prefixes: dict[str, str], index: int
            ) -> tuple[PlanFile, list[Problem]]:
    """The `before` rules of plan `index` pointed at the rows they name among the plans loaded
    (`prefixes`: plan id → the prefix of its rows' ids), with what is wrong with any of them."""
    file, where = parsed[index]
    rows = {f.plan.id: {o.id: o for o in f.obligations} for f, _ in parsed}
    problems: list[Problem] = []
    obligations = list(file.obligations)
    for position, obligation in enumerate(obligations):
        rule = obligation.due
        if not isinstance(rule, schema.Before):
            continue
        loc = ("obligation", position, "due")
        plan_id = rule.plan or file.plan.id
        if plan_id not in rows:
            loaded = ", ".join(sorted(rows))
            problems.append(where.problem(loc, f"links to plan {plan_id!r}, which is not loaded with this one "
                                               f"(loaded: {loaded}); give both with --plan, or put both in one directory"))
            continue
        linked = rows[plan_id].get(rule.obligation)
        if linked is None:
            problems.append(where.problem(loc, f"links to row {rule.obligation!r} of plan {plan_id}, which has no such row"
                                               f"{_did_you_mean(rule.obligation, rows[plan_id])}"))
            continue
        if isinstance(linked.due, schema.Before):
            problems.append(where.problem(loc, f"links to row {rule.obligation} of plan {plan_id}, which is itself due "
                                               "before another row: link to the row that sets the date"))
            continue
        if rule.agency not in file.agencies and rule.agency not in file.groups:
            problems.append(where.problem(loc, f"agency {rule.agency!r} is not a body of the plans loaded"
                                               f"{_did_you_mean(rule.agency, file.agencies)}"))
            continue
        target = prefixes[plan_id] + rule.obligation
        obligations[position] = obligation.model_copy(update={"due": rule.model_copy(update={"target": target})})
    return file.model_copy(update={"obligations": tuple(obligations)}), problems



def home_plan(files: list[PlanFile]) -> int:
    """Which of several plans keeps its rows' own numbers as ids: the one adopted first (on a tie,
    the first given). The plans after it in time get `<plan-id>/<row>`: a plan added later never
    renames the rows of the plans already running."""
    return min(range(len(files)), key=lambda i: (files[i].plan.adopted, i))


def with_prefix(file: PlanFile, prefix: str) -> PlanFile:
    """The plan with `prefix` before every row's and heading's id, and every reference to one."""
    def row(ref: str | None) -> str | None:
        return None if ref is None else prefix + ref

    amendments = tuple(
        a.model_copy(update={"changes": tuple(c.model_copy(update={"obligation": row(c.obligation)}) for c in a.changes)})
        for a in file.plan.amendments
    )
    return file.model_copy(update={
        "plan": file.plan.model_copy(update={"amendments": amendments}),
        "headings": tuple(h.model_copy(update={"id": row(h.id)}) for h in file.headings),
        "obligations": tuple(o.model_copy(update={"id": row(o.id), "under": row(o.under)}) for o in file.obligations),
    })


def _joined_tenures(known, added) -> tuple[tuple, str | None]:
    """An office's holders as two plans give them, joined year by year; and the first year the
    second gives to another body than the first ("held in 2024 by labour"), if any."""
    held = {year: tenure.agency for tenure in known for year in tenure.years}
    clash = None
    for tenure in added:
        for year in tenure.years:
            if held.setdefault(year, tenure.agency) != tenure.agency and clash is None:
                clash = f"held in {year} by {tenure.agency}"
    by_agency: dict[str, list[int]] = {}
    for year in sorted(held):
        by_agency.setdefault(held[year], []).append(year)
    return tuple(schema.Tenure(agency=agency, years=tuple(years)) for agency, years in by_agency.items()), clash


_DIRECTORY = (("agencies", "agency"), ("groups", "group"), ("offices", "office"))


def merge_directories(parsed: list[tuple[PlanFile, _Locator]]) -> tuple[dict, list[Problem]]:
    """The bodies, groups and offices of several plans as one directory. A body may be written in
    one plan only, or in several: what two files both say of it must agree (a conflict is reported
    at the later file's line); what only one says is kept."""
    merged: dict[str, dict] = {name: {} for name, _ in _DIRECTORY}
    said_in: dict[tuple[str, str], Path] = {}
    problems: list[Problem] = []
    for file, where in parsed:
        for name, table in _DIRECTORY:
            for code, entry in getattr(file, name).items():
                known = merged[name].get(code)
                if known is None:
                    merged[name][code] = entry
                    said_in[(name, code)] = where.path
                    continue
                if name == "offices":  # who holds an office: each plan says it for its own years
                    held, clash = _joined_tenures(known.held_by, entry.held_by)
                    if clash:
                        problems.append(where.problem((table, code, "held_by"), (
                            f"{clash} here, but {said_in[(name, code)]} gives that year to another body: "
                            "plans loaded together share one directory")))
                    known = merged[name][code] = known.model_copy(update={"held_by": held})
                both = known.model_fields_set & entry.model_fields_set - {"held_by"}
                differing = [f for f in sorted(both) if getattr(known, f) != getattr(entry, f)]
                if differing:
                    field = differing[0]
                    problems.append(where.problem((table, code, field), (
                        f"{field} is {_shown(getattr(entry, field))} here but "
                        f"{_shown(getattr(known, field))} in {said_in[(name, code)]}; plans loaded together share "
                        f"one directory: write the {table} the same in both, or in one file only")))
                    continue
                extra = {f: getattr(entry, f) for f in entry.model_fields_set - known.model_fields_set}
                if extra:
                    merged[name][code] = known.model_copy(update=extra)
    return merged, problems
