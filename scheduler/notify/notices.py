"""The notices: one email telling a person of every event of a tick that concerns her (answers
received, accepted or returned, deadlines closed or reopened, extensions granted or refused),
small whatever their number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage

from scheduler.notify.compose import (ROLES, Item, Letterhead, Recipient, focus_url, gettext, ics_attachment, mime_message,
                                      plan_order, render, signed_item_url)


@dataclass(frozen=True)
class Notice:
    """One event a notice tells of (an answer received, accepted or returned, a deadline closed or
    reopened, an extension granted or refused), with what the email says about it. Times are
    local, in the plan's zone."""

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
    kind: str | None = None  # what happened (the ledger's step, `notice`'s kind when not given)
    state: str | None = None  # the deadline's state after the event (a reopening: what it is now)


NOTICE_ATTACHED = frozenset({"extension-granted"})  # these carry the deadlines' new dates as .ics
NOTICE_BUDGET = 80 * 1024  # bytes a notice may take, all told: the events that do not fit are counted, not listed
DECISIONS = "decisions"  # X-Scheduler-Step of an agency's notice that tells of several kinds at once
NOTHING_OWED = frozenset({"answer-acknowledged", "answer-accepted", "deadline-closed"})  # after these, nothing to answer


def notice_headlines(language: str) -> dict[str, str]:
    """What happened, as a notice of several kinds says it above each deadline and, joined, in its
    subject; the agency's kinds, those that ask something of her first."""
    _ = gettext(language)[0]
    return {
        "answer-returned": _("Answer returned for completion"),
        "extension-refused": _("Extension refused"),
        "extension-granted": _("Deadline extended"),
        "answer-accepted": _("Answer accepted"),
        "deadline-closed": _("Removed from control"),
        "deadline-reopened": _("Latest decision undone"),
        "answer-acknowledged": _("Answer received"),
    }


def reopened_words(language: str) -> dict[str, str]:
    """What a deadline is after the secretariat undid its latest decision, by its new state."""
    _ = gettext(language)[0]
    owed = _("The information is owed again: the reminders resume.")
    return {"open": owed, "returned": owed,
            "submitted": _("Your answer is waiting for the secretariat's review again."),
            "accepted": _("Your answer stands accepted again.")}


def notice(kind: str, to: Recipient, notices: Sequence[Notice], letterhead: Letterhead, now: dt.datetime,
           message_id: str | None = None, review_url: str | None = None) -> EmailMessage:
    """The notice listing every event the recipient is told of at once: of one kind (the
    secretariat's `answer-received`; an agency's `answer-acknowledged`, `answer-accepted`,
    `answer-returned`, `deadline-closed`, `deadline-reopened`, `extension-granted`,
    `extension-refused`), its own template and the kind as its step; of several kinds (each
    `Notice.kind`), the `decisions` template and step, each deadline saying what happened to it."""
    notices = sorted((n if n.kind else replace(n, kind=kind) for n in notices),
                     key=lambda n: (n.item.plan_rank, plan_order(n.item.number), n.item.due, n.item.agency_name,
                                    n.at, n.item.occurrence_id))
    headlines = notice_headlines(to.language)
    kinds = sorted({n.kind for n in notices}, key=lambda k: list(headlines).index(k) if k in headlines else len(headlines))
    step = kinds[0] if len(kinds) == 1 else DECISIONS
    said = [headlines.get(k, k) for k in kinds]
    ids = list(dict.fromkeys(n.item.occurrence_id for n in notices))
    if letterhead.personal_url:  # each deadline's page through her personal link: it opens without a session
        notices = [replace(n, url=signed_item_url(letterhead.base_url, letterhead.personal_url, n.item.occurrence_id))
                   for n in notices]
    context = {"to": to, "count": len(notices), "letterhead": letterhead, "lang": to.language,
               "focus_url": focus_url(letterhead.personal_url, ids),
               "today": now.date(), "review_url": review_url, "role": to.role if to.role in ROLES else "focal",
               "mixed": step == DECISIONS, "headlines": headlines, "reopened": reopened_words(to.language),
               # the personal link asks her to answer or ask for more time, unless nothing listed is owed
               "answerable": any(n.kind not in NOTHING_OWED for n in notices),
               "deadlines": len(ids), "what": "; ".join([*said[:1], *(w[:1].lower() + w[1:] for w in said[1:])])}

    def written(shown: int) -> EmailMessage:
        listed = notices[:shown]
        rendered = render(step, to.language, {**context, "notices": listed, "more": len(notices) - shown})
        extended = [n for n in listed if n.kind in NOTICE_ATTACHED]
        items = list({n.item.occurrence_id: n.item for n in extended}.values())
        attachment = ics_attachment(items, letterhead, now, to.language) if items else None
        return mime_message(to, letterhead, now, step, ids, rendered, attachment, message_id)

    # However many events one tick tells of (a bulk closing, a day of answers), the email stays small:
    # as many as fit in NOTICE_BUDGET are listed, the rest counted (each deadline's page has its history).
    message = written(len(notices))
    if len(notices) > 1 and len(message.as_bytes()) > NOTICE_BUDGET:
        fits, too_many = 1, len(notices)
        while too_many - fits > 1:
            middle = (fits + too_many) // 2
            fits, too_many = (middle, too_many) if len(written(middle).as_bytes()) <= NOTICE_BUDGET else (fits, middle)
        message = written(fits)
    return message
