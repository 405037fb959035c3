"""iCalendar bytes for deadlines, built with `icalendar`, shaped for what real clients do.

- All-day VEVENTs (Google and Outlook ignore VTODO), DTEND the day after.
- UID from the occurrence id, never from a token or an address, so an event that moves is updated.
- DTSTAMP and LAST-MODIFIED are the data's last change, not the render time: unchanged data gives
  identical bytes (and ETag). SEQUENCE rises when the due date moves.
- Cancelled occurrences stay a while as STATUS:CANCELLED so subscribers drop them; submitted ones
  are marked in the summary.
- No METHOD (a published feed, not a scheduling message), REFRESH-INTERVAL;VALUE=DURATION and
  X-PUBLISHED-TTL written as durations (icalendar's defaults get both wrong), a VALARM a week ahead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from icalendar import Alarm, Calendar, Event, vDuration

PRODID = "-//obligation-scheduler//deadlines//EN"
UID_DOMAIN = "obligation-scheduler"
REFRESH = dt.timedelta(hours=12)
ALARM_BEFORE = dt.timedelta(days=7)
SUBMITTED_MARK = "✓ "


@dataclass(frozen=True)
class Deadline:
    occurrence_id: str
    due: dt.date
    summary: str
    description: str
    sequence: int = 0
    last_modified: dt.datetime | None = None
    cancelled: bool = False
    submitted: bool = False


@dataclass(frozen=True)
class RenderedFeed:
    title: str
    body: bytes
    etag: str  # computed once per rendering: hashing megabytes per request would be the slow part


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def uid_of(occurrence_id: str) -> str:
    return f"{occurrence_id}@{UID_DOMAIN}"


def deadlines_calendar(deadlines: Sequence[Deadline], name: str, stamp: dt.datetime) -> bytes:
    """The calendar; `stamp` stands for events that carry no change time of their own."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for deadline in sorted(deadlines, key=lambda d: (d.due, d.occurrence_id)):
        changed = (deadline.last_modified or stamp).astimezone(dt.timezone.utc).replace(microsecond=0)
        event = Event()
        event.add("uid", uid_of(deadline.occurrence_id))
        event.add("dtstamp", changed)
        event.add("last-modified", changed)
        event.add("dtstart", deadline.due)
        event.add("dtend", deadline.due + dt.timedelta(days=1))
        event.add("summary", (SUBMITTED_MARK if deadline.submitted else "") + deadline.summary)
        event.add("description", deadline.description)
        event.add("sequence", deadline.sequence)
        event.add("status", "CANCELLED" if deadline.cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        if not deadline.cancelled and not deadline.submitted:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", deadline.summary)
            alarm.add("trigger", -ALARM_BEFORE)
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
