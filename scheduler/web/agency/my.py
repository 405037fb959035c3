"""`/my`: the deadlines a person answers for (those of her email first), the answer and extension
forms, and their posts."""

from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler.answers import LADDER_RUNS, REQUEST
from scheduler.app import answer, pages
from scheduler.errors import BadInput, UnknownOccurrence
from scheduler.notify.items import item
from scheduler.web.agency.forms import (
    after_post,
    form_field,
    lang_given,
    outside_extension,
    page_link,
    read_form,
    read_letter,
    record_answers,
    refusal_words,
)
from scheduler.web.auth import Visitor, focus_ids
from scheduler.web.deps import auth_of
from scheduler.web.lanes import LANES


async def render(request: Request, visitor: Visitor, status: int = 200, error: str | None = None,
                 values: dict | None = None, done: str | None = None, form: FormData | None = None) -> Response:
    """The page, a page of each list at a time (`?owed=N`, `?answered=N`; after a post, the
    page the form was on), read and rendered in the heavy lane."""
    auth = auth_of(request)
    ctx, now = auth.current(), auth.clock()
    today = ctx.timing.local_day(now)
    person = visitor.person
    scope = None if person.staff else person.agencies
    given = {name: form_field(form, name) if form is not None else request.query_params.get(name, "")
             for name in ("owed", "older", "answered")}
    # the deadlines an email's link named (`?items=<id>,<id>`): first, whatever their state
    focus = focus_ids(form_field(form, "items") if form is not None else request.query_params.get("items"))
    numbers = {name: int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1 for name, value in given.items()}
    lang = visitor.language

    def build() -> Response:
        found = pages.focal_deadlines(ctx.engine, scope, today, focus, owed_page=numbers["owed"],
                                      older_page=numbers["older"], answered_page=numbers["answered"])
        owed, older, answered = found.owed, found.older, found.answered
        items = {e.row.id: item(ctx.plan, e.row, lang) for e in (*found.focus, *owed, *older, *answered)}
        owing = [e for e in (*found.focus, *owed, *older) if e.row.state in LADDER_RUNS]
        names = [ctx.plan.display_name(a, today, lang) for a in sorted(person.agencies) if ctx.plan.agency(a)]
        return auth.page("my", lang, status, request, ctx=ctx, person=person, owed=owed, answered=answered,
                         focus=found.focus, focus_ids=[e.row.id for e in found.focus], older=older,
                         since=today - pages.RECENT,
                         items=items, today=today, names=names, error=error, values=values or {},
                         csrf_answer=auth.token(visitor, "answer"), csrf_extension=auth.token(visitor, "extension"),
                         csrf_out=auth.token(visitor, "sign-out") if visitor.session else None,
                         limit_mb=ctx.settings.max_upload_mb, plan=ctx.plan.file.plan, home="/my",
                         done=auth.words(lang, done) if done else None,
                         answerable={e.row.id for e in owing if person.answers(e.row.agency)},
                         page_link=lambda name, number: page_link("/my", numbers, name, number, lang_given(request),
                                                                  [e.row.id for e in found.focus]))

    return await LANES.heavy(build)


async def my(request: Request) -> Response:
    auth = auth_of(request)
    visitor = await auth.visitor(request, challenge=False)
    if isinstance(visitor, Response):
        return visitor
    done = {"answer": "done_answer", "request": "done_request"}.get(request.query_params.get("done", ""))
    return await render(request, visitor, done=done)


async def chosen(request: Request, form: FormData, visitor: Visitor) -> tuple[list[str], Response | None]:
    """The occurrences the form names, if the visitor may answer every one (404 for one she may
    not see, as for one that does not exist)."""
    auth = auth_of(request)
    ids = list(dict.fromkeys(v.strip() for v in form.getlist("occurrence") if isinstance(v, str) and v.strip()))[:200]
    rows = await run_in_threadpool(pages.occurrences, auth.current().engine, ids) if ids else {}
    for oid in ids:
        row = rows.get(oid)
        if row is None or not visitor.person.sees(row.agency):
            return ids, auth.refusal(request, 404, "not_found", visitor.language)
        if not visitor.person.answers(row.agency):
            return ids, auth.refusal(request, 403, "not_answerer", visitor.language)
    return ids, None


async def post(request: Request, purpose: str, token_field: str = "csrf"):
    auth = auth_of(request)
    visitor = await auth.visitor(request, challenge=False)
    if isinstance(visitor, Response):
        return visitor, None
    form = await read_form(request, auth.current().settings.max_upload_mb << 20)
    if isinstance(form, Response):
        return form, None
    if not auth.token_ok(request, visitor, purpose, form_field(form, token_field)):
        return auth.message(request, 403, "stale", visitor.language), None
    return visitor, form


async def answer_post(request: Request) -> Response:
    auth = auth_of(request)
    visitor, form = await post(request, "answer")
    if form is None:
        return visitor
    words_error = None
    ids, refusal = await chosen(request, form, visitor)
    if refusal is not None:
        await form.close()
        return refusal
    ctx, now = auth.current(), auth.clock()
    letter, problem = await read_letter(form, ctx.settings.max_upload_mb << 20, visitor.language)
    values = {**letter.values, "occurrences": ids}
    if problem is None and not ids:
        words_error = "need_choice"
    elif problem is None and letter.empty:
        words_error = "need_something"
    if words_error or problem:
        return await render(request, visitor, 400, problem or auth.page_words(visitor, words_error), values, form=form)
    client = request.client.host if request.client else None
    try:
        await run_in_threadpool(record_answers, ctx, ids, visitor.person, letter, at=now, now=now, client=client)
    except UnknownOccurrence:
        return auth.refusal(request, 404, "not_found", visitor.language)
    except BadInput as refused:  # answered or closed meanwhile, a text too long, a letter dated later
        return await render(request, visitor, 409, refusal_words(refused, visitor.language), values, form=form)
    return RedirectResponse(after_post(form, "answer"), status_code=303)


async def extension_post(request: Request) -> Response:
    auth = auth_of(request)
    visitor, form = await post(request, "extension", "csrf_extension")
    if form is None:
        return visitor
    await form.close()
    ids, refusal = await chosen(request, form, visitor)
    if refusal is not None:
        return refusal
    ctx, now = auth.current(), auth.clock()
    until_text, reason = form_field(form, "until"), form_field(form, "reason")
    values = {"until": until_text, "reason": reason, "occurrences": ids, "asking": True}
    try:
        until = dt.date.fromisoformat(until_text) if until_text else None
    except ValueError:
        return await render(request, visitor, 400, f"{until_text}: {auth.page_words(visitor, 'not_a_date')}", values, form=form)
    missing = "need_choice" if not ids else "need_until" if until is None else "need_reason" if not reason else None
    if missing:
        return await render(request, visitor, 400, auth.page_words(visitor, missing), values, form=form)
    if outside := outside_extension(ctx.plan, ids, until, visitor.language):
        return await render(request, visitor, 400, outside, values, form=form)
    client = request.client.host if request.client else None

    def record() -> None:
        for oid in ids:
            answer.act(ctx.engine, ctx.timing, oid, REQUEST, now=now, actor=visitor.person.actor(),
                       reason=reason, until=until, client=client)

    try:
        await run_in_threadpool(record)
    except BadInput as refused:
        return await render(request, visitor, 409, refusal_words(refused, visitor.language), values, form=form)
    return RedirectResponse(after_post(form, "request"), status_code=303)
