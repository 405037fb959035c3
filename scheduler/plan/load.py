"""Reading `obligations.toml`: syntax, shape, cross-references, then a trial expansion.

Every problem found is collected with its file, line and subject; the caller gets either a whole,
consistent `Plan` or one `PlanError` listing them all. Nothing is half-loaded.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ValidationError

from scheduler.errors import PlanError, Problem
from scheduler.plan import schema
from scheduler.plan.model import GOVERNMENT, Plan, party_code
from scheduler.plan.schema import GroupMember, PlanFile, ScopedParty
from scheduler.plan.sourcemap import SourceMap
from scheduler.plan.suggest import closest as _closest
from scheduler.plan.suggest import did_you_mean as _did_you_mean

_ARRAY_SUBJECTS = {"obligation": "obligation", "heading": "heading", "section": "section"}
_TABLE_SUBJECTS = {"agency": "agency", "group": "group", "office": "office"}


MAX_BYTES = 4 << 20  # a plan or a contacts file of more than 4 MiB is not one a person keeps
_MAX_NESTING = 100  # no plan nests this deep; where tomllib gives up (hundreds), the line is found by it


def read_text(path: Path, problem_type=PlanError, hint: str = "") -> str:
    """The file's text, or `problem_type` naming the file (and line) and why it cannot be used.

    Only a regular file of at most MAX_BYTES is read: a device (/dev/zero), a FIFO or a huge file
    gets a message, never a hang. `hint` is added to the messages about the encoding.
    """
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise problem_type([Problem(path, "not a regular file (a device, a pipe or a socket)")])
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise problem_type([Problem(path, "no such file")]) from None
    except IsADirectoryError:
        raise problem_type([Problem(path, "is a directory, not a file")]) from None
    except OSError as error:
        raise problem_type([Problem(path, f"cannot be read: {error.strerror}")]) from None
    if len(data) > MAX_BYTES:
        raise problem_type([Problem(path, f"larger than {MAX_BYTES >> 20} MiB: not a file this program reads")])
    if not data.strip():
        raise problem_type([Problem(path, "the file is empty")])
    if b"\x00" in data:
        message = "this is a binary file, not UTF-8 text" + hint
        raise problem_type([Problem(path, message, line=data[: data.index(b"\x00")].count(b"\n") + 1)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{data[error.start]:02x})" + hint
        raise problem_type([Problem(path, message, line=line)]) from None
    return text.removeprefix("\ufeff")


def _open_nonblocking(path, flags: int) -> int:
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting; the file type
    # is then checked on the descriptor, so nothing is read from anything but a regular file.
    descriptor = os.open(path, flags | os.O_NONBLOCK)
    os.set_blocking(descriptor, True)
    return descriptor


def plan_files(paths) -> list[Path]:
    """The plan files that `paths` names: a file, or every `*.toml` of a directory (in name order);
    `paths` may be one path or several (`--plan` given more than once). A file named twice counts once."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: dict[Path, Path] = {}
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.toml") if p.is_file())
            if not inside:
                raise PlanError([Problem(path, "is a directory with no *.toml plan in it")])
        else:
            inside = [path]
        for file in inside:
            found.setdefault(file.resolve(), file)
    return list(found.values())


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


