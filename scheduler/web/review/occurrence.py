"""An occurrence's page (`/occurrences/<id>`): its dates, the answer in force with its documents, the
extension asked for, the history of events and, for reviewers and admins, the decisions the state
allows, each calling the use case with the version the page showed; an answer that came on paper
entered from it."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler.app import answer, pages
from scheduler.errors import BadInput, Conflict, UnknownOccurrence
from scheduler.i18n import long_date
from scheduler.notify.items import item
from scheduler.web.agency.forms import outside_extension, read_form, read_letter, record_answers, refusal_words
from scheduler.web.auth import Visitor, focus_ids
from scheduler.web.deps import auth_of, guard_of
from scheduler.web.guard import read_small_form
from scheduler.web.review.common import DECISIONS, client_of, decisions, describer, state_said


def assumed_words(plan, row, lang: str) -> list[dict]:
    """The readings the deadline rests on that the source cannot settle (scheduler/plan/assumptions.py),
    with the names and dates the page prints."""
    from scheduler.plan.assumptions import Office, assumptions

    found = []
    for assumed in assumptions(plan, row.obligation, row.agency, row.nominal_due):
        if isinstance(assumed, Office):
            found.append({"office": plan.display_name(assumed.office, row.nominal_due, lang), "year": assumed.year,
                          "holder": plan.display_name(assumed.holder, row.nominal_due, lang)})
        else:
            found.append({"number": assumed.number, "signed": long_date(assumed.signed, lang),
                          "latest": long_date(assumed.latest, lang)})
    return found


async def render_occurrence(request: Request, visitor: Visitor, oid: str, status: int = 200, *,
                            error: str | None = None, values: dict | None = None) -> Response:
    auth = auth_of(request)
    guard = guard_of(request)
    ctx, now = auth.current(), auth.clock()
    found = await run_in_threadpool(pages.history, ctx.engine, oid)
    if found is None or not visitor.person.sees(found[0].agency, found[0].recipient):
        return auth.refusal(request, 404, "not_found", visitor.language)
    row, submission, ledger = found
    shown = await run_in_threadpool(answer.show, ctx.engine, oid, ctx.timing.zone)
    lang = visitor.language
    person = visitor.person
    reviews = person.reviews and row.status == "active"
    offered = decisions(row.state, row.extended_until is not None, row.extension_requested is not None) if reviews else []
    requested = next((e for e in reversed(shown["events"]) if e["action"] == "request-extension"), None) \
        if row.extension_requested is not None and row.state in ("open", "returned") else None
    done_key = request.query_params.get("done", "") if status == 200 else ""
    what = describer(ctx, lang, ctx.timing.local_day(now))(oid)
    done = auth.words(lang, "done_answer") if done_key == "answer" else \
        auth.words(lang, "done_request") if done_key == "request" else \
        auth.words(lang, f"done_{done_key}", what=what, date=long_date(row.due, lang),
                   state=state_said(row.state, lang)) if done_key in DECISIONS else None
    names = await run_in_threadpool(pages.names, ctx.engine, [e["actor"] for e in shown["events"]] +
                                    [(shown["submission"] or {}).get("by") or ""] +
                                    [n.recipient for n in ledger])
    return auth.page(
        "occurrence", lang, status, request, ctx=ctx, row=row, assumed=assumed_words(ctx.plan, row, lang), submission=submission, ledger=ledger,
        shown=shown, item=item(ctx.plan, row, lang), plan=ctx.plan.plan_of(oid).file.plan, person=person,
        today=ctx.timing.local_day(now), offered=offered, requested=requested,
        home="/review" if person.staff and (visitor.session or not person.roles) else "/my",
        basic=visitor.session is None, error=error, values=values or {}, done=done,
        start_answer=request.query_params.get("answer") == "1" and not done,  # from her page's "Answer"
        focus_ids=focus_ids(request.query_params.get("items")),  # her page's email's deadlines: the way back
        adopted=ctx.plan.plan_of(oid).adopted,
        csrf=guard.token(oid), csrf_act=auth.token(visitor, f"act:{oid}"),
        csrf_paper=auth.token(visitor, f"paper:{oid}") if person.reviews else None,
        csrf_answer=auth.token(visitor, "answer"), csrf_extension=auth.token(visitor, "extension"),
        csrf_out=auth.token(visitor, "sign-out") if visitor.session else None,
        answers=person.answers(row.agency) and row.status == "active" and row.state in ("open", "returned"),
        limit_mb=ctx.settings.max_upload_mb, show_ledger=person.staff,
        name_of=lambda email: names.get((email or "").lower()))


async def occurrence(request: Request) -> Response:
    auth = auth_of(request)
    visitor = await auth.visitor(request)
    if isinstance(visitor, Response):
        return visitor
    return await render_occurrence(request, visitor, request.path_params["occurrence_id"])


async def reviewer(request: Request):
    """(visitor, occurrence id, its page) for a reviewer or admin; otherwise the answer to give."""
    auth = auth_of(request)
    visitor = await auth.visitor(request)
    if isinstance(visitor, Response):
        return visitor
    oid = request.path_params["occurrence_id"]
    page = f"/occurrences/{oid}"
    if not visitor.person.reviews:
        return auth.refusal(request, 403, "reviewers_only", visitor.language, back=page)
    return visitor, oid, page


async def act(request: Request) -> Response:
    auth = auth_of(request)
    found = await reviewer(request)
    if isinstance(found, Response):
        return found
    visitor, oid, page = found
    form = await read_small_form(request)
    if isinstance(form, Response):
        return form
    field = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
    if not auth.token_ok(request, visitor, f"act:{oid}", field("csrf")):
        return auth.message(request, 403, "stale", visitor.language)
    ctx, now = auth.current(), auth.clock()
    rows = await run_in_threadpool(pages.occurrences, ctx.engine, [oid])
    if oid not in rows or not visitor.person.sees(rows[oid].agency):
        return auth.refusal(request, 404, "not_found", visitor.language)
    action = field("action")
    if action not in DECISIONS:
        return auth.refusal(request, 400, "unknown_action", visitor.language, back=page)
    try:
        until = dt.date.fromisoformat(field("until")) if field("until") else None
        version = int(field("version")) if field("version") else None
    except ValueError:
        return auth.refusal(request, 400, "not_recorded", visitor.language, back=page,
                            detail=auth.page_words(visitor, "not_a_date"))
    if until is not None and (outside := outside_extension(ctx.plan, [oid], until, visitor.language)):
        # Before the ladder is planned from it: near 9999-12-31 its arithmetic overflows.
        return auth.refusal(request, 400, "not_recorded", visitor.language, back=page, detail=outside)
    try:
        await run_in_threadpool(lambda: answer.act(
            ctx.engine, ctx.timing, oid, action, now=now, actor=visitor.person.actor(),
            reason=field("reason") or None, until=until, expected_version=version, client=client_of(request)))
    except UnknownOccurrence:
        return auth.refusal(request, 404, "not_found", visitor.language)
    except Conflict:  # the words say it all (its text names the occurrence: for the CLI)
        return auth.refusal(request, 409, "conflict", visitor.language, back=page)
    except BadInput as refused:
        return auth.refusal(request, 400, "not_recorded", visitor.language, detail=refusal_words(refused, visitor.language),
                            back=page)
    return RedirectResponse(f"{page}?{urlencode({'done': action})}#done", status_code=303)


async def paper(request: Request) -> Response:
    """An answer that came on paper, recorded by the secretariat on the body's behalf with the
    day it came: the focal point's form (letter, text, documents) and the same use case."""
    auth = auth_of(request)
    found = await reviewer(request)
    if isinstance(found, Response):
        return found
    visitor, oid, page = found
    ctx, now = auth.current(), auth.clock()
    form = await read_form(request, ctx.settings.max_upload_mb << 20)
    if isinstance(form, Response):
        return form
    received_text = form.get("received")
    received_text = received_text.strip() if isinstance(received_text, str) else ""
    if not auth.token_ok(request, visitor, f"paper:{oid}", form.get("csrf") if isinstance(form.get("csrf"), str) else ""):
        await form.close()
        return auth.message(request, 403, "stale", visitor.language)
    rows = await run_in_threadpool(pages.occurrences, ctx.engine, [oid])
    if oid not in rows or not visitor.person.sees(rows[oid].agency):
        await form.close()
        return auth.refusal(request, 404, "not_found", visitor.language)
    letter, problem = await read_letter(form, ctx.settings.max_upload_mb << 20, visitor.language)
    values = {**letter.values, "received": received_text}
    words = lambda key, **given: auth.page_words(visitor, key, **given)  # noqa: E731
    today, adopted = ctx.timing.local_day(now), ctx.plan.plan_of(oid).adopted
    received = None
    try:
        received = dt.date.fromisoformat(received_text) if received_text else None
    except ValueError:
        problem = problem or words("not_a_date")
    if problem is None:
        problem = words("need_received") if received is None else \
            words("received_future") if received > today else \
            words("received_early", date=long_date(adopted, visitor.language)) if adopted and received < adopted else \
            words("letter_after") if letter.ref_date and letter.ref_date > received else \
            words("need_something") if letter.empty else None
    if problem:
        return await render_occurrence(request, visitor, oid, 400, error=problem, values=values)
    # The day it came: now if that is today, else the start of that day in the plan's zone.
    at = now if received == today else dt.datetime.combine(received, dt.time(0), tzinfo=ctx.timing.zone)
    try:
        await run_in_threadpool(record_answers, ctx, [oid], visitor.person, letter, at=at, now=now,
                                client=client_of(request))
    except UnknownOccurrence:
        return auth.refusal(request, 404, "not_found", visitor.language)
    except BadInput as refused:  # answered or closed meanwhile, a text too long
        return await render_occurrence(request, visitor, oid, 409, error=refusal_words(refused, visitor.language),
                                       values=values)
    return RedirectResponse(f"{page}?{urlencode({'done': 'answer'})}", status_code=303)
