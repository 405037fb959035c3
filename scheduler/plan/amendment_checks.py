"""What the `[[plan.amendment]]` tables say must agree with the rows they change."""

from __future__ import annotations

from scheduler.errors import Problem
from scheduler.plan.model import GOVERNMENT, party_code
from scheduler.plan.schema import SCHEDULING_FIELDS, PlanFile, ScopedParty, parse_cell
from scheduler.plan.shape import _Locator


def _amendment_problems(file: PlanFile, where: _Locator) -> list[Problem]:
    """What the `[[plan.amendment]]` tables say must agree with the rows: the rows they change
    exist, `before` fits the cell and names known bodies, `after` is what the row now says."""
    from scheduler.plan.model import _with_heading, amendments_in_order

    problems: list[Problem] = []
    headings = {h.id: h for h in file.headings}
    rows = {o.id: _with_heading(o, headings.get(o.under or "")) for o in file.obligations}
    ordered = amendments_in_order(file.plan.amendments)
    numbers: dict[str, int] = {}

    for a_index, amendment in enumerate(file.plan.amendments):
        subject = f"amendment {amendment.number}"
        base = ("plan", "amendment", a_index)

        def problem(loc: tuple, message: str, base=base, subject=subject) -> None:
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
            row = rows.get(change.obligation)
            if row is None:
                hint = " (a heading: amend its sub-rows)" if change.obligation in headings else ""
                problem(("change", c_index, "obligation"), f"obligation {change.obligation!r} is not in the plan{hint}")
                continue
            _change_problems(file, problem, ("change", c_index), row, change, ordered, position)
            if change.field in SCHEDULING_FIELDS and amendment.effective_from is None:
                problem(("effective",), "needs an effective date to apply its changes")
    return problems


def _change_problems(file: PlanFile, problem, loc: tuple, row, change, ordered, position: int | None) -> None:
    """One change of an amendment: its instance exists, `before` and `after` parse and name known
    bodies, and the row's texts before and after it agree with what it says it did."""
    from scheduler.plan.model import texts_of

    if change.instance is not None and not any(_matches(i, change.instance) for i in row.instances):
        known = ", ".join(i.period or i.date.isoformat() for i in row.instances) or "none"
        problem(loc + ("instance",), f"obligation {row.id} has no instance {str(change.instance)!r} (its instances: {known})")
        return
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
        return
    try:
        texts = texts_of(row, ordered)
    except ValueError:
        return  # `before` did not parse: reported above
    after_text, before_text = texts[position + 1], texts[position]
    if change.removed and before_text is None:
        problem(loc + ("removed",), f"obligation {row.id} is removed, but it did not exist before (added later, or removed twice)")
    elif change.added and after_text is None:
        problem(loc + ("added",), f"obligation {row.id} is added, but a later amendment removes it before it is in force")
    elif change.field is not None and (before_text is None or after_text is None):
        problem(loc + ("field",), f"obligation {row.id} does not exist when this amendment takes effect (added later or removed)")
    elif change.field is not None and "after" in change.model_fields_set:
        _after_problem(problem, loc, row, change, after_text)


def _after_problem(problem, loc: tuple, row, change, after_text) -> None:
    """`after` repeats what the row says once the change is made: a mismatch is a problem."""
    try:
        stated = parse_cell(change.field, change.after, instance=change.instance is not None)
    except ValueError:
        return
    actual = getattr(after_text, change.field) if change.instance is None else next(
        getattr(i, change.field) for i in after_text.instances if _matches(i, change.instance)
    )
    if stated != actual:
        problem(loc + ("after",),
                f"obligation {row.id}: after = {change.after!r}, but after this amendment the row's {change.field} is "
                f"{_shown(actual)} (the file holds the plan as amended; `after` repeats it)")


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