def _too_deep(text: str) -> int | None:
    """The line on which brackets and braces first nest deeper than _MAX_NESTING, outside strings
    and comments; None if they never do."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
        elif char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif char in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else char
            j = i + len(quote)
            while j < n and not text.startswith(quote, j) and (len(quote) == 3 or text[j] != "\n"):
                j += 2 if char == '"' and text[j] == "\\" else 1
            line += text.count("\n", i, j)
            i = j + len(quote)
            continue
        elif char in "[{":
            depth += 1
            if depth > _MAX_NESTING:
                return line
        elif char in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return None


_NOTHING = object()
_MODEL_NAMES = frozenset(name for name, value in vars(schema).items() if isinstance(value, type) and issubclass(value, BaseModel))
_DATE_TYPES = {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_future", "date_past"}
_INT_TYPES = {"int_type", "int_parsing", "int_from_float"}
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")
_MONTHS = (  # the first letters of each month's name, in Kazakh, Russian and English
    ("қаң", "янв", "jan"), ("ақп", "фев", "feb"), ("нау", "мар", "mar"), ("сәу", "апр", "apr"),
    ("мам", "мая", "май", "may"), ("мау", "июн", "jun"), ("шіл", "июл", "jul"), ("там", "авг", "aug"),
    ("қыр", "сен", "sep"), ("қаз", "окт", "oct"), ("қар", "ноя", "nov"), ("жел", "дек", "dec"),
)


def _syntax_hint(text: str, error: tomllib.TOMLDecodeError) -> str:
    """What to write instead, for the syntax mistakes people make filling in a plan."""
    line = getattr(error, "lineno", None)
    if line is None:
        found = re.search(r"at line (\d+)", str(error))
        line = int(found.group(1)) if found else None
    if line is None or not 0 < line <= len(text.splitlines()):
        return ""
    source = text.splitlines()[line - 1]
    dotted = re.search(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b", source)
    if dotted:
        day, month, year = (int(n) for n in dotted.groups())
        return f": write dates as {year:04d}-{month:02d}-{day:02d} (year-month-day, without quotes), not {dotted.group(0)}"
    named = re.search(r"\bmonth\s*=\s*([^\s\d,}]+)", source)
    number = _month_number(named.group(1)) if named else None
    if number is not None:
        return f": write the month as a number, month = {number}"
    return ""


def _refined(errors, raw) -> list[tuple[tuple, dict]]:
    """pydantic's errors as a person needs them: for a code-or-table union (`responsible`, group
    members) only the branch that fits what was written, and one error for a `responsible` that is
    not a list. Each comes with its location without the union's branch labels."""
    kept: list[tuple[tuple, dict]] = []
    said: set[tuple] = set()
    for error in errors:
        loc = tuple(error["loc"])
        plain = tuple(p for p in loc if not _is_label(p))
        if "responsible" in plain:
            key = plain[: plain.index("responsible") + 1]
            whole = _walk(raw, key)
            if whole is not _NOTHING and not isinstance(whole, list) and whole != "all":
                if key not in said:
                    said.add(key)
                    kept.append((key, {"type": "responsible_shape", "loc": key, "input": whole, "msg": ""}))
                continue
        fits = True
        for index, part in enumerate(loc):
            if not _is_label(part):
                continue
            written = _walk(raw, tuple(p for p in loc[:index] if not _is_label(p)))
            if part.startswith("literal[") and isinstance(written, list):
                fits = False  # a list was written: the list branch says what is wrong with it
            elif part == "constrained-str" and not isinstance(written, str):
                fits = False
            elif part[:1].isupper() and isinstance(written, str):
                fits = False
        if fits:
            kept.append((plain, error))
    return kept or [(tuple(p for p in e["loc"] if not _is_label(p)), e) for e in errors]


def _typos_first(errors: list[tuple[tuple, dict]]) -> list[tuple[tuple, dict]]:
    """Unknown keys first, each with the key it was probably meant to be ("responsable" →
    "responsible": a required key missing from the same table first, else any key the table takes);
    the rest after, in their order (a required key missing because it was misspelt among them)."""
    missing = {loc[:-1]: [] for loc, e in errors if e["type"] == "missing"}
    for loc, e in errors:
        if e["type"] == "missing":
            missing[loc[:-1]].append(loc[-1])
    typos: list[tuple[tuple, dict]] = []
    for loc, e in errors:
        if e["type"] != "extra_forbidden" or not loc:
            continue
        parent, key = loc[:-1], str(loc[-1])
        meant = _closest(key, missing.get(parent, ())) or _closest(key, [f for f in _keys_at(parent) if f != key])
        typos.append((loc, {**e, "meant": meant}))
    rest = [(loc, e) for loc, e in errors if e["type"] != "extra_forbidden"]
    return typos + rest


def _keys_at(loc: tuple) -> list[str]:
    """The keys the plan file allows in the table at `loc` (every branch of a union)."""
    import typing

    def leaves(annotation) -> list:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            return leaves(typing.get_args(annotation)[0])
        if origin is typing.Union or type(annotation).__name__ == "UnionType":
            return [leaf for arg in typing.get_args(annotation) for leaf in leaves(arg)]
        return [annotation]

    def step(annotation, part) -> list:
        found = []
        for leaf in leaves(annotation):
            origin, args = typing.get_origin(leaf), typing.get_args(leaf)
            if isinstance(leaf, type) and issubclass(leaf, BaseModel) and isinstance(part, str):
                found += [f.annotation for name, f in leaf.model_fields.items() if part in (name, f.alias)]
            elif origin is tuple and isinstance(part, int) and args:
                found.append(args[0])
            elif origin is dict and isinstance(part, str) and len(args) == 2:
                found.append(args[1])
        return found

    current = [schema.PlanFile]
    for part in loc:
        if _is_label(part):
            continue
        current = [after for annotation in current for after in step(annotation, part)]
    keys: dict[str, None] = {}
    for annotation in current:
        for leaf in leaves(annotation):
            if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                keys.update((f.alias or name, None) for name, f in leaf.model_fields.items() if not f.exclude)
    return list(keys)


