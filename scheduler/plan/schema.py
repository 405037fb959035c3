"""The shape of `obligations.toml`, as typed models.

These models check each table on its own (types, allowed values, unknown keys). Whether the tables
agree with one another (a party that names a real agency, a unique id) is checked in `load.py`,
which needs the whole file. The README's "Plan file" section explains every table with examples.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=64)]
"""Agency, group and office codes: lowercase ASCII words joined by hyphens."""

ObligationId = Annotated[str, Field(pattern=r"^[A-Za-z0-9]+([.-][A-Za-z0-9]+)*$", max_length=32)]
"""The plan's own numbering ("7", "8.1", "res-3.2"); never contains ':' (the occurrence id separator)."""

StepName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=32)]
Year = Annotated[int, Field(ge=1900, le=2200)]
ShiftDirection = Literal["previous", "next", "none"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Text = Annotated[str, Field(min_length=1)]
TranslationStatus = Literal["official", "working"]
TRANSLATED_LANGUAGES = ("ru", "en")
"""The languages besides the plan's own Kazakh that its words (titles, forms, deadlines) may have."""


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- the directory of responsible bodies -------------------------------------------------------

AgencyKind = Literal[
    "ministry",
    "agency",
    "court",
    "akimat",
    "international-organisation",
    "ngo",
    "ombudsman",
    "academy",
    "commission",
]


class FormerName(Model):
    """A name the body carried up to and including `until` (e.g. Nur-Sultan before Astana)."""

    until: dt.date
    short_kk: Text | None = None
    name_kk: Text
    name_ru: Text | None = None
    name_en: Text | None = None


class Agency(Model):
    kind: AgencyKind
    short_kk: Text
    aliases_kk: tuple[Text, ...] = ()
    name_kk: Text
    name_ru: Text | None = None
    name_en: Text | None = None
    by_agreement: bool = False
    collective: bool = False
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    predecessor: Code | None = None
    former_names: tuple[FormerName, ...] = Field(default=(), alias="former_name")
    note: str | None = None

    @model_validator(mode="after")
    def _validity_ordered(self) -> Agency:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError(f"valid_until {self.valid_until} is before valid_from {self.valid_from}")
        return self


class GroupMember(Model):
    agency: Code
    since: dt.date | None = Field(default=None, alias="from")
    until: dt.date | None = None


class Group(Model):
    """Several bodies named together ("the akimats of the oblasts and cities"), dated membership."""

    name_kk: Text
    name_ru: Text | None = None
    name_en: Text | None = None
    members: tuple[Union[Code, GroupMember], ...] = Field(min_length=1)


class Tenure(Model):
    agency: Code
    years: tuple[Year, ...] = Field(min_length=1)


class Office(Model):
    """A function held by different bodies in different years (the commission's working body)."""

    name_kk: Text
    name_ru: Text | None = None
    name_en: Text | None = None
    held_by: tuple[Tenure, ...] = Field(min_length=1)


# --- rules: when an obligation falls due ---------------------------------------------------------


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


Rule = Annotated[
    Union[Once, Annual, HalfYearly, Quarterly, Monthly, Within, YearEnd, Dates],
    Field(discriminator="kind"),
]


# --- obligations -----------------------------------------------------------------------------------


class ScopedParty(Model):
    """A responsible party limited to some years (row 1: `labour` in 2021, `mvd` in 2022–2023)."""

    party: Code
    years: tuple[Year, ...] = Field(min_length=1)


PartyRef = Union[Code, ScopedParty]


class Instance(Model):
    """One dated deadline of a `dates` rule, with what the text says about it."""

    date: dt.date
    period: Annotated[str, Field(pattern=r"^[A-Za-z0-9]+([.-][A-Za-z0-9]+)*$")] | None = None
    recipient: Code | None = None
    responsible: tuple[PartyRef, ...] | None = None


class _Inheritable(Model):
    """Cells that a heading row shares with its sub-rows (merged cells in the printed table)."""

    form_kk: Text | None = None
    form_ru: Text | None = None
    form_en: Text | None = None
    deadline_kk: Text | None = None
    deadline_ru: Text | None = None
    deadline_en: Text | None = None
    due: Rule | None = None
    shift: ShiftDirection | None = None
    recipient: Code | None = None
    costs_kk: Text | None = None
    financing_kk: Text | None = None


class Heading(_Inheritable):
    id: ObligationId
    section: int | None = None
    title_kk: Text
    title_ru: Text | None = None
    title_en: Text | None = None
    note: str | None = None


class Obligation(_Inheritable):
    id: ObligationId
    section: int | None = None
    under: ObligationId | None = None
    title_kk: Text
    title_ru: Text | None = None
    title_en: Text | None = None
    responsible: tuple[PartyRef, ...] | Literal["all"]
    responsible_kk: Text | None = None
    instances: tuple[Instance, ...] = Field(default=(), alias="instance")
    note: str | None = None

    @field_validator("responsible")
    @classmethod
    def _not_empty(cls, value):
        if value != "all" and not value:
            raise ValueError("name at least one responsible party")
        return value


# --- the plan as a whole ---------------------------------------------------------------------------


class LadderStep(Model):
    step: StepName
    offset: int = Field(ge=-366, le=366)
    unit: Literal["days", "working-days"]
    notify: tuple[Literal["focal", "supervisor", "head", "recipient-focal"], ...] = Field(
        min_length=1
    )


def _contract_ladder() -> tuple[LadderStep, ...]:
    step = LadderStep
    return (
        step(step="reminder-14d", offset=-14, unit="days", notify=("focal",)),
        step(step="reminder-7d", offset=-7, unit="days", notify=("focal",)),
        step(step="reminder-1wd", offset=-1, unit="working-days", notify=("focal",)),
        step(step="due", offset=0, unit="days", notify=("focal",)),
        step(step="escalation-1wd", offset=1, unit="working-days", notify=("focal", "supervisor")),
        step(step="escalation-5wd", offset=5, unit="working-days", notify=("head", "recipient-focal")),
    )


class Policy(Model):
    shift: ShiftDirection = "previous"
    holidays: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "KZ"
    timezone: Text = "Asia/Almaty"
    send_time: dt.time = dt.time(9, 0)
    digest_weekday: Weekday = "monday"
    catch_up_days: int = Field(default=7, ge=0, le=366)
    ladder: tuple[LadderStep, ...] = Field(default_factory=_contract_ladder, min_length=1)

    @field_validator("holidays")
    @classmethod
    def _known_country(cls, value: str) -> str:
        import holidays

        try:
            holidays.country_holidays(value)
        except NotImplementedError:
            raise ValueError(f"unknown country code {value!r} for the holidays calendar (a code such as KZ)") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Almaty)") from None
        return value

    @field_validator("ladder")
    @classmethod
    def _unique_steps(cls, value: tuple[LadderStep, ...]) -> tuple[LadderStep, ...]:
        names = [s.step for s in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"ladder step names must be unique; repeated: {', '.join(duplicates)}")
        if "digest" in names:
            raise ValueError("'digest' is the weekly digest's name and cannot be a ladder step")
        return value


