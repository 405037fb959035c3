"""Closing a whole history in one step, for a secretariat that starts mid-plan: every occurrence still
owed (open or returned, still in the plan) that matches a selection — an agency, a year of the due
date, due before a date, any of them together — is closed with one reason.

One transaction: each occurrence gets its own `close` event, the same as `answer.act(..., "close")`
writes (the state machine decides, `answer._write` records state and event under the version check),
and if any of them cannot be closed — someone acted on it meanwhile — nothing at all is recorded.
Closing stops the ladder; `reopen` undoes it one occurrence at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler import answers as machine
from scheduler.answers import CLOSE, LADDER_RUNS, OPERATOR_ACTOR, Actor
from scheduler.app import webhooks
from scheduler.app.answer import _load, _plan_date, _text, _write
from scheduler.errors import BadInput
from scheduler.store import chain
from scheduler.store.db import session
from scheduler.store.tables import OccurrenceRow


class SelectionChanged(BadInput):
    """The selection no longer matches what the person confirmed: nothing was recorded."""


@dataclass(frozen=True)
class Selection:
    agency: str | None = None
    year: int | None = None  # of the (effective) due date
    before: dt.date | None = None  # due before this date

    @property
    def empty(self) -> bool:
        return self.agency is None and self.year is None and self.before is None

    def described(self) -> str:
        parts = [f"agency {self.agency}" if self.agency else "", f"due in {self.year}" if self.year is not None else "",
                 f"due before {self.before.isoformat()}" if self.before else ""]
        return ", ".join(p for p in parts if p)


def check(selection: Selection, plan) -> None:
    """BadInput when the selection is not one: nothing chosen, an agency the plan does not know, a
    year that is not one. A selection that matches nothing is not an error."""
    if selection.empty:
        raise BadInput("choose what to close: an agency, a year and/or a date the deadlines are due before")
    if selection.agency is not None and plan.agency(selection.agency) is None:
        raise BadInput(f"agency {selection.agency!r}: no such agency in the plan")
    if selection.year is not None and not 1 <= selection.year <= 9999:
        raise BadInput(f"year {selection.year}: not a year")


def _owed(db: Session, selection: Selection) -> list[str]:
    query = select(OccurrenceRow.id).where(OccurrenceRow.status == "active",
                                          col(OccurrenceRow.state).in_(sorted(LADDER_RUNS)))
    if selection.agency is not None:
        query = query.where(OccurrenceRow.agency == selection.agency)
    if selection.year is not None:
        query = query.where(col(OccurrenceRow.due).between(dt.date(selection.year, 1, 1), dt.date(selection.year, 12, 31)))
    if selection.before is not None:
        query = query.where(col(OccurrenceRow.due) < selection.before)
    return list(db.exec(query.order_by(OccurrenceRow.due, OccurrenceRow.id)))


def owed(engine: Engine, selection: Selection) -> list[str]:
    """The ids of the occurrences the selection would close, by due date."""
    with session(engine) as db:
        return _owed(db, selection)


def close(engine: Engine, timing, selection: Selection, *, reason: str, now: dt.datetime,
          actor: Actor = OPERATOR_ACTOR, client: str | None = None, expected: int | None = None) -> list[str]:
    """Close every occurrence the selection matches, with `reason`, in one transaction; the ids
    closed. `expected`: how many the person was shown; if the selection now matches another number,
    SelectionChanged and nothing recorded."""
    if selection.empty:
        raise BadInput("choose what to close: an agency, a year and/or a date the deadlines are due before")
    with session(engine) as db:
        ids = _owed(db, selection)
        if expected is not None and len(ids) != expected:
            raise SelectionChanged(f"the selection ({selection.described()}) now matches {len(ids)} deadline(s), "
                                   f"not {expected}: nothing was closed; look at it again")
        for oid in ids:
            text = _text("reason", reason, oid)
            row, _, answer = _load(db, oid)
            decision = machine.decide(answer, CLOSE, actor, occurrence_id=oid, agency=row.agency,
                                      cancelled=row.status != "active", reason=text, plan_due=_plan_date(row))
            event, values = _write(db, timing, row, row.version, decision, CLOSE, {"reason": text}, actor, now, client)
            chain.append(db, event)  # linked now, in order, so that its webhooks' messages name its link
            webhooks.record(db, event, row, values, now)
        return ids
