"""What the review pages share: who may review, their forms' checks, the words for decisions and
outcomes."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response

from scheduler import templating
from scheduler.answers import ACCEPT, CLOSE, EXTEND, REFUSE, REOPEN, RETURN, REVOKE
from scheduler.web import words
from scheduler.web.auth import Auth, Visitor, page_environment
from scheduler.web.deps import auth_of
from scheduler.web.guard import read_small_form

DECISIONS = (ACCEPT, RETURN, CLOSE, REOPEN, EXTEND, REVOKE, REFUSE)


REPORT_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


REFUSAL_KEYS = ("already_accepted", "changed_meanwhile", "not_answered", "not_found")


MAX_PICKS = 200  # answers accepted in one post: two pages of the queue


def decisions(state: str, extended: bool, requested: bool) -> list[str]:
    """The buttons an occurrence's page offers a reviewer in its state."""
    offered = {
        "open": [EXTEND, CLOSE], "returned": [EXTEND, CLOSE],
        "submitted": [ACCEPT, RETURN, REOPEN, CLOSE], "accepted": [RETURN, REOPEN, CLOSE], "closed": [REOPEN],
    }.get(state, [])
    if state in ("open", "returned"):
        offered = ([REFUSE] if requested else []) + offered + ([REVOKE] if extended else [])
    return offered


def describer(ctx, lang: str, today: dt.date):
    """An occurrence as the secretariat reads it: the body's name, the row, the period — never its code."""
    environment = page_environment(lang).globals
    period, said = environment["period"], templating.translations(lang)

    def describe(oid: str) -> str:
        obligation, _, rest = oid.partition(":")
        agency, _, label = rest.partition(":")
        name = ctx.plan.display_name(agency, today, lang) if ctx.plan.agency(agency) else agency
        if obligation.startswith("res-"):  # a paragraph of the resolution by its name, never its code
            return f"{name} — {environment['row_number'](obligation)}, {period(label)}"
        return f"{name} — " + said.gettext("No. %(number)s, %(period)s") % {"number": obligation, "period": period(label)}

    return describe


def state_said(state: str, lang: str) -> str:
    return words.say(templating.translations(lang), words.STATES.get(state), state)


def outcome_words(query, describe, lang: str) -> dict | None:
    """What the queue says after answers were accepted or entered from paper (`?accepted=ID`,
    `?refused=ID|KEY|STATE`, `?recorded=ID`, each repeated): a sentence, and each item by name."""
    said = templating.translations(lang)
    accepted = [oid for oid in query.getlist("accepted") if oid][:MAX_PICKS]
    recorded = [oid for oid in query.getlist("recorded") if oid][:MAX_PICKS]
    refused = []
    for given in query.getlist("refused")[:MAX_PICKS]:
        oid, _, rest = given.partition("|")
        key, _, state = rest.partition("|")
        if oid and key in REFUSAL_KEYS:
            reason = Auth.words(lang, key, state=state_said(state, lang)) if key != "not_found" \
                else Auth.words(lang, key)[:1].lower() + Auth.words(lang, key)[1:]  # mid-sentence
            refused.append((describe(oid), reason.rstrip(".")))
    if not (accepted or refused or recorded):
        return None
    if recorded:
        sentence = said.ngettext("%(num)d answer received on paper is recorded.",
                                 "%(num)d answers received on paper are recorded.", len(recorded)) % {"num": len(recorded)}
        return {"sentence": sentence, "done": [describe(oid) for oid in recorded], "refused": refused}
    if len(accepted) == 1 and not refused:
        return {"sentence": Auth.words(lang, "done_accept", what=describe(accepted[0])), "done": [], "refused": []}
    parts = []
    if accepted:
        parts.append(said.ngettext("%(num)d answer accepted", "%(num)d answers accepted", len(accepted)) % {"num": len(accepted)})
    if refused:
        part = said.ngettext("%(num)d not accepted", "%(num)d not accepted", len(refused)) % {"num": len(refused)}
        reasons = {reason for _, reason in refused}
        parts.append(part + (": " + reasons.pop() if len(reasons) == 1 else ""))
    return {"sentence": "; ".join(parts) + ".", "done": [describe(oid) for oid in accepted], "refused": refused}


def picks(values: list[str]) -> list[tuple[str, int | None]] | None:
    """The answers ticked: `ID|VERSION` each (the version the page showed); None when one is not one."""
    found: dict[str, int | None] = {}
    for value in values:
        oid, _, version = value.strip().rpartition("|") if "|" in value else (value.strip(), "", "")
        if not oid or len(oid) > 200 or (version and not version.isdigit()):
            return None
        found.setdefault(oid, int(version) if version else None)
    return list(found.items())


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


async def staff_visitor(request: Request) -> Visitor | Response:
    """The signed-in member of the secretariat; to anyone else, the answer to give (a person who is
    not staff: 403 with the way to her own page)."""
    auth = auth_of(request)
    visitor = await auth.visitor(request)
    if isinstance(visitor, Response):
        return visitor
    if not visitor.person.staff:
        return auth.refusal(request, 403, "staff_only", visitor.language, back="/my", back_key="to_my_page",
                            person=visitor.person, csrf_out=auth.token(visitor, "sign-out") if visitor.session else None)
    return visitor


async def queue_reviewer(request: Request) -> Visitor | Response:
    """The signed-in reviewer (or admin) of the queue's pages; otherwise the answer to give."""
    auth = auth_of(request)
    visitor = await auth.visitor(request)
    if isinstance(visitor, Response):
        return visitor
    if not visitor.person.reviews:
        return auth.refusal(request, 403, "reviewers_only", visitor.language, back="/review", back_key="back_to_queue")
    return visitor


async def reviewer_form(request: Request, purpose: str):
    """(visitor, form) of a reviewer's post whose form token is good for `purpose`; otherwise
    the answer to give."""
    auth = auth_of(request)
    visitor = await queue_reviewer(request)
    if isinstance(visitor, Response):
        return visitor
    form = await read_small_form(request)
    if isinstance(form, Response):
        return form
    if not auth.token_ok(request, visitor, purpose, (form.get("csrf") or [""])[0].strip()):
        return auth.message(request, 403, "stale", visitor.language)
    return visitor, form
