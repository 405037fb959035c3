"""Emails, one function per message kind, rendered from one Jinja2 template per kind and translated
through the `email` gettext catalog.

Each template (`templates/email/<kind>.j2`) has three blocks: `subject`, `text` and `html`; its words
are English message ids marked for translation (`{% trans %}`, `_()`, `ngettext`), rendered by
`scheduler.templating.environment(language, strict=True)`, which installs that language's catalog
(`locale/<lang>/LC_MESSAGES/email.po`). Python-side words (the urgency in subjects, the calendar
attachment's labels) go through the same catalog. HTML is autoescaped; names and titles come from
data and never reach a header unencoded: the `email` package encodes non-ASCII headers and refuses
line breaks in them.

What the emails say, in every language alike:
- the subject says the urgency first: "Due in 14 days", "Due tomorrow", "Due today", "Overdue by 3
  working days" (each language's plural forms), then the date and how many obligations;
- the items in the plan's order (8, 8.1 … 8.5, 9 … 17 … 36, then the resolution's paragraphs), a
  sub-row with its heading row's title before its own;
- the wording fits the reader: the agency's focal point; her supervisor or head (take it under
  control); the working body the information is owed to (for its information); the coordinator
  standing in for the head of a body "by agreement"; and a body "by agreement" is asked, not told;
- the personal link first, then the list; a translated plan's words marked as a working translation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import quote

from jinja2 import Environment

from scheduler.feeds.ics import Deadline, deadlines_calendar
from scheduler.i18n import long_date, period_words
from scheduler.templating import environment, translations

STEP_KIND = {
    "reminder-14d": "reminder",
    "reminder-7d": "reminder",
    "reminder-1wd": "reminder",
    "due": "due",
    "escalation-1wd": "escalation",
    "escalation-5wd": "escalation",
    "period-start": "reminder",
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
    heading: str | None = None  # a sub-row (8.1): its heading row's title (8), said before its own
    by_agreement: bool = False  # the body takes part "by agreement": it is asked, not told
    agency_short: str | None = None  # the body's short name, for the calendar's event titles
    plan: str | None = None  # with several plans loaded: the title of the item's plan, said above its items
    plan_rank: int = 0  # the item's plan's place among the plans loaded (the home plan first)
    period: str | None = None  # the period label ("2022-H1") of a periodic or event row
    event: bool = False  # the row is an event (a sitting, a training): it must happen within the period
    opens: dt.date | None = None  # an event: the first day it may be held (the period's, or the adoption)
    partial_from: dt.date | None = None  # the plan covers the period only from this day (its adoption)
    own_report: bool = False  # the information goes to the owing body itself: its own report, nothing to send
    focal: tuple[str, ...] = ()  # the body's focal points, "Name, address": whom a head or the working body can call on

    @property
    def number(self) -> str:
        """The row's number as its plan prints it ("8.1"; "1" for `<plan-id>/1`)."""
        return self.obligation.rpartition("/")[2]


ROLES = ("focal", "supervisor", "head", "recipient", "coordinator")


def plan_order(obligation: str) -> tuple:
    """The natural order of obligation numbers, as the plan lists them: 6 before 17, 8 before 8.1
    before 8.2 before 9; numbered rows before the resolution's own paragraphs (res-2, res-3.2)."""
    parts = re.findall(r"\d+|[^\d.]+", obligation)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts) or ((2, 0, obligation),)


def in_plan_order(items: Sequence[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.plan_rank, plan_order(i.number), i.due, i.agency_name, i.occurrence_id))


@dataclass(frozen=True)
class Row:
    """One row of the plan as an email lists it: its number, heading, title and form said once, then
    each deadline of it the email is about (a body, a period), in the plan's order."""

    plan: str | None
    number: str
    heading: str | None
    title: str
    form: str | None
    event: bool
    entries: tuple[Item, ...]

    @property
    def own_report(self) -> bool:
        """Every deadline of the row goes to its own body: said once, for the row."""
        return all(i.own_report for i in self.entries)

    @property
    def dates(self) -> list[tuple[Item, list[Item]]]:
        """The row's deadlines by date, period and addressee (said once for the bodies that share
        them): (the first of them, all of them)."""
        found: dict[tuple, list[Item]] = {}
        for item in self.entries:
            found.setdefault((item.due, item.period, item.recipient_name, item.own_report, item.event,
                              item.partial_from), []).append(item)
        return [(group[0], group) for group in found.values()]


