"""The plan file and the contacts file: their schema, loading and validation."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.plan.contacts import Contact, load_contacts
    from scheduler.plan.load import load_plan
    from scheduler.plan.model import GOVERNMENT, Plan

__all__ = ["GOVERNMENT", "Contact", "Plan", "load_contacts", "load_plan"]

# Each name is imported from its module when first asked for (PEP 562), so that a light submodule
# (scheduler.plan.diff) can be imported without pydantic and the schema: the command line starts
# faster (bench/startup.py).
_HOME = {
    "Contact": "scheduler.plan.contacts",
    "load_contacts": "scheduler.plan.contacts",
    "load_plan": "scheduler.plan.load",
    "GOVERNMENT": "scheduler.plan.model",
    "Plan": "scheduler.plan.model",
}


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