def _is_label(part) -> bool:
    """A union branch's name in a pydantic location ("tuple[...]", "constrained-str", "ScopedParty")."""
    return isinstance(part, str) and ("[" in part or part == "constrained-str" or part in _MODEL_NAMES)


def _walk(raw, path: tuple):
    for part in path:
        try:
            raw = raw[part]
        except (KeyError, IndexError, TypeError):
            return _NOTHING
    return raw


def _message(error, loc=None, raw=None) -> str:
    loc = tuple(error["loc"]) if loc is None else loc
    raw = raw if raw is not None else {}
    message = error["msg"].removeprefix("Value error, ")
    value, kind, key = error.get("input"), error["type"], _dotted(loc)
    at = f"{key}: " if key else ""
    if kind == "missing":
        return f"{at}required key is missing"
    if kind == "extra_forbidden":
        meant = error.get("meant")
        if meant:
            return f"{at}unknown key: did you mean {meant!r}? (write {meant} = …)"
        return f"{at}unknown key (a typo?)"
    if kind == "responsible_shape":
        if isinstance(value, str):
            return (f"responsible = {_quoted(value)}: write a list in square brackets, "
                    f"responsible = [{_quoted(value)}] (several: [\"mvd\", \"akimats\"]), or responsible = \"all\"")
        return 'responsible: write a list of codes in square brackets, responsible = ["mvd", "akimats"], or responsible = "all"'
    if kind in _DATE_TYPES:
        return f"{at}{_shown_input(value)} is not a date: {_date_hint(value)}"
    if kind in _INT_TYPES:
        if loc and loc[-1] == "month":
            number = _month_number(value)
            if number is not None:
                return f"{at}{_shown_input(value)} is not a number: write the month as a number, month = {number}"
            return f"{at}{_shown_input(value)} is not a number: write the month as a number 1–12 (month = 12 for December)"
        return f"{at}{_shown_input(value)} is not a whole number: write digits without quotes, e.g. {loc[-1] if loc else 'day'} = 10"
    if kind == "union_tag_invalid" and "kind" in error.get("ctx", {}).get("discriminator", ""):
        tag = error.get("ctx", {}).get("tag", "")
        kinds = [k.strip(" '") for k in error.get("ctx", {}).get("expected_tags", "").split(",")]
        close = _closest(tag, kinds)
        guess = f" (did you mean {close!r}?)" if close else ""
        return f"{at}unknown rule kind {tag!r}{guess}: write kind = one of: {', '.join(kinds)}"
    if kind == "string_too_short":
        return f"{at}empty: write the text between the quotes ({loc[-1] if loc else 'title_kk'} = \"…\")"
    if kind == "string_pattern_mismatch" and _CODE_PATTERN in error.get("ctx", {}).get("pattern", ""):
        return f"{at}{_code_hint(value, raw)}"
    if kind == "literal_error" and isinstance(value, str):
        allowed = error.get("ctx", {}).get("expected", "")
        options = re.findall(r"'([^']*)'", allowed)
        close = _closest(value, options)
        guess = f" (did you mean {close!r}?)" if close else ""
        return f"{at}{value!r} is not allowed{guess}: write one of: {allowed}"
    return f"{at}{message}"


_CODE_PATTERN = "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _shown_input(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _date_hint(value) -> str:
    if isinstance(value, str):
        dotted = re.fullmatch(r"\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s*", value)
        if dotted:
            day, month, year = (int(n) for n in dotted.groups())
            return f"write dates as {year:04d}-{month:02d}-{day:02d} (year-month-day, without quotes)"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return "no such day; write an existing date as year-month-day without quotes, e.g. 2024-12-10"
    return "write dates as 2024-12-10 (year-month-day, without quotes)"


