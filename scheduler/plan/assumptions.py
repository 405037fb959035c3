"""The readings a deadline rests on that the source cannot settle, as data for the pages and the
report (`explain` words them itself): who holds an office in a year where the plan marks the
holder `assumed` (the commission's working body in 2022), and which text governs when an
amendment takes effect some days after a publication date the plan does not give (No. 236). Each
changes by editing one value in the plan file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.plan.dating import assumed_office
from scheduler.plan.model import Plan


@dataclass(frozen=True)
class Office:
    """Who owes or receives the deadline goes through `office`, taken to be held by `holder` in `year`."""

    office: str
    holder: str
    year: int


@dataclass(frozen=True)
class Publication:
    """The deadline is owed under No. `number`'s text only if it was published by `latest`; it is
    taken to have been published on the day it was signed (`signed`)."""

    number: str
    signed: dt.date
    latest: dt.date


# How long after signing an act's publication is in doubt: a deadline whose text would change only
# if the act had been published later than this is taken to be under it (acts of the Government are
# published within days of signing), and not marked.
PUBLICATION_DOUBT = dt.timedelta(days=30)


def publication_in_doubt(amendment, nominal: dt.date) -> dt.date | None:
    """The day by which `amendment` must have been published for a deadline nominally on `nominal` to
    be owed under its text, when the plan does not give the publication's date and that day falls
    within PUBLICATION_DOUBT of the signing; else None."""
    if amendment.effective != "after-publication" or amendment.published is not None:
        return None
    if amendment.effective_from is None or amendment.effective_from > nominal:
        return None  # the earlier text governs whatever the publication's date
    latest = nominal - dt.timedelta(days=amendment.days + 1)
    return latest if latest < amendment.date + PUBLICATION_DOUBT else None


def assumptions(plan: Plan, obligation_id: str, agency: str, nominal: dt.date) -> list[Office | Publication]:
    found: list[Office | Publication] = []
    office = assumed_office(plan, obligation_id, agency, nominal)
    if office is not None:
        code, tenure = office
        found.append(Office(code, tenure.agency, nominal.year))
    for amendment in plan.amendments_in_force():
        latest = publication_in_doubt(amendment, nominal)
        if latest is not None and any(change.obligation == obligation_id for change in amendment.changes):
            found.append(Publication(str(amendment.number), amendment.date, latest))
    return found