def rows_of(items: Sequence[Item]) -> list[Row]:
    """`items` (in the plan's order) grouped by their row."""
    rows: list[Row] = []
    for item in items:
        last = rows[-1] if rows else None
        if last is not None and (last.plan, last.number, last.title) == (item.plan, item.number, item.title):
            rows[-1] = replace(last, entries=(*last.entries, item))
        else:
            rows.append(Row(item.plan, item.number, item.heading, item.title, item.form, item.event, (item,)))
    return rows


def item_url(base_url: str, item: Item) -> str:
    """A deadline's own page: it opens for a reader signed in by the email's personal link."""
    return f"{base_url}/occurrences/{quote(item.occurrence_id, safe=':.-/')}"


FOCUS_MAX = 60  # deadlines a link names for the page to show first: a body's email lists fewer


def focus_url(personal_url: str | None, occurrence_ids: Sequence[str]) -> str | None:
    """The personal link that opens her page on what the email is about: `?items=<id>,<id>` (ids
    keep `:` and `.`, which a query may hold as they are), the first FOCUS_MAX of them; the landing
    sends the browser on to `/my?items=…` (scheduler/web/auth.py)."""
    if not personal_url:
        return None
    ids = [quote(oid, safe=":.-/") for oid in dict.fromkeys(occurrence_ids)][:FOCUS_MAX]
    return f"{personal_url}?items={','.join(ids)}" if ids else personal_url


def signed_item_url(base_url: str, personal_url: str | None, occurrence_id: str) -> str:
    """A deadline's own page reached through the personal link (`?next=/occurrences/<id>`), so it
    opens even in a browser with no session yet; the page's own address without a personal link."""
    path = f"/occurrences/{quote(occurrence_id, safe=':.-/')}"
    return f"{personal_url}?next={path}" if personal_url else f"{base_url}{path}"


BRIEF_TITLE = 160  # characters of a row's title in an email sent for information

# The .ics attached to a deadline email carries the reader's own deadlines only: those of the body
# she answers for or heads, not those she is told of (the body owed the information, the coordinator).
OWN_ROLES = frozenset({"focal", "supervisor", "head"})


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    language: str
    # why she gets it: "focal" (the agency's focal point), "supervisor" or "head" (of the agency),
    # "recipient" (a focal point of the body the information is owed to), "coordinator" (standing
    # in for the head of a body by agreement)
    role: str = "focal"


@dataclass(frozen=True)
class Letterhead:
    """What every message shares: sender, the plan's name, links."""

    sender: str
    plan_title: str
    base_url: str
    feed_url: str | None = None
    personal_url: str | None = None  # the recipient's personal link: her page, to answer (scheduler/app/links.py)
    link_until: dt.date | None = None  # the last day it signs her in
    sender_name: str | None = None  # From's display name: SCHEDULER_MAIL_FROM_NAME or the plan's working body
    reply_to: str | None = None  # SCHEDULER_REPLY_TO: where a reply goes (the secretariat)
    translation: str | None = None  # "working" when the plan's words in this language are a working translation


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
    record: Any = None  # the record's hash chain head as the digest was written (scheduler.store.chain.Head)


def _environment(language: str, domain: str = "email") -> Environment:
    env = environment(language, strict=True, domain=domain)
    env.filters.setdefault("long_date", long_date)
    said = translations(language, domain)
    env.filters["period"] = lambda label: period_words(label, language, said.gettext)
    env.filters["row_name"] = lambda number: row_name(number, said.gettext)
    return env


def row_name(number: str, gettext: Callable[[str], str]) -> str:
    """A row as people call it: "Obligation 8.1"; a paragraph of the resolution by its name ("п. 3.2
    постановления", "қаулының 3.2-тармағы"), never its code (`res-3.2`)."""
    if number.startswith("res-"):
        named = gettext("paragraph %(number)s of the resolution") % {"number": number.removeprefix("res-")}
        return named[:1].upper() + named[1:]  # it heads its item
    return gettext("Obligation") + " " + number


def render(kind: str, language: str, context: dict, domain: str = "email") -> tuple[str, str, str]:
    """The subject (on one line), text and HTML of `email/<kind>.j2` in `language`, the `domain`
    catalog's words first."""
    template = _environment(language, domain).get_template(f"email/{kind}.j2")
    ctx = template.new_context(context)
    subject, text, html = ("".join(template.blocks[b](ctx)) for b in ("subject", "text", "html"))
    return " ".join(subject.split()), text, html


def gettext(language: str) -> tuple[Callable[[str], str], Callable[[str, str, int], str]]:
    """`_` and `ngettext` of the email catalog in `language`."""
    found = translations(language, "email")
    return found.gettext, found.ngettext


def weekdays_between(earlier: dt.date, later: dt.date) -> int:
    """Monday-to-Friday days after `earlier` up to and including `later` (no holiday calendar)."""
    return sum((earlier + dt.timedelta(days=n)).weekday() < 5 for n in range(1, (later - earlier).days + 1))


