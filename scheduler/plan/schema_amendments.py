"""The shape of `[[plan.amendment]]`: when an amending act took effect and what it changed in each row."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from scheduler.plan.schema_base import Model, ObligationId, Text


AMENDABLE_FIELDS = (
    "responsible",
    "recipient",
    "due",
    "shift",
    "title_kk",
    "title_ru",
    "title_en",
    "responsible_kk",
    "form_kk",
    "form_ru",
    "form_en",
    "deadline_kk",
    "deadline_ru",
    "deadline_en",
    "costs_kk",
    "financing_kk",
)
"""The cells of a row an amendment may change (`field` of a `[[plan.amendment.change]]`)."""

AMENDABLE_INSTANCE_FIELDS = ("date", "recipient", "responsible")
"""The cells of one dated instance (`instance = …`) an amendment may change."""

SCHEDULING_FIELDS = frozenset({"responsible", "recipient", "due", "shift"})
"""Fields whose change moves, adds or removes occurrences; the others are wording only."""

Effective = Literal["on-signing", "after-publication"] | dt.date


class AmendmentChange(Model):
    """What one amendment did to one row: a cell changed (`field`, `before`, `after`), or the row
    `added` or `removed`. The file holds the plan as amended: `after` (optional) repeats the row's
    current value, `before` is what the row said until the amendment took effect. A change without
    `before` records that the amendment touched the cell but the source does not give its earlier
    wording: the current text stands for every date."""

    obligation: ObligationId
    instance: dt.date | Annotated[str, Field(pattern=r"^[A-Za-z0-9]+([.-][A-Za-z0-9]+)*$")] | None = None
    field: str | None = None
    before: object = None
    after: object = None
    added: bool = False
    removed: bool = False
    inferred: bool = False
    """True when `before` is read from the text's own evidence rather than printed in the source."""
    note: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> AmendmentChange:
        if self.added and self.removed:
            raise ValueError("a change is either added = true or removed = true, not both")
        if self.added or self.removed:
            what = "added" if self.added else "removed"
            if self.field is not None or self.before is not None or self.after is not None or self.instance is not None:
                raise ValueError(f"a row {what} by the amendment takes no field, instance, before or after")
            return self
        if self.field is None:
            raise ValueError("say what changed: field = \"…\" (with before/after), or added = true, or removed = true")
        allowed = AMENDABLE_INSTANCE_FIELDS if self.instance is not None else AMENDABLE_FIELDS
        if self.field not in allowed:
            where = "of an instance" if self.instance is not None else "of a row"
            raise ValueError(f"field {self.field!r} is not a cell {where} an amendment changes; one of: {', '.join(allowed)}")
        return self


class Amendment(Model):
    """An amending act: its number and date, when it took effect, and what it changed.

    `effective`: "on-signing" (in force on `date`), "after-publication" with `days` (in force once
    that many calendar days have passed after the day of first official publication, `published`:
    on published + days + 1), or a date.
    """

    number: Text
    date: dt.date
    published: dt.date | None = None
    effective: Effective | None = None
    days: int | None = Field(default=None, ge=0, le=3660)
    note_kk: str | None = None
    note_en: str | None = None
    changes: tuple[AmendmentChange, ...] = Field(default=(), alias="change")

    @model_validator(mode="after")
    def _effective_rule(self) -> Amendment:
        if self.published is not None and self.published < self.date:
            raise ValueError(f"published {self.published} is before the act's date {self.date}")
        if self.effective == "after-publication":
            if self.days is None:
                raise ValueError('effective = "after-publication" needs days = N (calendar days after first publication)')
        elif self.days is not None:
            raise ValueError('days = N goes with effective = "after-publication" only')
        if self.changes and self.effective is None:
            raise ValueError('an amendment with changes needs effective = "on-signing", "after-publication" (with days) or a date')
        return self

    @property
    def effective_from(self) -> dt.date | None:
        """The first day the amendment is in force; for "after-publication" without `published`,
        the earliest it can be (publication on the day of signing). None when `effective` is unset."""
        if self.effective is None:
            return None
        if self.effective == "on-signing":
            return self.date
        if self.effective == "after-publication":
            return (self.published or self.date) + dt.timedelta(days=self.days + 1)
        return self.effective

    @property
    def effective_estimated(self) -> bool:
        """True when the effective date is a lower bound: the publication date is not in the file."""
        return self.effective == "after-publication" and self.published is None

    def describe_effective(self) -> str:
        day = self.effective_from
        if day is None:
            return "effective date not given"
        if self.effective == "on-signing":
            return f"in force from {day.isoformat()} (on signing)"
        if self.effective == "after-publication":
            if self.published is None:
                return (
                    f"in force once {self.days} calendar days have passed after first official publication; "
                    f"the publication date is not in the plan, so from {day.isoformat()} at the earliest "
                    f"(had it been published on signing)"
                )
            return (
                f"in force from {day.isoformat()} (once {self.days} calendar days have passed after first "
                f"official publication on {self.published.isoformat()})"
            )
        return f"in force from {day.isoformat()}"
