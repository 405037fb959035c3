"""iCalendar bytes for a list of deadlines, built with `icalendar`.

All-day VEVENTs (calendar clients ignore VTODO), DTEND the day after, UID from the occurrence id
so that a client updates rather than duplicates an event when it moves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from icalendar import Calendar, Event

PRODID = "-//obligation-scheduler//deadlines//EN"
UID_DOMAIN = "obligation-scheduler"


@dataclass(frozen=True)
class Deadline:
    occurrence_id: str
    due: dt.date
    summary: str
    description: str
    sequence: int = 0


def uid_of(occurrence_id: str) -> str:
    return f"{occurrence_id}@{UID_DOMAIN}"


def deadlines_calendar(deadlines: Sequence[Deadline], name: str, stamp: dt.datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for deadline in deadlines:
        event = Event()
        event.add("uid", uid_of(deadline.occurrence_id))
        event.add("dtstamp", stamp.astimezone(dt.timezone.utc))
        event.add("dtstart", deadline.due)
        event.add("dtend", deadline.due + dt.timedelta(days=1))
        event.add("summary", deadline.summary)
        event.add("description", deadline.description)
        event.add("sequence", deadline.sequence)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
