""""Did you mean …?": the one way the program guesses what a misspelt code, key or id was meant to
be — in the plan file's checks, the contacts file and every command-line option that takes a code
(`expand --agency`, `explain ID`, `close ID` / `--agency`, `feeds issue --agency`). Light: difflib
only, so that the command line imports it without the plan's schema."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt `word` (difflib, ratio ≥ 0.6), or the only candidate that
    starts it or that it starts (three letters at least); None when nothing is close."""
    word, candidates = str(word), list(candidates)
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return close[0]
    started = [c for c in candidates if len(word) >= 3 and (c.startswith(word) or word.startswith(c))]
    return started[0] if len(started) == 1 else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """": did you mean 'labour'?" for the candidate closest to a misspelt `word`, or ""."""
    close = closest(word, candidates)
    return f": did you mean {close!r}?" if close else ""


def unknown_agency(plan, code: str) -> str:
    """"unknown agency code 'finanse': did you mean 'finance'?" (the codes of the plans loaded)."""
    return f"unknown agency code {code!r}{did_you_mean(code, plan.file.agencies)}"


def meant_occurrence(plan, calendar, occurrence_id: str) -> str | None:
    """The occurrence id probably meant by one the plans do not produce (a misspelt obligation,
    agency or period: "7:finanse:2022" → "7:finance:2022"), or None when none is close."""
    from scheduler.calendar.expand import expand

    parts = occurrence_id.split(":")
    if len(parts) != 3 or not all(parts):
        return None
    obligation_id, agency, period = parts
    if plan.obligation(obligation_id) is None:
        obligation_id = closest(obligation_id, [o.id for o in plan.obligations]) or obligation_id
    if plan.agency(agency) is None:
        agency = closest(agency, plan.file.agencies) or agency
    if plan.obligation(obligation_id) is None or plan.agency(agency) is None:
        return None
    owed = [o.id for o in expand(plan, calendar, obligation=obligation_id, agency=agency)]
    guess = f"{obligation_id}:{agency}:{period}"
    meant = guess if guess in owed else closest(guess, owed)
    return meant if meant != occurrence_id else None


def occurrence_hint(plan, calendar, occurrence_id: str) -> str:
    """What is wrong with an occurrence id the plans do not produce, and the id probably meant:
    ": unknown agency code 'finanse': did you mean '7:finance:2022'?"; "" when the plans know it."""
    parts = occurrence_id.split(":")
    if len(parts) != 3 or not all(parts):
        return ": expected <obligation>:<agency>:<period>, e.g. 7:finance:2022"
    obligation_id, agency, _ = parts
    said = []
    if plan.obligation(obligation_id) is None:
        said.append(f"the plan has no obligation {obligation_id!r}")
    if plan.agency(agency) is None:
        said.append(f"unknown agency code {agency!r}")
    meant = meant_occurrence(plan, calendar, occurrence_id)
    text = "".join(f": {s}" for s in said)
    return f"{text}: did you mean {meant!r}?" if meant else text
