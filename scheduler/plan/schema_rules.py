"""The shape of a row's `due` rule: one model per kind (once, annual, half-yearly, quarterly,
monthly, within, year-end, dates, before)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from scheduler.plan.schema_base import Code, Model, ObligationId, Year  # noqa: F401


class _Recurring(Model):
    """Recurring rules run from the plan's adoption to the end of its period unless narrowed."""

    starts: dt.date | None = None
    ends: dt.date | None = None


class Once(Model):
    kind: Literal["once"]
    date: dt.date


class Annual(_Recurring):
    kind: Literal["annual"]
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)

    @model_validator(mode="after")
    def _day_exists(self) -> Annual:
        # A leap year allows the most days in every month.
        try:
            dt.date(2000, self.month, self.day)
        except ValueError:
            raise ValueError(f"month {self.month} has no day {self.day}") from None
        return self


class HalfYearly(_Recurring):
    kind: Literal["half-yearly"]


class Quarterly(_Recurring):
    kind: Literal["quarterly"]


class Monthly(_Recurring):
    kind: Literal["monthly"]


class Within(Model):
    """Due a fixed span after an anchor: the plan's adoption or a given date."""

    kind: Literal["within"]
    anchor: Literal["adoption"] | dt.date = "adoption"
    months: int = Field(default=0, ge=0, le=1200)
    days: int = Field(default=0, ge=0, le=36500)

    @model_validator(mode="after")
    def _some_span(self) -> Within:
        if not self.months and not self.days:
            raise ValueError("give months or days (or both)")
        return self


class YearEnd(Model):
    kind: Literal["year-end"]
    year: Year


class Dates(Model):
    """The text lists each dated instance itself; they are the obligation's `instance` tables."""

    kind: Literal["dates"]


class Before(Model):
    """Due a number of working days before another row's deadline owed by one body: a regional
    plan's row that feeds the national one ("to the akimat 5 working days before the national
    deadline"). One deadline per deadline of the linked row, with the same period."""

    kind: Literal["before"]
    plan: Code | None = None
    """The plan the linked row is in (its `[plan] id`); none: this plan."""
    obligation: ObligationId
    """The linked row, numbered as its own plan numbers it."""
    agency: Code
    """The body whose deadline under the linked row this one feeds (the akimat)."""
    working_days: int = Field(ge=0, le=60)
    target: str | None = Field(default=None, exclude=True)
    """Set by the loader: the linked row's id among the plans loaded (`<plan-id>/<row>` for a
    further plan's)."""


Rule = Annotated[
    Union[Once, Annual, HalfYearly, Quarterly, Monthly, Within, YearEnd, Dates, Before],
    Field(discriminator="kind"),
]


# --- obligations -----------------------------------------------------------------------------------
