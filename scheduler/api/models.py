"""The API's types: what the endpoints return and take, and what `/api/v1/openapi.json` describes —
the same pydantic models, so the document cannot drift from the answers."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

STATES = ("open", "submitted", "accepted", "returned", "closed", "cancelled", "overdue")


class Problem(BaseModel):
    """An error, as RFC 9457 says (`application/problem+json`); `type` is stable per kind of error."""

    model_config = ConfigDict(title="Problem")
    type: str = Field(description="A URI reference naming the kind of error; stable across versions",
                      examples=["/api/v1/problems/unauthorized"])
    title: str = Field(description="The kind of error in words (the same for every error of this type)")
    status: int = Field(description="The HTTP status code")
    detail: str | None = Field(default=None, description="This error in words")
    instance: str | None = Field(default=None, description="The request's path")
    errors: list[dict] | None = Field(default=None, description="For invalid parameters: each one and why")


class Occurrence(BaseModel):
    """One dated deadline of one body, as the dashboard lists it."""

    id: str = Field(description="`<obligation>:<agency>:<period>`, stable", examples=["7:finance:2022"])
    plan: str = Field(description="The id of the plan it belongs to")
    obligation: str
    agency: str = Field(description="The code of the body that owes it")
    period: str
    nominal_due: dt.date = Field(description="The plan's date before any shift to a working day")
    due: dt.date = Field(description="The effective due date: the plan's, or an extension's")
    plan_due: dt.date = Field(description="The plan's own due date (differs from `due` while an extension stands)")
    extension_requested: dt.date | None = Field(description="A date the body asked to be extended to, not yet decided")
    recipient: str | None = Field(description="The code of the body the information goes to, or `government`")
    title_kk: str = Field(description="The obligation's title, in Kazakh as the plan has it")
    state: Literal["open", "submitted", "accepted", "returned", "closed", "cancelled"]
    overdue: bool = Field(description="Still owed (open or returned) and its due date has passed")
    version: int = Field(description="Rises with every event: what a write names as the version it read")


class OccurrencePage(BaseModel):
    """A page of occurrences, by due date then id; `next` continues after the last one."""

    items: list[Occurrence]
    next: str | None = Field(description="The cursor of the next page (pass it as `cursor`); null on the last page")


class FileMeta(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str


class Submission(BaseModel):
    id: int
    at: str = Field(description="When the answer came, in the plan's time zone (ISO 8601)")
    recorded_at: str
    ref: str | None = Field(description="The outgoing letter's registration number")
    ref_date: dt.date | None
    held_on: dt.date | None = Field(description="For an event row: the day it was held")
    text: str | None
    note: str | None
    by: str | None
    files: list[FileMeta]


class Event(BaseModel):
    """One change to the answer, oldest first; each a link of the record's hash chain."""

    id: int
    at: str = Field(description="When it was recorded, in the plan's time zone (ISO 8601)")
    actor: str
    action: str
    from_state: str
    to_state: str
    details: dict
    chain_seq: int | None = Field(description="Its link's number in the record's hash chain")
    hash: str | None = Field(description="Its link's SHA-256 (see `scheduler audit verify`)")


class OccurrenceDetail(Occurrence):
    """One occurrence with its answer in force, the answer's documents (metadata) and every event."""

    submission: Submission | None
    events: list[Event]


class Agency(BaseModel):
    code: str
    kind: str
    short_kk: str
    name_kk: str
    name_ru: str | None
    name_en: str | None


class AgencyList(BaseModel):
    items: list[Agency]


class OccurrenceQuery(BaseModel):
    """The filters of `GET /api/v1/occurrences` (the dashboard's)."""

    model_config = ConfigDict(extra="forbid")
    agency: str | None = Field(default=None, max_length=64, description="Only this body's (its code)")
    year: int | None = Field(default=None, ge=1900, le=2200, description="Only those due in this year")
    plan: str | None = Field(default=None, max_length=64, description="Only this plan's (its id)")
    obligation: str | None = Field(default=None, max_length=32, description="Only this obligation's (e.g. 7, 8.1, res-4)")
    state: Literal[STATES] | None = Field(  # type: ignore[valid-type]
        default=None, description="Only those in this state; `overdue`: still owed past the due date. "
                                  "Cancelled occurrences (gone from the plan) are listed only with `cancelled`")
    cursor: str | None = Field(default=None, max_length=400, description="The `next` of the previous page")
    limit: int = Field(default=100, ge=1, le=500, description="At most this many")


DECISIONS = ("accept", "return", "close", "reopen", "extend", "revoke-extension", "request-extension",
             "refuse-extension")


class EventRequest(BaseModel):
    """A decision on an occurrence's answer, recorded as an event (the pages' and the CLI's use case):
    a reviewer's token accepts, returns, closes, reopens, extends, revokes an extension or refuses a
    requested one; an agency's token requests an extension. `reason` where the action needs one
    (every action but accept); `until` for extend and request-extension."""

    model_config = ConfigDict(extra="forbid")
    action: Literal[DECISIONS]  # type: ignore[valid-type]
    reason: str | None = Field(default=None, max_length=2000)
    until: dt.date | None = Field(default=None, description="The new due date (extend, request-extension)")


class ExtensionRequest(BaseModel):
    """A body's request for more time (as its focal point asks on /my): the date it asks for, within
    the span an extension of the occurrence may name, and why."""

    model_config = ConfigDict(extra="forbid")
    until: dt.date = Field(description="The due date asked for")
    reason: str = Field(min_length=1, max_length=2000, description="Why more time is needed")


def _no_defaults(schema: dict) -> None:
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class AnswerForm(BaseModel):
    """An answer's form (multipart/form-data, as on the pages): at least one of the letter's
    reference, the information, the day an event was held or a document; a field left out is
    empty. Each document is checked as on the pages: by its content (PDF, DOCX, XLSX, PNG or
    JPEG, named as it is) and its size (SCHEDULER_MAX_UPLOAD_MB, 413 past it)."""

    model_config = ConfigDict(json_schema_extra=_no_defaults)
    ref: str = Field(default="", max_length=200, description="The outgoing letter's registration number (one line)")
    ref_date: dt.date = Field(default=None, description="The outgoing letter's date (not after the answer came)")
    text: str = Field(default="", max_length=100_000, description="The information itself")
    held_on: dt.date = Field(default=None, description="For an event row: the day it was held")
    files: list[bytes] = Field(default=[], description="The documents (each a file part named `files`)")


class ComplianceQuery(BaseModel):
    """The year of `GET /api/v1/compliance`, and the language of the bodies' names."""

    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=1900, le=2200, description="The deadlines due in this year")
    lang: Literal["kk", "ru", "en"] = Field(default="kk", description="The language of the bodies' names")


class AgencyCompliance(BaseModel):
    """One body's row of the compliance table."""

    agency: str = Field(description="The body's code")
    name: str = Field(description="The body's name, in the language asked for")
    owed: int = Field(description="Deadlines due in the year")
    on_time: int
    late: int
    late_working_days: int = Field(description="Working days late, summed over its late answers")
    most_late_working_days: int
    missing: int = Field(description="Deadlines passed without an answer")
    pending: int = Field(description="Deadlines still to come")
    on_time_rate: float | None = Field(description="On time ÷ deadlines that have come; null before any came")


class ComplianceTable(BaseModel):
    """The compliance table of a year, as of now (`scheduler compliance`), the bodies the token reads."""

    year: int
    items: list[AgencyCompliance]