def _month_number(value) -> int | None:
    if not isinstance(value, str):
        return None
    word = value.strip().casefold()
    for number, stems in enumerate(_MONTHS, 1):
        if any(word.startswith(stem) for stem in stems):
            return number
    return None


_REPEATED = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*(?:\.|=)")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")


def _repeated_key(text: str, error: tomllib.TOMLDecodeError) -> tuple[int, str] | None:
    """For tomllib's "Cannot overwrite a value": (the line, what to do) naming the key that repeats,
    where it was first set, and, in an array of tables (two rows' keys run together), the
    `[[obligation]]` line that is probably missing; None for other syntax errors."""
    if not str(error).startswith("Cannot overwrite a value"):
        return None
    found = re.search(r"at line (\d+)", str(error))
    lines = text.splitlines()
    if found is None or not 0 < int(found.group(1)) <= len(lines):
        return None
    line = int(found.group(1))
    key = _REPEATED.match(lines[line - 1])
    if key is None:
        return None
    name = key.group(1).strip('"')
    header, header_line, first = None, 0, None
    for number in range(line - 1, 0, -1):
        source = lines[number - 1]
        heading = _HEADER.match(source)
        if heading:
            header = f"{heading.group(1)}{heading.group(2)}{']' * len(heading.group(1))}"
            header_line = number
            break
        match = _REPEATED.match(source)
        if match and match.group(1).strip('"') == name and first is None:
            first = number
    if first is None:
        return None
    table = header or "the top of the file"
    if header is not None and header.startswith("[["):
        start = line  # the second row: its first key after the blank line or comment that parts the rows
        for number in range(line - 1, first, -1):
            source = lines[number - 1].strip()
            if not source or source.startswith("#"):
                break
            start = number
        if header.startswith("[[obligation."):  # a row's keys run into the previous row's last instance
            new_row = next((n for n in range(header_line + 1, line)
                            if (m := _REPEATED.match(lines[n - 1])) and m.group(1).strip('"') == "id"), None)
            if new_row is not None:
                return line, (f"key {name!r} is set twice in one {header} table (first on line {first}, again on "
                              f"line {line}): the row that starts on line {new_row} runs into the instance above it; a "
                              f"[[obligation]] line is probably missing above line {new_row}: each row starts with its "
                              "own [[obligation]]")
        return line, (f"key {name!r} is set twice in one {header} table (first on line {first}, again on line "
                      f"{line}): two rows' keys run together; a {header} line is probably missing above line "
                      f"{start}: each row starts with its own {header}")
    return line, (f"key {name!r} is set twice in {table} (first on line {first}, again on line {line}): "
                  "keep one, or start a new table above the second")


def _code_of_name(word: str, agencies: dict) -> str | None:
    """The code of the body whose short name, alias or name is `word` (ІІМ → mvd), if any."""
    wanted = word.strip().casefold()
    for code, agency in agencies.items():
        if not isinstance(agency, dict):
            continue
        names = [agency.get("short_kk"), agency.get("name_kk"), agency.get("name_ru"), agency.get("name_en"),
                 *(agency.get("aliases_kk") or ())]
        if any(isinstance(n, str) and n.strip().casefold() == wanted for n in names):
            return code
    return None


_GOVERNMENT_NAMES = re.compile(r"үкімет|правительств|government", re.IGNORECASE)
"""The Government as the plan's text names it (Үкімет, Правительство, Government): its code is `government`."""


def _code_hint(value, raw: dict) -> str:
    agencies = raw.get("agency") if isinstance(raw.get("agency"), dict) else {}
    if not isinstance(value, str):
        return f"{value!r} is not a code: write the body's code in quotes, e.g. \"mvd\""
    if _GOVERNMENT_NAMES.search(value):
        return f"{value!r} is the Government's name, not a code: write {GOVERNMENT!r} (recipient = \"{GOVERNMENT}\")"
    code = _code_of_name(value, agencies)
    if code is not None:
        return f"{value!r} is a body's name, not its code: write its code {code!r}"
    codes = [*agencies, *(raw.get("group") or {}), *(raw.get("office") or {})]
    suggestion = _did_you_mean(value.strip().lower().replace(" ", "-").replace("_", "-"), codes)
    return (f"{value!r} is not a code: codes are lowercase Latin letters, digits and hyphens, as in the "
            f"[agency.<code>] tables{suggestion}")