class Period(Model):
    first: Year = Field(alias="from")
    last: Year = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.last < self.first:
            raise ValueError(f"period ends ({self.last}) before it starts ({self.first})")
        return self


class Amendment(Model):
    number: Text
    date: dt.date
    note_kk: str | None = None
    note_en: str | None = None


class PlanMeta(Model):
    id: Code
    title_kk: Text
    title_ru: Text | None = None
    title_en: Text | None = None
    act_kk: Text | None = None
    act_ru: Text | None = None
    act_en: Text | None = None
    number: Text
    date: dt.date
    adopted: dt.date
    period: Period
    coordinator: Code
    translations: dict[str, TranslationStatus] = Field(default_factory=dict)
    """What the Russian and English words are: `{ ru = "working", en = "official" }`."""
    amendments: tuple[Amendment, ...] = Field(default=(), alias="amendment")
    _languages_with_text: frozenset[str] = PrivateAttr(default=frozenset())
    """Set by `PlanFile`: the languages in which some of the plan's words are written."""

    @field_validator("translations")
    @classmethod
    def _translated_languages(cls, value: dict[str, str]) -> dict[str, str]:
        for language in value:
            if language == "kk":
                raise ValueError("'kk' is the plan's own text, not a translation: declare ru or en")
            if language not in TRANSLATED_LANGUAGES:
                raise ValueError(f"unknown language {language!r}: a translation is declared for ru or en")
        return value

    def translation_status(self, language: str) -> TranslationStatus | None:
        """"official" or "working" for the plan's words in `language`; None when it has none in it.

        Kazakh is the plan's own text, always official. Russian or English text that `translations`
        does not declare is a working translation: only the plan's keeper can say a text is official.
        """
        if language == "kk":
            return "official"
        if language not in TRANSLATED_LANGUAGES or language not in self._languages_with_text:
            return None
        return self.translations.get(language, "working")


class Section(Model):
    number: int
    title_kk: Text
    title_ru: Text | None = None
    title_en: Text | None = None


class PlanFile(Model):
    schema_version: Literal[1] = Field(alias="schema")
    plan: PlanMeta
    policy: Policy = Field(default_factory=Policy)
    sections: tuple[Section, ...] = Field(default=(), alias="section")
    agencies: dict[Code, Agency] = Field(alias="agency")
    groups: dict[Code, Group] = Field(default_factory=dict, alias="group")
    offices: dict[Code, Office] = Field(default_factory=dict, alias="office")
    headings: tuple[Heading, ...] = Field(default=(), alias="heading")
    obligations: tuple[Obligation, ...] = Field(alias="obligation")

    @model_validator(mode="after")
    def _note_translated_languages(self) -> PlanFile:
        # The plan's words: its title and act, section titles, and the rows' titles, forms and
        # deadlines. The bodies' names are their own names in each language, not the plan's words.
        words = (self.plan, *self.sections, *self.headings, *self.obligations)
        names = ("title", "act", "form", "deadline")
        self.plan._languages_with_text = frozenset(
            language
            for language in TRANSLATED_LANGUAGES
            if any(getattr(model, f"{name}_{language}", None) for model in words for name in names)
        )
        return self
