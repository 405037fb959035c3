"""Emails, one function per message kind, rendered from Jinja2 templates per language.

Each template (`templates/email/<kind>.<lang>.j2`) has three blocks: `subject`, `text` and `html`.
HTML is autoescaped; names and titles come from data and never reach a header unencoded: the
`email` package encodes non-ASCII headers and refuses line breaks in them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.utils import format_datetime, make_msgid

from jinja2 import Environment, StrictUndefined

from scheduler.feeds.ics import Deadline, deadlines_calendar
from scheduler.i18n import long_date
from scheduler.templating import SiteLoader

_env = Environment(
    loader=SiteLoader(),
    # Plain-text partials (*.txt.j2) are never escaped; everything else is, outside `autoescape false`.
    autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["long_date"] = long_date

STEP_KIND = {
    "reminder-14d": "reminder",
    "reminder-7d": "reminder",
    "reminder-1wd": "reminder",
    "due": "due",
    "escalation-1wd": "escalation",
    "escalation-5wd": "escalation",
    "digest": "digest",
}


def kind_of(step: str) -> str:
    """Unknown steps of a custom ladder read as reminders before the due date, escalations after."""
    return STEP_KIND.get(step) or ("escalation" if step.startswith("escalation") else "reminder")


@dataclass(frozen=True)
class Item:
    """One deadline as an email lists it."""

    occurrence_id: str
    obligation: str
    agency_name: str
    title: str
    form: str | None
    due: dt.date
    recipient_name: str | None
    sequence: int = 0


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    language: str


@dataclass(frozen=True)
class Letterhead:
    """What every message shares: sender, the plan's name, links."""

    sender: str
    plan_title: str
    base_url: str
    feed_url: str | None = None
    personal_url: str | None = None  # the recipient's personal link: her page, to answer (scheduler/app/links.py)
    link_until: dt.date | None = None  # the last day it signs her in


@dataclass(frozen=True)
class DigestReport:
    """The coordinator's weekly digest, built by scheduler/app/digest.py: counts, the top items and
    summaries, every list capped there so that the email's size is bounded whatever the backlog."""

    @dataclass(frozen=True)
    class Agency:
        code: str
        name: str  # in the reader's language
        overdue: int = 0  # still owed (open or returned) past its due date
        upcoming: int = 0  # owed, due within 14 days
        review: int = 0  # answers waiting for the secretariat's review (submitted)
        returned: int = 0  # answers sent back, owed again
        oldest: dt.date | None = None  # the earliest due date among its overdue
        url: str = ""  # the dashboard filtered to it

    @dataclass(frozen=True)
    class Line:
        item: Item
        url: str  # the occurrence's page
        days: int  # days late (overdue) or days left (upcoming)

    @dataclass(frozen=True)
    class Links:
        dashboard: str = ""
        overdue: str = ""
        upcoming: str = ""
        review: str = ""
        returned: str = ""

    week: str
    today: dt.date
    overdue: int = 0
    upcoming: int = 0
    review: int = 0
    returned: int = 0
    agencies: Sequence[Agency] = ()  # the most late first
    agencies_more: int = 0  # left out of `agencies`
    top_overdue: Sequence[Line] = ()  # the most overdue first
    top_upcoming: Sequence[Line] = ()  # the next due first
    failures: int = 0  # undelivered emails of the last week
    failure_examples: Sequence[str] = ()
    without_focal: int = 0  # agencies owing something with no focal point
    without_focal_examples: Sequence[str] = ()
    skipped_late: int = 0
    history: int = 0  # never answered, due before the system started (not counted above)
    started: dt.date | None = None
    links: Links = field(default_factory=Links)


def _render(kind: str, language: str, context: dict) -> tuple[str, str, str]:
    template = _env.get_template(f"email/{kind}.{language}.j2")
    ctx = template.new_context(context)
    subject, text, html = ("".join(template.blocks[b](ctx)) for b in ("subject", "text", "html"))
    return " ".join(subject.split()), text, html


def _message(
    to: Recipient,
    letterhead: Letterhead,
    now: dt.datetime,
    step: str,
    occurrence_ids: Sequence[str],
    rendered: tuple[str, str, str],
    attachment: bytes | None,
    message_id: str | None = None,
) -> EmailMessage:
    subject, text, html = rendered
    name = " ".join(to.name.split())
    if to.email.isascii():
        message = EmailMessage()
        recipient = Address(display_name=name, addr_spec=to.email)
    else:
        # A non-ASCII mailbox name (allowed only when the server speaks SMTPUTF8, see contacts) goes
        # in an internationalised header; the email package refuses it in an ASCII one.
        message = EmailMessage(policy=SMTPUTF8)
        local, _, domain = to.email.rpartition("@")
        recipient = Address(display_name=name, username=local, domain=domain)
    sender = Address(addr_spec=letterhead.sender)
    message["From"] = sender
    message["To"] = recipient
    if subject.isascii():
        message["Subject"] = subject
    else:
        # Encoded words made here keep every space: the email package's own folding drops the space
        # where it splits a long subject between two encoded words ("бас тартылды" → "бастартылды").
        message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
    message["Date"] = format_datetime(now.astimezone(dt.timezone.utc))
    message["Message-ID"] = message_id or make_msgid(domain=sender.domain or "localhost")
    message["X-Scheduler-Step"] = step
    message["X-Scheduler-Occurrences"] = ", ".join(occurrence_ids)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if attachment is not None:
        message.add_attachment(attachment, maintype="text", subtype="calendar", filename="deadlines.ics")
    return message