def _dotted(loc) -> str:
    # The subject ("obligation 7", "agency labour") already names the table: drop it from the path.
    if len(loc) >= 2 and (loc[0] in _ARRAY_SUBJECTS or loc[0] in _TABLE_SUBJECTS):
        loc = loc[2:]
    return ".".join(str(part) for part in loc if not isinstance(part, int) and not _is_label(part))


class _Locator:
    """Turns a pydantic-style path into a line number and a subject such as "obligation 7"."""

    def __init__(self, path: Path, source: SourceMap, raw: dict):
        self.path, self.source, self.raw = path, source, raw

    def at(self, loc: tuple) -> tuple[int | None, str | None]:
        return self.source.line_of(loc), self._subject(loc)

    def problem(self, loc: tuple, message: str) -> Problem:
        line, subject = self.at(loc)
        return Problem(self.path, message, line=line, subject=subject)

    def _subject(self, loc: tuple) -> str | None:
        if len(loc) >= 2 and loc[0] in _ARRAY_SUBJECTS and isinstance(loc[1], int):
            try:
                entry = self.raw[loc[0]][loc[1]]
            except (KeyError, IndexError, TypeError):
                return None
            name = entry.get("id", entry.get("number")) if isinstance(entry, dict) else None
            return f"{_ARRAY_SUBJECTS[loc[0]]} {name}" if name is not None else f"{loc[0]} #{loc[1] + 1}"
        if len(loc) >= 2 and loc[0] in _TABLE_SUBJECTS:
            return f"{_TABLE_SUBJECTS[loc[0]]} {loc[1]}"
        return None


