"""What a plan file's TOML syntax and shape errors say, and where: the line, the subject
("obligation 7"), and a hint at the fix (the key meant, the code meant, a date's format)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel

from scheduler.errors import Problem
from scheduler.plan import schema
from scheduler.plan.model import GOVERNMENT
from scheduler.plan.sourcemap import SourceMap
from scheduler.plan.suggest import closest as _closest
from scheduler.plan.suggest import did_you_mean as _did_you_mean

_ARRAY_SUBJECTS = {"obligation": "obligation", "heading": "heading", "section": "section"}
_TABLE_SUBJECTS = {"agency": "agency", "group": "group", "office": "office"}
_MAX_NESTING = 100  # no plan nests this deep; where tomllib gives up (hundreds), the line is found by it


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