def _attachment(items: Sequence[Item], letterhead: Letterhead, now: dt.datetime) -> bytes:
    deadlines = [
        Deadline(i.occurrence_id, i.due, f"{i.agency_name}: {i.obligation}. {i.title}"[:250], i.form or "", i.sequence)
        for i in items
    ]
    return deadlines_calendar(deadlines, letterhead.plan_title, now)


def _deadline_message(kind: str, to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead, now: dt.datetime,
                      message_id: str | None = None) -> EmailMessage:
    items = sorted(items, key=lambda i: (i.due, i.occurrence_id))
    today = now.date()
    context = {
        "to": to,
        "step": step,
        "items": items,
        "count": len(items),
        "earliest": items[0].due,
        "latest": items[-1].due,
        "today": today,
        "letterhead": letterhead,
        "lang": to.language,
    }
    rendered = _render(kind, to.language, context)
    return _message(to, letterhead, now, step, [i.occurrence_id for i in items], rendered, _attachment(items, letterhead, now),
                    message_id)


def reminder(to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead, now: dt.datetime,
             message_id: str | None = None) -> EmailMessage:
    """Before the due date: what is owed and by when."""
    return _deadline_message("reminder", to, step, items, letterhead, now, message_id)


def due_today(to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead, now: dt.datetime,
              message_id: str | None = None) -> EmailMessage:
    """On the due date."""
    return _deadline_message("due", to, step, items, letterhead, now, message_id)


def escalation(to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead, now: dt.datetime,
               message_id: str | None = None) -> EmailMessage:
    """After a miss: to focal points and supervisors, later to heads and the recipient."""
    return _deadline_message("escalation", to, step, items, letterhead, now, message_id)


def digest(to: Recipient, report: DigestReport, letterhead: Letterhead, now: dt.datetime,
           message_id: str | None = None) -> EmailMessage:
    """The coordinator's weekly overview: one template (`email/digest.j2`), translated through the
    `digest` catalog; the occurrences header names the items it lists."""
    from scheduler.templating import environment

    template = environment(to.language, strict=True).get_template("email/digest.j2")
    context = template.new_context({"to": to, "report": report, "letterhead": letterhead, "today": now.date(),
                                    "date": lambda day: long_date(day, to.language)})
    subject, text, html = ("".join(template.blocks[b](context)) for b in ("subject", "text", "html"))
    ids = [line.item.occurrence_id for line in (*report.top_overdue, *report.top_upcoming)]
    return _message(to, letterhead, now, "digest", ids, (" ".join(subject.split()), text, html), None, message_id)


COMPOSERS = {"reminder": reminder, "due": due_today, "escalation": escalation}


@dataclass(frozen=True)
class Notice:
    """One event a notice tells of (an answer received or returned, an extension granted or
    refused), with what the email says about it. Times are local, in the plan's zone."""

    item: Item  # the occurrence, its due date as the event left it
    at: dt.datetime  # when the event was recorded
    url: str  # the occurrence's page
    reason: str | None = None
    received: dt.datetime | None = None  # an answer: when it came
    ref: str | None = None  # its letter's registration number
    ref_date: dt.date | None = None  # and date
    documents: int = 0
    previous_due: dt.date | None = None  # an extension granted: the date it replaced
    requested: dt.date | None = None  # the date the agency asked for, if it asked


NOTICE_ATTACHED = frozenset({"extension-granted"})  # these carry the deadlines' new dates as .ics


def notice(kind: str, to: Recipient, notices: Sequence[Notice], letterhead: Letterhead, now: dt.datetime,
           message_id: str | None = None, review_url: str | None = None) -> EmailMessage:
    """A notice of one kind (`answer-received`, `answer-returned`, `extension-granted`,
    `extension-refused`) listing every event of that kind the recipient is told of at once."""
    notices = sorted(notices, key=lambda n: (n.at, n.item.occurrence_id))
    context = {"to": to, "notices": notices, "count": len(notices), "letterhead": letterhead, "lang": to.language,
               "today": now.date(), "review_url": review_url}
    rendered = _render(kind, to.language, context)
    ids = list(dict.fromkeys(n.item.occurrence_id for n in notices))
    items = list({n.item.occurrence_id: n.item for n in notices}.values())
    attachment = _attachment(items, letterhead, now) if kind in NOTICE_ATTACHED else None
    return _message(to, letterhead, now, kind, ids, rendered, attachment, message_id)
