"""The plan file's shared types: codes, ids, years, text, and the strict base model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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