def urgency(language: str, due: dt.date, today: dt.date,
            working_days: Callable[[dt.date, dt.date], int] | None = None) -> str:
    """What a subject says first, the same way in every language: "Due in 14 days", "Due tomorrow",
    "Due today", "Overdue by 3 working days" (working days counted by `working_days(due, today)`,
    the plan's calendar; Monday to Friday without it)."""
    _, ngettext = gettext(language)
    days = (due - today).days
    if days > 1:
        return ngettext("Due in %(num)d day", "Due in %(num)d days", days) % {"num": days}
    if days == 1:
        return _("Due tomorrow")
    if days == 0:
        return _("Due today")
    late = (working_days or weekdays_between)(due, today) or 1
    return ngettext("Overdue by %(num)d working day", "Overdue by %(num)d working days", late) % {"num": late}


def display_name(text: str | None) -> str:
    return " ".join((text or "").split())


def envelope(to: Recipient, sender: str, sender_name: str | None, reply_to: str | None,
             rendered: tuple[str, str, str], now: dt.datetime, message_id: str | None = None) -> EmailMessage:
    """An email of ours, whatever its kind: To (an internationalised mailbox in an SMTPUTF8 header),
    From with its display name, Reply-To, a Subject whose spaces survive encoding, Date, Message-ID,
    Auto-Submitted, and the text and HTML parts."""
    subject, text, html = rendered
    name = display_name(to.name)
    if to.email.isascii():
        message = EmailMessage()
        recipient = Address(display_name=name, addr_spec=to.email)
    else:
        # A non-ASCII mailbox name (allowed only when the server speaks SMTPUTF8, see contacts) goes
        # in an internationalised header; the email package refuses it in an ASCII one.
        message = EmailMessage(policy=SMTPUTF8)
        local, _, domain = to.email.rpartition("@")
        recipient = Address(display_name=name, username=local, domain=domain)
    origin = Address(display_name=display_name(sender_name), addr_spec=sender)
    message["From"] = origin
    message["To"] = recipient
    if reply_to:
        message["Reply-To"] = Address(display_name=display_name(sender_name), addr_spec=reply_to)
    if subject.isascii():
        message["Subject"] = subject
    else:
        # Encoded words made here keep every space: the email package's own folding drops the space
        # where it splits a long subject between two encoded words ("бас тартылды" → "бастартылды").
        message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
    message["Date"] = format_datetime(now.astimezone(dt.timezone.utc))
    message["Message-ID"] = message_id or make_msgid(domain=origin.domain or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def mime_message(
    to: Recipient,
    letterhead: Letterhead,
    now: dt.datetime,
    step: str,
    occurrence_ids: Sequence[str],
    rendered: tuple[str, str, str],
    attachment: bytes | None,
    message_id: str | None = None,
) -> EmailMessage:
    """A deadline email or a notice: the envelope, the contract's X-Scheduler headers, the .ics."""
    message = envelope(to, letterhead.sender, letterhead.sender_name, letterhead.reply_to, rendered, now, message_id)
    message["X-Scheduler-Step"] = step
    message["X-Scheduler-Occurrences"] = ", ".join(occurrence_ids)
    if attachment is not None:
        # UTF-8 said in the part's header: without it a client reads the titles as ASCII
        message.add_attachment(attachment, maintype="text", subtype="calendar", filename="deadlines.ics",
                               params={"charset": "utf-8"})
    else:
        # Content-Type last, as adding an attachment leaves it (and as the bytes of a batch have it)
        content_type = message["Content-Type"]
        del message["Content-Type"]
        message["Content-Type"] = content_type
    return message


def ics_attachment(items: Sequence[Item], letterhead: Letterhead, now: dt.datetime, language: str = "kk") -> bytes:
    """The deadlines as an .ics file in the reader's language: each event titled with the body's
    short name, the row and its title; the description with the form and whom it goes to."""
    _ = gettext(language)[0]
    deadlines = []
    for i in items:
        title = f"{i.heading} {i.title}" if i.heading else i.title
        named = row_name(i.number, _)
        lines = [*([i.plan] if i.plan else []), f"{named}. {title}", f"{_('Body')}: {i.agency_name}"]
        if i.form:
            lines.append(f"{_('Form')}: {i.form}")
        if i.recipient_name:
            lines.append(f"{_('To')}: {i.recipient_name}")
        lines.append(item_url(letterhead.base_url, i))
        # A calendar shows the summary as the entry's name (and in the alarm): short; the
        # description has the whole title.
        summary = f"{i.agency_short or i.agency_name}: {i.number if not i.number.startswith('res-') else named}. {i.title}"
        deadlines.append(Deadline(i.occurrence_id, i.due, _shortened(summary, 100), "\n".join(lines), i.sequence))
    return deadlines_calendar(deadlines, letterhead.plan_title, now)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;:") + "…"


def deadline_context(to: Recipient, step: str, items: list[Item], letterhead: Letterhead, now: dt.datetime,
                      working_days: Callable[[dt.date, dt.date], int] | None = None) -> dict:
    """What a deadline email's template is given; `items` in the plan's order, and grouped by row
    (`rows`); `one_body`: the body's name where every item is one body's (said once, above the list)."""
    today = now.date()
    earliest = min(i.due for i in items)
    bodies = {i.agency_name for i in items}
    own = to.role in OWN_ROLES or to.role not in ROLES
    return {
        "to": to,
        "step": step,
        "items": items,
        "rows": rows_of(items),
        "one_body": next(iter(bodies)) if len(bodies) == 1 else None,
        # Her own body's deadlines: each page through her personal link, and the link opening her
        # page on them; told of another body's (the working body, the coordinator), the pages'
        # own addresses and her page as it is (hers shows no other body's deadlines).
        "item_url": (lambda item: signed_item_url(letterhead.base_url, letterhead.personal_url, item.occurrence_id))
        if own else (lambda item: item_url(letterhead.base_url, item)),
        "focus_url": focus_url(letterhead.personal_url, [i.occurrence_id for i in items]) if own else letterhead.personal_url,
        # Told for information (the body owed the information, the coordinator): a row's title in
        # brief, its page one tap away; the whole title for those who answer for it or head them.
        "title_of": (lambda row: _shortened(row.title, BRIEF_TITLE)) if to.role in ("recipient", "coordinator") else (lambda row: row.title),
        "brief": to.role in ("recipient", "coordinator"),
        "count": len(items),
        "earliest": earliest,
        "latest": max(i.due for i in items),
        "today": today,
        "urgency": urgency(to.language, earliest, today, working_days),
        "role": to.role if to.role in ROLES else "focal",
        "by_agreement": all(i.by_agreement for i in items),
        "events": all(i.event for i in items),  # every item is an event: words of sittings, not of reports
        "letterhead": letterhead,
        "lang": to.language,
    }


def _deadline_message(kind: str, to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead, now: dt.datetime,
                      message_id: str | None = None,
                      working_days: Callable[[dt.date, dt.date], int] | None = None) -> EmailMessage:
    items = in_plan_order(items)
    rendered = render(kind, to.language, deadline_context(to, step, items, letterhead, now, working_days))
    own = to.role in OWN_ROLES or to.role not in ROLES
    return mime_message(to, letterhead, now, step, [i.occurrence_id for i in items], rendered,
                    ics_attachment(items, letterhead, now, to.language) if own else None, message_id)


def reminder(to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead, now: dt.datetime,
             message_id: str | None = None, working_days: Callable[[dt.date, dt.date], int] | None = None) -> EmailMessage:
    """Before the due date: what is owed and by when."""
    return _deadline_message("reminder", to, step, items, letterhead, now, message_id, working_days)


def due_today(to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead, now: dt.datetime,
              message_id: str | None = None, working_days: Callable[[dt.date, dt.date], int] | None = None) -> EmailMessage:
    """On the due date."""
    return _deadline_message("due", to, step, items, letterhead, now, message_id, working_days)


def escalation(to: Recipient, step: str, items: Sequence[Item], letterhead: Letterhead, now: dt.datetime,
               message_id: str | None = None, working_days: Callable[[dt.date, dt.date], int] | None = None) -> EmailMessage:
    """After a miss: to focal points and supervisors, later to heads and the recipient."""
    return _deadline_message("escalation", to, step, items, letterhead, now, message_id, working_days)


def digest(to: Recipient, report: DigestReport, letterhead: Letterhead, now: dt.datetime,
           message_id: str | None = None) -> EmailMessage:
    """The coordinator's weekly overview: one template (`email/digest.j2`), translated through the
    `digest` catalog; the occurrences header names the items it lists."""
    rendered = render("digest", to.language, {"to": to, "report": report, "letterhead": letterhead, "today": now.date(),
                                              "date": lambda day: long_date(day, to.language)}, domain="digest")
    ids = [line.item.occurrence_id for line in (*report.top_overdue, *report.top_upcoming)]
    return mime_message(to, letterhead, now, "digest", ids, rendered, None, message_id)


COMPOSERS = {"reminder": reminder, "due": due_today, "escalation": escalation}
