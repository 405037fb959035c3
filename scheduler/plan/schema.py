"""The shape of `obligations.toml`, as typed models.

These models check each table on its own (types, allowed values, unknown keys). Whether the tables
agree with one another (a party that names a real agency, a unique id) is checked in `load.py`,
which needs the whole file. The manual's plan-file reference (docs/reference/plan-file.md) explains every table with examples.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from scheduler.plan.schema_amendments import (  # noqa: F401  (re-exported: the file's models in one namespace)
    AMENDABLE_FIELDS,
    AMENDABLE_INSTANCE_FIELDS,
    Amendment,
    AmendmentChange,
    Effective,
    SCHEDULING_FIELDS,
)
from scheduler.plan.schema_base import (  # noqa: F401  (re-exported: the file's models in one namespace)
    Code,
    Model,
    ObligationId,
    ShiftDirection,
    StepName,
    Text,
    TRANSLATED_LANGUAGES,
    TranslationStatus,
    Weekday,
    Year,
)
from scheduler.plan.schema_rules import (  # noqa: F401  (re-exported: the file's models in one namespace)
    _Recurring,
    Annual,
    Before,
    Dates,
    HalfYearly,
    Monthly,
    Once,
    Quarterly,
    Rule,
    Within,
    YearEnd,
)



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
    "department",  # a region's local executive body (a regional plan's own parties)
]


class FormerName(Model):
    """A name the body carried up to and including `until` (e.g. Nur-Sultan before Astana)."""

    until: dt.date
    short_kk: Text | None = None
    name_kk: Text
    name_ru: Text | None = None
    name_en: Text | None = None
    source: Text | None = None
    """The act that dates the renaming ("Constitutional amendment of 17 September 2022"), as known."""


class Agency(Model):
    kind: AgencyKind
    short_kk: Text
    aliases_kk: tuple[Text, ...] = ()
    name_kk: Text
    name_ru: Text | None = None
    name_en: Text | None = None
    by_agreement: bool = False
    collective: bool = False
    """The code stands for several bodies the plan does not list ("NGOs")."""
    placeholder: bool = False
    """The plan names a party with no addressee ("interested state bodies"): its deadlines are listed
    (expand, explain, the pages) but never mailed, not counted in compliance, and `"all"` does not
    include it. It has no contacts, receives nothing and holds no office."""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    predecessor: Code | None = None
    source: Text | None = None
    """The act that dates valid_from / valid_until (a decree and its date), as far as it is known."""
    former_names: tuple[FormerName, ...] = Field(default=(), alias="former_name")
    note: str | None = None

    @model_validator(mode="after")
    def _validity_ordered(self) -> Agency:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError(f"valid_until {self.valid_until} is before valid_from {self.valid_from}")
        if self.source is not None and not (self.valid_from or self.valid_until):
            raise ValueError("source dates valid_from / valid_until, and the body has neither; "
                             "put the source of a renaming in its [[former_name]]")
        return self


class GroupMember(Model):
    agency: Code
    since: dt.date | None = Field(default=None, alias="from")
    until: dt.date | None = None
    source: Text | None = None
    """The act that dates `from` / `until`, as far as it is known."""

    @model_validator(mode="after")
    def _source_dates_something(self) -> GroupMember:
        if self.source is not None and not (self.since or self.until):
            raise ValueError("source dates `from` / `until`, and the member has neither")
        return self


class Group(Model):
    """Several bodies named together ("the akimats of the oblasts and cities"), dated membership."""

    name_kk: Text
    name_ru: Text | None = None
    name_en: Text | None = None
    members: tuple[Union[Code, GroupMember], ...] = Field(min_length=1)


class Tenure(Model):
    agency: Code
    years: tuple[Year, ...] = Field(min_length=1)
    assumed: Text | None = None
    """Set where the source cannot settle who held the office those years: the program's reading,
    in words, which `explain` prints as an assumption. Editing `agency` changes the reading."""


class Office(Model):
    """A function held by different bodies in different years (the commission's working body)."""

    name_kk: Text
    name_ru: Text | None = None
    name_en: Text | None = None
    held_by: tuple[Tenure, ...] = Field(min_length=1)


# --- rules: when an obligation falls due ---------------------------------------------------------


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
    deadline_kk_source: bool = True
    """False where `deadline_kk` is the program's summary, not words of the source (paragraph 3.2 has
    no deadline column; its dates are in its text): `explain` then does not quote it."""
    instances: tuple[Instance, ...] = Field(default=(), alias="instance")
    note: str | None = None
    # "event": the row asks for something to happen in each period (a commission sitting, a training,
    # taking part in a meeting), not for a document by a date. The period's last day stays the
    # deadline by which it must have happened; the ladder's `anchor = "period-start"` steps remind
    # early in the period, and an answer records the day it was held.
    kind: Literal["deliverable", "event"] = "deliverable"

    @field_validator("responsible")
    @classmethod
    def _not_empty(cls, value):
        if value != "all" and not value:
            raise ValueError("name at least one responsible party")
        return value

    @model_validator(mode="after")
    def _event_repeats(self):
        if self.kind == "event" and self.due is not None and self.due.kind not in EVENT_RULES:
            raise ValueError(
                f'kind = "event" needs a rule that repeats over periods ({", ".join(EVENT_RULES)}), '
                f"not {self.due.kind!r}: an event is owed once in each period"
            )
        return self


EVENT_RULES = ("half-yearly", "quarterly", "monthly", "annual")
"""The rule kinds an event row may have: each period (a half-year, a quarter…) must see it happen."""


# --- the plan as a whole ---------------------------------------------------------------------------


class LadderStep(Model):
    step: StepName
    offset: int = Field(ge=-366, le=366)
    unit: Literal["days", "working-days"]
    notify: tuple[Literal["focal", "supervisor", "head", "recipient-focal"], ...] = Field(
        min_length=1
    )
    # "due": the offset counts from the due date (every row). "period-start": from the first day of
    # the period an event row is owed for (its first working day with offset 0); such a step is
    # planned for event rows only (obligation kind = "event"), never for ordinary ones.
    anchor: Literal["due", "period-start"] = "due"

    @model_validator(mode="after")
    def _after_the_start(self):
        if self.anchor == "period-start" and self.offset < 0:
            raise ValueError(f"step {self.step}: a step counted from the period's start cannot come before it "
                             f"(offset {self.offset}): write an offset of 0 or more")
        return self


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
    """A dated deadline ("not later than 10 December") on a day off: moved this way."""
    shift_period: ShiftDirection = "next"
    """The end of a period counted from an act ("within one month") on a day off: moved this way. A
    time limit's last day that falls on a day off moves to the next working day (the general rule on
    time limits); a plan that reads it otherwise says so here, a row with `shift`."""
    holidays: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "KZ"
    timezone: Text = "Asia/Almaty"
    send_time: dt.time = dt.time(9, 0)
    digest_weekday: Weekday = "monday"
    catch_up_days: int = Field(default=7, ge=0, le=366)
    ladder: tuple[LadderStep, ...] = Field(default_factory=_contract_ladder, min_length=1)

    @field_validator("holidays")
    @classmethod
    def _known_country(cls, value: str) -> str:
        from scheduler.calendar.workdays import holiday_class

        try:
            holiday_class(value)
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


class PlanMeta(Model):
    id: Code
    title_kk: Text
    title_ru: Text | None = None
    title_en: Text | None = None
    short_kk: Text | None = None
    short_ru: Text | None = None
    short_en: Text | None = None
    """The plan's short title, as a browser's tab names its pages (the title when none is given)."""
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

    def short_title(self, language: str) -> str:
        """The plan's short title in `language` (else its title there, else the Kazakh ones)."""
        return (getattr(self, f"short_{language}", None) or getattr(self, f"title_{language}", None)
                or self.short_kk or self.title_kk)

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
    agencies: dict[Code, Agency] = Field(default_factory=dict, alias="agency")
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


def parse_cell(field: str, value: object, instance: bool = False) -> object:
    """`value` (a `before` or `after` of an amendment change) as the row's `field` holds it.

    An empty string stands for an empty cell (no recipient, no form). Raises ValueError with a
    readable reason when the value does not fit the cell.
    """
    from pydantic import TypeAdapter

    model = Instance if instance else Obligation
    info = model.model_fields[field]
    if value == "" and field != "responsible":
        value = None
    if value is None and info.is_required():
        raise ValueError(f"{field} cannot be empty")
    try:
        return TypeAdapter(info.annotation).validate_python(value)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not isinstance(p, int) and "[" not in str(p))
        reason = first["msg"].removeprefix("Value error, ")
        raise ValueError(f"{field}: {where + ': ' if where else ''}{reason}") from None
