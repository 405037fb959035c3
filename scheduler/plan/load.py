"""Reading `obligations.toml`: syntax, shape, cross-references, then a trial expansion.

Every problem found is collected with its file, line and subject; the caller gets either a whole,
consistent `Plan` or one `PlanError` listing them all. Nothing is half-loaded. The jobs are in
modules of their own: reading the file (`readfile`), what syntax and shape errors say (`shape`),
the cross-references (`checks`), the amendments (`amendment_checks`), several plans (`several`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from scheduler.errors import PlanError, Problem
from scheduler.plan.amendment_checks import _amendment_problems
from scheduler.plan.checks import cross_references as _cross_references
from scheduler.plan.model import Plan
from scheduler.plan.readfile import MAX_BYTES, plan_files, read_text
from scheduler.plan.schema import PlanFile
from scheduler.plan.several import _linked, home_plan, merge_directories, with_prefix
from scheduler.plan.shape import (
    _Locator,
    _message,
    _refined,
    _repeated_key,
    _syntax_hint,
    _too_deep,
    _typos_first,
)
from scheduler.plan.sourcemap import SourceMap

__all__ = ["MAX_BYTES", "home_plan", "load_plan", "load_plans", "merge_directories", "plan_files", "read_text",
           "with_prefix"]


def load_plan(paths) -> Plan:
    """The plan in a file; or, given several files or a directory, the plans in them loaded together
    (`load_plans`)."""
    files = plan_files(paths)
    if len(files) > 1:
        return load_plans(files)
    file, where = _parse(files[0])
    problems = _cross_references(file, where)
    problems += _amendment_problems(file, where)
    file, found = _linked([(file, where)], {file.plan.id: ""}, 0)
    problems += found
    if problems:
        raise PlanError(problems)
    return _checked(Plan.build(file, where.path), where)


def _parse(path: Path) -> tuple[PlanFile, _Locator]:
    """The file read, parsed and shaped into a `PlanFile`; a `PlanError` listing what is wrong."""
    text = read_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        repeated = _repeated_key(text, error)
        if repeated is not None:
            line, message = repeated
            raise PlanError([Problem(path, f"TOML syntax: {message}", line=line)]) from None
        raise PlanError([Problem(path, f"TOML syntax: {error}{_syntax_hint(text, error)}")]) from None
    except RecursionError:
        message = "TOML syntax: arrays or inline tables nested too deeply (hundreds of levels)"
        raise PlanError([Problem(path, message, line=_too_deep(text))]) from None

    where = _Locator(path, SourceMap(text), raw)
    try:
        file = PlanFile.model_validate(raw)
    except ValidationError as error:
        found = [(loc, _message(e, loc, raw)) for loc, e in _typos_first(_refined(error.errors(), raw))]
        raise PlanError([where.problem(loc, message) for loc, message in found]) from None
    return file, where


def _checked(plan: Plan, where: _Locator, member: Plan | None = None) -> Plan:
    """The plan, once a trial expansion finds nothing wrong with its rows (`member`'s only, when given)."""
    from scheduler.calendar.expand import check_expansion

    problems = check_expansion(plan, lambda index, key: where.at(("obligation", index) + ((key,) if key else ())), member)
    if problems:
        raise PlanError(problems)
    return plan



def load_plans(paths: list[Path]) -> Plan:
    """Several plans loaded together, all or none: each is checked against the bodies of all of them
    (`merge_directories`), and the rows of every plan but the home one get ids of the form
    `<plan-id>/<row>` (see `home_plan`), so that ids stay unique and the home plan's never change."""
    parsed: list[tuple[PlanFile, _Locator]] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            parsed.append(_parse(path))
        except PlanError as error:
            problems += error.problems
    if problems:
        raise PlanError(problems)
    named: dict[str, Path] = {}
    for file, where in parsed:
        other = named.setdefault(file.plan.id, where.path)
        if other != where.path:
            problems.append(where.problem(("plan", "id"), f"plan id {file.plan.id!r} is also the id of the plan in {other}: "
                                          "each plan needs an id of its own"))
    directory, conflicts = merge_directories(parsed)
    problems += conflicts
    home = home_plan([file for file, _ in parsed])
    prefixes = {file.plan.id: "" if index == home else f"{file.plan.id}/" for index, (file, _) in enumerate(parsed)}
    parsed = [(file.model_copy(update=directory), where) for file, where in parsed]
    members: list[Plan] = []
    for index, (file, where) in enumerate(parsed):
        found = _cross_references(file, where) + _amendment_problems(file, where)
        file, links = _linked(parsed, prefixes, index)
        problems += [p for p in found + links if p not in problems]
        if index != home:
            file = with_prefix(file, prefixes[file.plan.id])
        members.append(Plan.build(file, where.path))
    if problems:
        raise PlanError(problems)
    together = Plan.together(members, home)
    for member, (_, where) in zip(members, parsed):
        try:
            _checked(together, where, member)
        except PlanError as error:
            problems += error.problems
    if problems:
        raise PlanError(problems)
    return together