def _cross_references(file: PlanFile, where: _Locator) -> list[Problem]:
    problems: list[Problem] = []

    def problem(loc: tuple, message: str) -> None:
        problems.append(where.problem(loc, message))

    agencies, groups, offices = file.agencies, file.groups, file.offices
    period = range(file.plan.period.first, file.plan.period.last + 1)
    period_text = f"{file.plan.period.first}–{file.plan.period.last}"

    for namespace, names in (("group", groups), ("office", offices)):
        for code in names:
            if code in agencies:
                problem((namespace, code), f"code {code!r} is already an agency's; codes must be unique")

    if file.plan.adopted < file.plan.date:
        problem(("plan", "adopted"), f"adopted {file.plan.adopted} is before the act's date {file.plan.date}")
    if file.plan.adopted.year > file.plan.period.last:
        problem(("plan", "adopted"), f"adopted {file.plan.adopted} after the plan's period {period_text}")
    if file.plan.coordinator not in agencies and file.plan.coordinator not in offices:
        suggestion = _did_you_mean(file.plan.coordinator, [*agencies, *offices])
        problem(("plan", "coordinator"), f"coordinator {file.plan.coordinator!r} is neither an agency nor an office{suggestion}")
    elif file.plan.coordinator in agencies and agencies[file.plan.coordinator].placeholder:
        problem(("plan", "coordinator"), f"coordinator {file.plan.coordinator!r} is a placeholder (no addressee): "
                                         "the digest needs a body the plan names")

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

    for code, group in groups.items():
        for member in group.members:
            member_code = member.agency if isinstance(member, GroupMember) else member
            if member_code not in agencies:
                problem(("group", code, "members"), f"member {member_code!r} is not an agency")
        members = [m.agency if isinstance(m, GroupMember) else m for m in group.members]
        for repeated in sorted(c for c, n in Counter(members).items() if n > 1):
            problem(("group", code, "members"), f"member {repeated!r} is listed twice")

    for code, office in offices.items():
        held: dict[int, str] = {}
        for tenure in office.held_by:
            if tenure.agency not in agencies:
                problem(("office", code, "held_by"), f"holder {tenure.agency!r} is not an agency")
            for year in tenure.years:
                if year in held:
                    problem(("office", code, "held_by"), f"{year} is held by both {held[year]} and {tenure.agency}")
            if tenure.agency in agencies and agencies[tenure.agency].placeholder:
                problem(("office", code, "held_by"), f"holder {tenure.agency!r} is a placeholder (no addressee): "
                                                     "an office is held by a body the plan names")
                held[year] = tenure.agency

    section_numbers = [s.number for s in file.sections]
    for index, section in enumerate(file.sections):
        if section_numbers.count(section.number) > 1 and section_numbers.index(section.number) != index:
            problem(("section", index, "number"), f"section {section.number} is defined twice")

    if not agencies:
        problem(("agency",), "the plan has no [agency.<code>] tables")
    if not file.obligations:
        problem(("obligation",), "the plan has no [[obligation]] tables")
    heading_ids = {h.id for h in file.headings}
    obligation_ids = {o.id for o in file.obligations}
    first_seen: dict[str, int] = {}
    for index, heading in enumerate(file.headings):
        if heading.id in obligation_ids:
            problem(("heading", index, "id"), f"id {heading.id!r} is also an obligation's id")
        if file.sections and heading.section is not None and heading.section not in section_numbers:
            problem(("heading", index, "section"), f"section {heading.section} is not defined")

    def check_party(loc: tuple, ref) -> None:
        code = party_code(ref)
        if code == "all":
            problem(loc, "'all' stands alone: responsible = \"all\"")
        elif code not in agencies and code not in groups and code not in offices:
            problem(loc, f"unknown agency or group {code!r}{_did_you_mean(code, [*agencies, *groups, *offices])}")
        if isinstance(ref, ScopedParty):
            outside = [y for y in ref.years if y not in period]
            if outside:
                problem(loc, f"year scope {', '.join(map(str, outside))} is outside the plan's period {period_text}")

    def check_recipient(loc: tuple, code: str | None) -> None:
        if code is not None and code != GOVERNMENT and code not in agencies and code not in offices:
            what = " (a group cannot receive)" if code in groups else ""
            suggestion = what or _did_you_mean(code, [*agencies, *offices, GOVERNMENT])
            problem(loc, f"recipient {code!r} is not an agency, an office or {GOVERNMENT!r}{suggestion}")
        elif code in agencies and agencies[code].placeholder:
            problem(loc, f"recipient {code!r} is a placeholder (placeholder = true: no addressee), so nothing can be "
                         "sent to it; name the body that receives, or leave the recipient out")

    for index, heading in enumerate(file.headings):
        check_recipient(("heading", index, "recipient"), heading.recipient)

    headings = {h.id: h for h in file.headings}
    for index, ob in enumerate(file.obligations):
        loc = ("obligation", index)
        if ob.id in first_seen:
            first_line = where.at(("obligation", first_seen[ob.id], "id"))[0]
            problem(loc + ("id",), f"duplicate id {ob.id!r}, already used on line {first_line}")
        first_seen.setdefault(ob.id, index)
        if ob.under is not None and ob.under not in heading_ids:
            problem(loc + ("under",), f"heading {ob.under!r} is not defined")
        if file.sections and ob.section is not None and ob.section not in section_numbers:
            problem(loc + ("section",), f"section {ob.section} is not defined")
        if ob.responsible != "all":
            for ref in ob.responsible:
                check_party(loc + ("responsible",), ref)
        check_recipient(loc + ("recipient",), ob.recipient)
        rule = ob.due if ob.due is not None else getattr(headings.get(ob.under or ""), "due", None)
        if rule is None:
            problem(loc, "due: required key is missing (no rule here or in its heading)")
            continue
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
                problem(loc + ("due",), f"date {day} is after the plan's period {period_text}: write a date "
                        f"from {file.plan.adopted} to {file.plan.period.last}-12-31")
        periods = Counter(i.period or i.date.isoformat() for i in ob.instances)
        for j, instance in enumerate(ob.instances):
            iloc = loc + ("instance", j)
            check_recipient(iloc + ("recipient",), instance.recipient)
            for ref in instance.responsible or ():
                check_party(iloc + ("responsible",), ref)
            if instance.date < file.plan.adopted:
                problem(iloc + ("date",), f"date {instance.date} is before the plan's adoption ({file.plan.adopted})")
            label = instance.period or instance.date.isoformat()
            if periods[label] > 1:
                problem(iloc + ("period",), f"period {label!r} is used by more than one instance")
    return problems


