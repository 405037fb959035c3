"""A row's texts over time: which text of an amended row governs a deadline nominally due on a
day. The file holds each row as amended; each amendment's `before` undoes its change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.plan.schema import SCHEDULING_FIELDS, Amendment, AmendmentChange, Obligation, parse_cell


@dataclass(frozen=True)
class Version:
    """The text of one row that governs deadlines nominally due in [start, end).

    `obligation` is None where the row did not exist (before an amendment added it, after one
    removed it). `amendment` made this text (None: the original text)."""

    start: dt.date | None
    end: dt.date | None
    obligation: Obligation | None
    amendment: Amendment | None

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)


def amendments_in_order(amendments) -> list[Amendment]:
    """The amendments that change rows, in the order they took effect (file order on a tie)."""
    return sorted((a for a in amendments if a.changes and a.effective_from is not None), key=lambda a: a.effective_from)


def _instance_matches(instance, key) -> bool:
    return instance.date == key if isinstance(key, dt.date) else (instance.period or instance.date.isoformat()) == key


def undo_change(text: Obligation, change: AmendmentChange) -> Obligation:
    """The row as it stood before `change` (a field change; without `before`, unchanged)."""
    if "before" not in change.model_fields_set:
        return text
    if change.instance is not None:
        value = parse_cell(change.field, change.before, instance=True)
        instances = tuple(
            i.model_copy(update={change.field: value}) if _instance_matches(i, change.instance) else i
            for i in text.instances
        )
        return text.model_copy(update={"instances": instances})
    return text.model_copy(update={change.field: parse_cell(change.field, change.before)})


def texts_of(obligation: Obligation, ordered: list[Amendment]) -> list[Obligation | None]:
    """The row's text before each amendment of `ordered` and after the last: len(ordered) + 1 texts.

    The file holds each row as amended; a removed row keeps the text it had when it was removed.
    """
    n = len(ordered)
    mine = [[c for c in a.changes if c.obligation == obligation.id] for a in ordered]
    removal = next((i for i, changes in enumerate(mine) if any(c.removed for c in changes)), None)
    texts: list[Obligation | None] = [None] * (n + 1)
    texts[n] = None if removal is not None else obligation
    for i in reversed(range(n)):
        if removal is not None and i >= removal:
            texts[i] = obligation if i == removal else None
            continue
        text = texts[i + 1]
        for change in mine[i]:
            if change.added:
                text = None
            elif text is not None:
                text = undo_change(text, change)
        texts[i] = text
    return texts


def _scheduling(text: Obligation | None):
    if text is None:
        return None
    return tuple(getattr(text, f) for f in sorted(SCHEDULING_FIELDS)) + (text.instances,)
