"""Deadline emails for a tick's many recipients at once, written as the bytes that go on the wire
(scheduler/notify/wire.py), one rendering shared by the recipients of the same deadlines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from email.header import Header
from email.utils import format_datetime
from functools import lru_cache

from markupsafe import escape

from scheduler.notify import wire
from scheduler.notify.compose import (COMPOSERS, OWN_ROLES, ROLES, Item, Letterhead, Recipient, deadline_context,
                                      display_name, ics_attachment, in_plan_order, render)
from scheduler.templating import overridden


# Where a recipient's own words go in a rendering shared by several recipients (see `Batch`).
_MARKS = {"name": "\x00name\x00", "email": "\x00email\x00", "link": "\x00link\x00", "feed": "\x00feed\x00"}


@dataclass(frozen=True)
class _Shared:
    """One rendering of a deadline email, for every recipient of the same deadlines, step, language
    and role: the headers around To and Message-ID, the parts with markers, the .ics part."""

    sender: bytes  # From
    middle: bytes  # Reply-To, Subject, Date
    tail: bytes  # Auto-Submitted, MIME-Version, X-Scheduler-Step, X-Scheduler-Occurrences
    text: str
    html: str
    attachment: bytes | None


class Batch:
    """Deadline emails for many recipients at once (a tick's), written as the bytes that go on the
    wire (scheduler/notify/wire.py) rather than built as EmailMessage objects.

    Recipients of the same deadlines, step, language and role share one rendering of the template,
    made with markers where the recipient's name, address and links go and filled in per recipient
    (HTML-escaped in the HTML part, as the template's autoescaping would), one subject and one .ics
    part; per email only the To header, the Message-ID and the parts' encoding are made. The result
    says what `reminder`, `due_today` and `escalation` say. With a site's own templates
    (SCHEDULER_TEMPLATES_DIR), whose use of the recipient's words is not known, or an address that
    needs an SMTPUTF8 header, each email is composed alone by those functions."""

    def __init__(self, working_days: Callable[[dt.date, dt.date], int] | None = None):
        self.working_days = working_days
        self._shared: dict[tuple, _Shared | None] = {}

    def deadline(self, kind: str, to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead,
                 now: dt.datetime, message_id: str):
        """The email of `kind` (reminder, due, escalation): an `Outgoing`, or an EmailMessage."""
        alone = lambda: COMPOSERS[kind](to, step, items, letterhead, now, message_id, working_days=self.working_days)  # noqa: E731
        if overridden() or not wire.writable(to.email, letterhead.sender, letterhead.reply_to):
            return alone()
        role = to.role if to.role in ROLES else "focal"
        # What the shared rendering depends on: all but the recipient's own words and links.
        key = (kind, step, to.language, role, bool(to.name), tuple(items), now, letterhead.sender, letterhead.plan_title,
               letterhead.base_url, bool(letterhead.feed_url), bool(letterhead.personal_url), letterhead.link_until,
               letterhead.sender_name, letterhead.reply_to, letterhead.translation)
        shared = self._shared.get(key, False)
        if shared is False:
            general = replace(letterhead, feed_url=_MARKS["feed"] if letterhead.feed_url else None,
                              personal_url=_MARKS["link"] if letterhead.personal_url else None)
            shared = self._shared[key] = self._share(kind, step, to.language, role, bool(to.name), in_plan_order(items),
                                                     general, now)
        if shared is None:
            return alone()
        text, html = shared.text, shared.html
        for mark, value in (("name", to.name), ("email", to.email), ("link", letterhead.personal_url),
                            ("feed", letterhead.feed_url)):
            if value and _MARKS[mark] in text:
                text = text.replace(_MARKS[mark], value)
            if value and _MARKS[mark] in html:
                html = html.replace(_MARKS[mark], str(escape(value)))
        if "\x00" in text or "\x00" in html:
            return alone()  # the template did something else with a recipient's words than print them
        headers = [shared.sender, wire.address("To", display_name(to.name), to.email), shared.middle,
                   wire.message_id(message_id), shared.tail]
        return wire.message(sender=letterhead.sender, recipient=to.email, headers=headers, text=text, html=html,
                            attachment=shared.attachment, message_id=message_id)

    def _share(self, kind: str, step: str, language: str, role: str, named: bool, items: list[Item],
               letterhead: Letterhead, now: dt.datetime) -> _Shared | None:
        marked = Recipient(_MARKS["email"], _MARKS["name"] if named else "", language, role)
        subject, text, html = render(kind, language, deadline_context(marked, step, items, letterhead, now, self.working_days))
        if "\x00" in subject:
            return None
        sender_name = display_name(letterhead.sender_name)
        middle = [wire.address("Reply-To", sender_name, letterhead.reply_to) if letterhead.reply_to else b""]
        middle.append(_subject_line(subject))
        middle.append(wire.line("Date", format_datetime(now.astimezone(dt.timezone.utc))))
        tail = (wire.line("Auto-Submitted", "auto-generated") + wire.line("MIME-Version", "1.0")
                + wire.line("X-Scheduler-Step", step)
                + wire.line("X-Scheduler-Occurrences", ", ".join(i.occurrence_id for i in items)))
        attachment = wire.attachment_part(ics_attachment(items, letterhead, now, language)) if role in OWN_ROLES else None
        return _Shared(wire.address("From", sender_name, letterhead.sender), b"".join(middle), tail, text, html, attachment)


@lru_cache(maxsize=4096)
def _subject_line(subject: str) -> bytes:
    """The Subject line, as `envelope` sets it: encoded words that keep every space where it is
    not ASCII; the same subjects come again and again."""
    if subject.isascii():
        return wire.line("Subject", subject)
    return wire.raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
