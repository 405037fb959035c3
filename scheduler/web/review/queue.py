"""The queue (`/review`): new answers and extension requests, a page of each; accepting answers
from it (one or several, after a confirmation) and closing a body's history."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler import bounds, templating
from scheduler.answers import ACCEPT
from scheduler.app import answer, backlog, pages
from scheduler.errors import BadInput, Conflict, UnknownOccurrence
from scheduler.i18n import long_date
from scheduler.notify.items import item
from scheduler.store.ledger import aware
from scheduler.web.agency.forms import lang_given, page_link, refusal_words
from scheduler.web.auth import Visitor
from scheduler.web.deps import auth_of
from scheduler.web.lanes import LANES
from scheduler.web.review.common import (
    MAX_PICKS,
    client_of,
    describer,
    outcome_words,
    picks,
    reviewer_form,
    staff_visitor,
)


async def render_queue(request: Request, visitor: Visitor, status: int = 200, *, error: str | None = None,
                       values: dict | None = None, confirm: dict | None = None,
                       accept_confirm: list | None = None) -> Response:
    auth = auth_of(request)
    ctx, now = auth.current(), auth.clock()
    given = {name: request.query_params.get(name, "") for name in ("answers", "requests")}
    numbers = {name: int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1 for name, value in given.items()}
    return await LANES.heavy(queue_page, request, visitor, ctx, now, numbers, status, error=error, values=values,
                             confirm=confirm, accept_confirm=accept_confirm)


def queue_page(request: Request, visitor: Visitor, ctx, now: dt.datetime, numbers: dict[str, int], status: int,
               *, error: str | None, values: dict | None, confirm: dict | None,
               accept_confirm: list | None) -> Response:
    """The queue, a page of each list (`?answers=N`, `?requests=N`), read and rendered in the heavy lane."""
    auth = auth_of(request)
    answers, requests = pages.queue(ctx.engine, answers_page=numbers["answers"], requests_page=numbers["requests"])
    lang, today = visitor.language, ctx.timing.local_day(now)
    items = {e.row.id: item(ctx.plan, e.row, lang) for e in (*answers, *requests)}
    bodies = sorted(((code, ctx.plan.display_name(code, today, lang)) for code in ctx.plan.file.agencies),
                    key=lambda pair: pair[1].casefold())
    closed = request.query_params.get("closed", "")
    describe = describer(ctx, lang, today)
    told = outcome_words(request.query_params, describe, lang)
    names = pages.names(ctx.engine, [e.submission.by for e in answers if e.submission and e.submission.by] +
                        [e.request.get("actor", "") for e in requests if e.request])

    return auth.page("queue", lang, status, request, describe=describe, ctx=ctx, person=visitor.person, answers=answers,
                     requests=requests, items=items, today=today, zone=ctx.timing.zone,
                     plan=ctx.plan.file.plan, home="/review", aware=aware, bodies=bodies,
                     years=list(ctx.plan.years), error=error, values=values or {}, confirm=confirm,
                     closed=bounds.number(closed), told=told, name_of=lambda email: names.get((email or "").lower()),
                     accept_confirm=accept_confirm,
                     csrf_accept=auth.token(visitor, "accept-answers") if visitor.person.reviews else None,
                     csrf_close=auth.token(visitor, "close-history") if visitor.person.reviews else None,
                     csrf_out=auth.token(visitor, "sign-out") if visitor.session else None,
                     page_link=lambda name, number: page_link("/review", numbers, name, number, lang_given(request)))


async def queue(request: Request) -> Response:
    visitor = await staff_visitor(request)
    if isinstance(visitor, Response):
        return visitor
    return await render_queue(request, visitor)


async def close_history(request: Request) -> Response:
    """The close-a-history form: first how many it would close (the confirmation), then, with
    `confirm` and that number, closing them in one transaction."""
    auth = auth_of(request)
    found = await reviewer_form(request, "close-history")
    if isinstance(found, Response):
        return found
    visitor, form = found
    field = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
    ctx, now = auth.current(), auth.clock()
    words = lambda key, **given: auth.page_words(visitor, key, **given)  # noqa: E731
    values = {name: field(name) for name in ("agency", "year", "before", "reason")}
    try:
        year = int(values["year"]) if values["year"] else None
    except ValueError:
        return await render_queue(request, visitor, 400, error=words("not_a_year"), values=values)
    try:
        before = dt.date.fromisoformat(values["before"]) if values["before"] else None
    except ValueError:
        return await render_queue(request, visitor, 400, error=words("not_a_date"), values=values)
    if before is not None and not bounds.within(before):
        return await render_queue(request, visitor, 400, values=values, error=words(
            "date_range", value=values["before"], first=long_date(bounds.FIRST, visitor.language),
            last=long_date(bounds.LAST, visitor.language)))
    selection = backlog.Selection(values["agency"] or None, year, before)
    problem = "need_selection" if selection.empty else \
        "unknown_agency" if selection.agency and ctx.plan.agency(selection.agency) is None else \
        "not_a_year" if year is not None and not bounds.FIRST.year <= year <= bounds.LAST.year else \
        "need_reason" if not values["reason"] else None
    if problem:
        return await render_queue(request, visitor, 400, error=words(problem), values=values)
    if field("confirm") != "yes":
        ids = await run_in_threadpool(backlog.owed, ctx.engine, selection)
        return await render_queue(request, visitor, values=values, confirm={"count": len(ids), "ids": ids[:20]})
    expected = bounds.number(field("count"))
    try:
        closed = await run_in_threadpool(lambda: backlog.close(
            ctx.engine, ctx.timing, selection, reason=values["reason"], now=now,
            actor=visitor.person.actor(), client=client_of(request), expected=expected))
    except backlog.SelectionChanged:
        ids = await run_in_threadpool(backlog.owed, ctx.engine, selection)
        changed = templating.translations(visitor.language).ngettext(
            "The selection changed meanwhile: it now matches %(num)d deadline. Nothing was closed; confirm again.",
            "The selection changed meanwhile: it now matches %(num)d deadlines. Nothing was closed; confirm again.",
            len(ids)) % {"num": len(ids)}
        return await render_queue(request, visitor, 409, error=changed,
                                  values=values, confirm={"count": len(ids), "ids": ids[:20]})
    except BadInput as refused:  # someone acted on one of them meanwhile: nothing was closed
        detail = refusal_words(refused, visitor.language) if refused.key else None  # a conflict says it all
        return auth.refusal(request, 409, "conflict", visitor.language, detail=detail, back="/review",
                            back_key="back_to_queue")
    return RedirectResponse(f"/review?closed={len(closed)}", status_code=303)


async def accept_answers(request: Request) -> Response:
    """Answers ticked in the queue (or the one whose button was pressed): first the confirmation,
    which lists them; then, with `confirm`, each accepted in its own transaction with the version
    the queue showed — one that someone changed meanwhile, or that was accepted already, is
    named and left as it is, the others accepted. Each acceptance is the event `accept` writes."""
    auth = auth_of(request)
    found = await reviewer_form(request, "accept-answers")
    if isinstance(found, Response):
        return found
    visitor, form = found
    chosen = picks((form.get("one") or []) or (form.get("pick") or []))
    if chosen is None or len(chosen) > MAX_PICKS:
        return await render_queue(request, visitor, 400, error=auth.page_words(visitor, "not_found"))
    if not chosen:
        return await render_queue(request, visitor, 400, error=auth.page_words(visitor, "need_choice"))
    if (form.get("confirm") or [""])[0] != "yes":
        return await render_queue(request, visitor, accept_confirm=chosen)
    ctx, now = auth.current(), auth.clock()

    def accept_each() -> tuple[list[str], list[str]]:
        accepted, refused = [], []
        for oid, version in chosen:
            try:
                answer.act(ctx.engine, ctx.timing, oid, ACCEPT, now=now, actor=visitor.person.actor(),
                           expected_version=version, client=client_of(request))
                accepted.append(oid)
            except UnknownOccurrence:
                refused.append(f"{oid}|not_found|")
            except Conflict as changed:  # the queue showed another version: someone acted meanwhile
                state = changed.state or ""
                refused.append(f"{oid}|{'already_accepted' if state == 'accepted' else 'changed_meanwhile'}|{state}")
            except BadInput:  # not (or no longer) waiting for a decision
                row = pages.occurrences(ctx.engine, [oid]).get(oid)
                state = row.state if row is not None and row.status == "active" else "cancelled"
                refused.append(f"{oid}|{'already_accepted' if state == 'accepted' else 'not_answered'}|{state}")
        return accepted, refused

    accepted, refused = await run_in_threadpool(accept_each)  # one that does not exist is named, not a stop
    query = urlencode([("accepted", oid) for oid in accepted] + [("refused", item) for item in refused] +
                      ([("lang", lang_given(request))] if lang_given(request) else []))
    return RedirectResponse(f"/review?{query}#done", status_code=303)
