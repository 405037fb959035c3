"""iCalendar bytes for deadlines, shaped for what real clients do.

- All-day VEVENTs (Google and Outlook ignore VTODO), DTEND the day after.
- UID from the occurrence id, never from a token or an address, so an event that moves is updated.
- DTSTAMP and LAST-MODIFIED are the data's last change, not the render time: unchanged data gives
  identical bytes (and ETag). SEQUENCE rises when the due date moves.
- Cancelled occurrences stay a while as STATUS:CANCELLED so subscribers drop them; submitted ones
  are marked in the summary.
- No METHOD (a published feed, not a scheduling message), REFRESH-INTERVAL;VALUE=DURATION and
  X-PUBLISHED-TTL written as durations (icalendar's defaults get both wrong), a VALARM a week ahead.

The lines are written directly, byte for byte what `icalendar`'s Calendar.to_ical() gives for the
same components (properties in its canonical order, TEXT escaped by its own `_escape_char`, lines
folded at 75 octets as its `_foldline` folds them: tests/unit/test_feed.py compares the two): a
feed of 10,000 events would otherwise build some 150,000 property objects and fold every line
character by character.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

PRODID = "-//obligation-scheduler//deadlines//EN"
UID_DOMAIN = "obligation-scheduler"
REFRESH = dt.timedelta(hours=12)
ALARM_BEFORE = dt.timedelta(days=7)
SUBMITTED_MARK = "✓ "
_REFRESH_TEXT = "PT12H"  # icalendar's vDuration(REFRESH)
_TRIGGER_TEXT = "-P7D"  # icalendar's vDuration(-ALARM_BEFORE)
_LIMIT = 74  # octets before a fold: icalendar folds as soon as a line would reach 75
_FOLD = b"\r\n "


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


def escape(text: str) -> str:
    """RFC 5545 TEXT escaping, as icalendar's vText does it (same replacements, same order)."""
    return (text.replace(r"\N", "\n").replace("\\", "\\\\").replace(";", r"\;").replace(",", r"\,")
            .replace("\r\n", r"\n").replace("\n", r"\n").replace("\r", r"\n"))


def fold(line: str) -> bytes:
    """One content line, UTF-8, folded as icalendar's `_foldline` folds it: at most 74 octets before
    each CRLF + space, never inside a character, and an escape's backslash (or a ^) that would end a
    folded line carried over to the next one with what it escapes."""
    data = line.encode()
    if len(data) <= _LIMIT:
        return data
    parts = []
    start, size = 0, len(data)
    while size - start > _LIMIT:
        end = start + _LIMIT
        while data[end] & 0xC0 == 0x80:  # inside a character: fold before it
            end -= 1
        if end - start > 1 and data[end - 1] in b"\\^":
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return _FOLD.join(parts)


def _stamp(moment: dt.datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%S}Z"


def deadlines_calendar(deadlines: Sequence[Deadline], name: str, stamp: dt.datetime) -> bytes:
    """The calendar; `stamp` stands for events that carry no change time of their own."""
    utc = dt.timezone.utc
    day = dt.timedelta(days=1)
    if "\n" in name or "\r" in name:
        raise ValueError(f"a calendar's name is one line: {name!r}")
    out = [
        b"BEGIN:VCALENDAR", b"VERSION:2.0", fold(f"PRODID:{escape(PRODID)}"), b"CALSCALE:GREGORIAN",
        fold(f"NAME:{name}"), fold(f"X-WR-CALNAME:{name}"),  # icalendar writes both as given
        f"REFRESH-INTERVAL;VALUE=DURATION:{_REFRESH_TEXT}".encode(), f"X-PUBLISHED-TTL:{_REFRESH_TEXT}".encode(),
    ]
    append = out.append
    stamps: dict[dt.datetime, str] = {}  # many events share a change time
    for deadline in sorted(deadlines, key=lambda d: (d.due, d.occurrence_id)):
        moment = deadline.last_modified or stamp
        changed = stamps.get(moment)
        if changed is None:
            changed = stamps[moment] = _stamp(moment.astimezone(utc).replace(microsecond=0))
        summary = escape(deadline.summary)
        append(b"BEGIN:VEVENT")
        append(fold("SUMMARY:" + (escape(SUBMITTED_MARK) if deadline.submitted else "") + summary))
        append(f"DTSTART;VALUE=DATE:{deadline.due:%Y%m%d}\r\nDTEND;VALUE=DATE:{deadline.due + day:%Y%m%d}\r\n"
               f"DTSTAMP:{changed}".encode())
        append(fold(f"UID:{escape(uid_of(deadline.occurrence_id))}"))
        append(f"SEQUENCE:{int(deadline.sequence)}".encode())
        append(fold("DESCRIPTION:" + escape(deadline.description)))
        append(f"LAST-MODIFIED:{changed}\r\nSTATUS:{'CANCELLED' if deadline.cancelled else 'CONFIRMED'}\r\n"
               "TRANSP:TRANSPARENT".encode())
        if not deadline.cancelled and not deadline.submitted:
            append(b"BEGIN:VALARM\r\nACTION:DISPLAY")
            append(fold("DESCRIPTION:" + summary))
            append(f"TRIGGER:{_TRIGGER_TEXT}\r\nEND:VALARM".encode())
        append(b"END:VEVENT")
    append(b"END:VCALENDAR\r\n")
    return b"\r\n".join(out)
