"""What a plan change does, occurrence by occurrence: two expansions in, a list of changes out.

Pure: no files, no database, no clock. `entries` turns a plan's expansion into the records compared
(`Entry`); `compare` pairs the old records with the new by occurrence id and says what differs:

- `added`, `removed`: an occurrence only in the new, only in the old expansion;
- `moved`: its due date changed;
- `recipient`: whom the report goes to changed;
- `responsible`: the body that owes it changed. Ids carry the agency, so a body swapped for another
  would show as one removal and one addition: when, for one obligation and period, exactly one
  occurrence left and exactly one came, they are paired as one `responsible` change;
- `other`: anything else (title, form, the nominal date under an unchanged due date), one change
  per field.

A one-off's id carries its date (`2:labour:2021-07-01`), and correcting that date in the plan is an
update of the same occurrence, not a removal and an addition (`scheduler sync` keeps the stored id,
its submission and history): `corrections` pairs them, by the same rule `sync` uses, and they show as
`moved`, with `occurrence_after` naming the id a fresh expansion gives it.

`apply(old, changes)` gives the new expansion back: the property the tests check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from typing import NamedTuple

KINDS = ("added", "removed", "moved", "recipient", "responsible", "other")
DATE_LABELLED = frozenset({"once", "within", "year-end"})  # rule kinds whose period label is the date itself
OTHER_FIELDS = ("title", "form", "nominal_due")  # compared as `other`, in this order


class Entry(NamedTuple):
    """One occurrence as compared: what the plan says of it."""

    id: str
    obligation: str
    agency: str
    period: str
    nominal_due: dt.date
    due: dt.date
    recipient: str | None
    title: str | None = None
    form: str | None = None


@dataclass(frozen=True)
class Change:
    """One thing that differs for one occurrence.

    `before`/`after` are the values that changed (due dates for added/removed/moved, recipient
    codes, agency codes, the field's values for `other`); `fields` says which of the entry's fields
    this change carries, as {field: (before, after)}, so that the changes can be applied.
    """

    occurrence: str
    change: str
    before: object
    after: object
    old: Entry | None = None
    new: Entry | None = None
    field: str | None = None  # for `other`: which field
    fields: Mapping[str, tuple] = _field(default_factory=dict)

    @property
    def subject(self) -> Entry:
        entry = self.old if self.old is not None else self.new
        assert entry is not None
        return entry

    @property
    def agency(self) -> str:
        return self.subject.agency

    @property
    def obligation(self) -> str:
        return self.subject.obligation

    @property
    def period(self) -> str:
        return self.subject.period

    @property
    def occurrence_after(self) -> str | None:
        return self.new.id if self.new is not None else None

    @property
    def due_before(self) -> dt.date | None:
        return self.old.due if self.old is not None else None

    @property
    def due_after(self) -> dt.date | None:
        return self.new.due if self.new is not None else None

    def record(self) -> dict:
        """As `scheduler diff --format json` prints it (names and answers are added by the caller)."""
        return {
            "occurrence": self.occurrence,
            "change": self.change,
            "field": self.field,
            "before": _plain(self.before),
            "after": _plain(self.after),
            "agency": self.agency,
            "agency_after": self.new.agency if self.new is not None else None,
            "obligation": self.obligation,
            "period": self.period,
            "occurrence_after": self.occurrence_after,
            "due_before": _plain(self.due_before),
            "due_after": _plain(self.due_after),
            "nominal_due_before": _plain(self.old.nominal_due if self.old else None),
            "nominal_due_after": _plain(self.new.nominal_due if self.new else None),
            "recipient_before": self.old.recipient if self.old else None,
            "recipient_after": self.new.recipient if self.new else None,
        }


def _plain(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def entries(plan, occurrences: Iterable, *, with_form: bool = True) -> list[Entry]:
    """The expansion's occurrences with the obligation's title and form (Kazakh, the plan's words)."""
    found = []
    for o in occurrences:
        obligation = plan.obligation(o.obligation)
        found.append(Entry(o.id, o.obligation, o.agency, o.period, o.nominal_due, o.due, o.recipient,
                           obligation.title_kk, obligation.form_kk if with_form else None))
    return found


def date_labelled(plan) -> frozenset[str]:
    """The plan's obligations whose occurrences are labelled by their date (see `corrections`)."""
    return frozenset(o.id for o in plan.obligations if o.due is not None and o.due.kind in DATE_LABELLED)


def corrections(arrived: Iterable[tuple[str, str, str]], left: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """{new id: old id} for one-offs whose date was corrected: `arrived` are the (id, obligation,
    agency) only in the new expansion, of date-labelled obligations; `left` those only in the old.
    For one obligation and body, exactly one that left and exactly one that came are the same
    occurrence."""
    came: dict[tuple[str, str], list[str]] = {}
    for oid, obligation, agency in arrived:
        came.setdefault((obligation, agency), []).append(oid)
    went: dict[tuple[str, str], list[str]] = {}
    for oid, obligation, agency in left:
        if (obligation, agency) in came:
            went.setdefault((obligation, agency), []).append(oid)
    return {came[key][0]: ids[0] for key, ids in went.items() if len(ids) == 1 and len(came[key]) == 1}


def compare(old: Sequence[Entry], new: Sequence[Entry], relabelled: Iterable[str] = ()) -> list[Change]:
    """Every change from `old` to `new`, in the new expansion's order, removals last in the old's.

    `relabelled`: the obligations whose period label is their date (`date_labelled` of the new plan)."""
    before = {e.id: e for e in old}
    after = {e.id: e for e in new}
    relabelled = frozenset(relabelled)
    corrected = corrections(
        ((e.id, e.obligation, e.agency) for e in new if e.id not in before and e.obligation in relabelled),
        ((e.id, e.obligation, e.agency) for e in old if e.id not in after),
    )
    paired_old = set(corrected.values())
    # A body swapped for another: exactly one occurrence left and one came for an obligation and period.
    came: dict[tuple[str, str], list[Entry]] = {}
    for e in new:
        if e.id not in before and e.id not in corrected:
            came.setdefault((e.obligation, e.period), []).append(e)
    went: dict[tuple[str, str], list[Entry]] = {}
    for e in old:
        if e.id not in after and e.id not in paired_old:
            went.setdefault((e.obligation, e.period), []).append(e)
    swapped: dict[str, Entry] = {}  # new id → the old entry it replaces
    for key, gone in went.items():
        if len(gone) == 1 and len(came.get(key, ())) == 1:
            swapped[came[key][0].id] = gone[0]
            paired_old.add(gone[0].id)

    changes: list[Change] = []
    for e in new:
        if e.id in before:
            changes += _differences(before[e.id], e)
        elif e.id in corrected:
            changes += _differences(before[corrected[e.id]], e)
        elif e.id in swapped:
            changes += _differences(swapped[e.id], e)
        else:
            changes.append(Change(e.id, "added", None, e.due, new=e))
    for e in old:
        if e.id not in after and e.id not in paired_old:
            changes.append(Change(e.id, "removed", e.due, None, old=e))
    return changes


def _differences(old: Entry, new: Entry) -> list[Change]:
    """The changes of one occurrence that stays (perhaps under another id)."""
    differing = [name for name in Entry._fields if getattr(old, name) != getattr(new, name)]
    if not differing:
        return []
    pending = set(differing)
    changes = []

    def take(*names: str) -> dict[str, tuple]:
        taken = {n: (getattr(old, n), getattr(new, n)) for n in names if n in pending}
        pending.difference_update(taken)
        return taken

    def change(kind: str, before, after, fields: dict, name: str | None = None) -> None:
        changes.append(Change(old.id, kind, before, after, old=old, new=new, field=name, fields=fields))

    if old.agency != new.agency:
        change("responsible", old.agency, new.agency, take("agency", "id"))
    if old.due != new.due or (old.id != new.id and old.period != new.period):
        # a one-off's corrected date carries its label and id along
        change("moved", old.due, new.due, take("due", "nominal_due", "period", "id"))
    if old.recipient != new.recipient:
        change("recipient", old.recipient, new.recipient, take("recipient"))
    for name in OTHER_FIELDS:
        if name in pending:
            change("other", getattr(old, name), getattr(new, name), take(name), name)
    if pending:  # the obligation or period under an unchanged id cannot differ; anything else is `other`
        for name in sorted(pending):
            change("other", getattr(old, name), getattr(new, name), take(name), name)
    return changes


def apply(old: Iterable[Entry], changes: Iterable[Change]) -> dict[str, Entry]:
    """The old expansion with the changes made, by occurrence id: the new expansion again."""
    result = {e.id: e for e in old}
    updated: dict[str, Entry] = {}
    for c in changes:
        if c.change == "removed":
            del result[c.occurrence]
        elif c.change == "added":
            assert c.new is not None
            updated[c.new.id] = c.new
        else:
            current = updated.get(c.occurrence) or result[c.occurrence]
            updated[c.occurrence] = current._replace(**{name: value[1] for name, value in c.fields.items()})
    for oid in updated:
        result.pop(oid, None)
    for entry in updated.values():
        result[entry.id] = entry
    return result


def counts(changes: Iterable[Change]) -> dict[str, int]:
    found = dict.fromkeys(KINDS, 0)
    for c in changes:
        found[c.change] += 1
    return found