def _amendment_problems(file: PlanFile, where: _Locator) -> list[Problem]:
    """What the `[[plan.amendment]]` tables say must agree with the rows: the rows they change
    exist, `before` fits the cell and names known bodies, `after` is what the row now says."""
    from scheduler.plan.model import _with_heading, amendments_in_order, texts_of
    from scheduler.plan.schema import SCHEDULING_FIELDS, parse_cell

    problems: list[Problem] = []
    headings = {h.id: h for h in file.headings}
    rows = {o.id: _with_heading(o, headings.get(o.under or "")) for o in file.obligations}
    ordered = amendments_in_order(file.plan.amendments)
    numbers: dict[str, int] = {}

    for a_index, amendment in enumerate(file.plan.amendments):
        subject = f"amendment {amendment.number}"
        base = ("plan", "amendment", a_index)

        def problem(loc: tuple, message: str) -> None:
            problems.append(Problem(where.path, message, line=where.source.line_of(base + loc), subject=subject))

        if amendment.number in numbers:
            first = where.source.line_of(("plan", "amendment", numbers[amendment.number]))
            problem(("number",), f"amendment No. {amendment.number} is listed twice (first on line {first})")
        numbers.setdefault(amendment.number, a_index)
        if amendment.date < file.plan.date:
            problem(("date",), f"date {amendment.date} is before the plan's own act ({file.plan.date})")
        effective = amendment.effective_from
        if effective is not None and effective < file.plan.adopted:
            problem(("effective",), f"in force from {effective}, before the plan's adoption ({file.plan.adopted})")
        position = next((i for i, a in enumerate(ordered) if a is amendment), None)
        for c_index, change in enumerate(amendment.changes):
            loc = ("change", c_index)
            row = rows.get(change.obligation)
            if row is None:
                hint = " (a heading: amend its sub-rows)" if change.obligation in headings else ""
                problem(loc + ("obligation",), f"obligation {change.obligation!r} is not in the plan{hint}")
                continue
            if change.instance is not None:
                if not any(_matches(i, change.instance) for i in row.instances):
                    known = ", ".join(i.period or i.date.isoformat() for i in row.instances) or "none"
                    problem(loc + ("instance",), f"obligation {row.id} has no instance {str(change.instance)!r} (its instances: {known})")
                    continue
            for key in ("before", "after"):
                if key not in change.model_fields_set or change.field is None:
                    continue
                try:
                    value = parse_cell(change.field, getattr(change, key), instance=change.instance is not None)
                except ValueError as error:
                    problem(loc + (key,), f"obligation {row.id}: {key}: {error}")
                    continue
                for message in _unknown_codes(file, change.field, value):
                    problem(loc + (key,), f"obligation {row.id}: {key}: {message}")
            if position is None:
                continue
            try:
                texts = texts_of(row, ordered)
            except ValueError:
                continue  # `before` did not parse: reported above
            after_text, before_text = texts[position + 1], texts[position]
            if change.removed and before_text is None:
                problem(loc + ("removed",), f"obligation {row.id} is removed, but it did not exist before (added later, or removed twice)")
            elif change.added and after_text is None:
                problem(loc + ("added",), f"obligation {row.id} is added, but a later amendment removes it before it is in force")
            elif change.field is not None and (before_text is None or after_text is None):
                problem(loc + ("field",), f"obligation {row.id} does not exist when this amendment takes effect (added later or removed)")
            elif change.field is not None and "after" in change.model_fields_set:
                try:
                    stated = parse_cell(change.field, change.after, instance=change.instance is not None)
                except ValueError:
                    continue
                actual = getattr(after_text, change.field) if change.instance is None else next(
                    getattr(i, change.field) for i in after_text.instances if _matches(i, change.instance)
                )
                if stated != actual:
                    problem(
                        loc + ("after",),
                        f"obligation {row.id}: after = {change.after!r}, but after this amendment the row's {change.field} is "
                        f"{_shown(actual)} (the file holds the plan as amended; `after` repeats it)",
                    )
            if change.field in SCHEDULING_FIELDS and amendment.effective_from is None:
                problem(("effective",), "needs an effective date to apply its changes")
    return problems


def _matches(instance, key) -> bool:
    import datetime as dt

    return instance.date == key if isinstance(key, dt.date) else (instance.period or instance.date.isoformat()) == key


def _shown(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(party_code(v) if isinstance(v, (str, ScopedParty)) else str(v) for v in value) + "]"
    return repr(value) if value is not None else "empty"


def _unknown_codes(file: PlanFile, field: str, value) -> list[str]:
    messages = []
    if field == "responsible" and value not in (None, "all"):
        for ref in value:
            code = party_code(ref)
            if code not in file.agencies and code not in file.groups and code not in file.offices:
                messages.append(f"unknown agency or group {code!r}")
    if field == "recipient" and value is not None:
        if value != GOVERNMENT and value not in file.agencies and value not in file.offices:
            messages.append(f"recipient {value!r} is not an agency, an office or {GOVERNMENT!r}")
    return messages
