"""A body's paper backlog (`/review/paper`): answers that came on paper, entered in one form and
checked whole before anything is stored."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler.app import pages
from scheduler.errors import BadInput, UnknownOccurrence
from scheduler.i18n import long_date
from scheduler.notify.items import item
from scheduler.web.agency.forms import read_form, read_letter, record_answers
from scheduler.web.auth import Visitor
from scheduler.web.deps import auth_of
from scheduler.web.review.common import client_of, describer, queue_reviewer


async def render_backlog(request: Request, visitor: Visitor, agency: str, status: int = 200, *,
                         error: str | None = None, values: dict | None = None, ticked: list[str] | None = None) -> Response:
    auth = auth_of(request)
    ctx, now = auth.current(), auth.clock()
    lang, today = visitor.language, ctx.timing.local_day(now)
    bodies = sorted(((code, ctx.plan.display_name(code, today, lang)) for code in ctx.plan.file.agencies),
                    key=lambda pair: pair[1].casefold())
    known = agency if agency and ctx.plan.agency(agency) is not None else ""
    owed = await run_in_threadpool(pages.owed_of, ctx.engine, known, today) if known else None
    items = {e.row.id: item(ctx.plan, e.row, lang) for e in owed} if owed else {}
    adopted = min((p.adopted for p in ctx.plan.plans if p.adopted), default=None)
    return auth.page("paper", lang, status, request, ctx=ctx, person=visitor.person, plan=ctx.plan.file.plan,
                     home="/review", bodies=bodies, agency=known, owed=owed, items=items, today=today,
                     adopted=adopted, error=error, values=values or {}, ticked=set(ticked or []),
                     limit_mb=ctx.settings.max_upload_mb,
                     csrf_paper=auth.token(visitor, "paper-backlog"),
                     csrf_out=auth.token(visitor, "sign-out") if visitor.session else None)


async def backlog_page(request: Request) -> Response:
    auth = auth_of(request)
    visitor = await queue_reviewer(request)
    if isinstance(visitor, Response):
        return visitor
    agency = request.query_params.get("agency", "")
    if agency and auth.current().plan.agency(agency) is None:
        return await render_backlog(request, visitor, "", 404, error=auth.page_words(visitor, "unknown_agency"))
    return await render_backlog(request, visitor, agency)


async def backlog_post(request: Request) -> Response:
    """One letter on paper answering several of a body's deadlines: each ticked deadline gets
    its own submission (the same letter, date received, text and documents), as the single
    paper entry records it. The whole form is checked first: a deadline that is not the body's,
    or not owed, is named and nothing is stored."""
    auth = auth_of(request)
    visitor = await queue_reviewer(request)
    if isinstance(visitor, Response):
        return visitor
    ctx, now = auth.current(), auth.clock()
    form = await read_form(request, ctx.settings.max_upload_mb << 20)
    if isinstance(form, Response):
        return form
    text = lambda name: form.get(name).strip() if isinstance(form.get(name), str) else ""  # noqa: E731
    if not auth.token_ok(request, visitor, "paper-backlog", text("csrf")):
        await form.close()
        return auth.message(request, 403, "stale", visitor.language)
    words_ = lambda key, **given: auth.page_words(visitor, key, **given)  # noqa: E731
    agency = text("agency")
    ids = list(dict.fromkeys(v.strip() for v in form.getlist("occurrence") if isinstance(v, str) and v.strip()))
    letter, problem = await read_letter(form, ctx.settings.max_upload_mb << 20, visitor.language)
    values = {**letter.values, "received": text("received")}
    if not agency or ctx.plan.agency(agency) is None:
        await form.close()
        return await render_backlog(request, visitor, "", 400, error=words_("need_body" if not agency else "unknown_agency"),
                                    values=values)
    today = ctx.timing.local_day(now)
    rows = await run_in_threadpool(pages.occurrences, ctx.engine, ids) if ids else {}
    wrong = [oid for oid in ids if oid not in rows or rows[oid].agency != agency or rows[oid].status != "active"
             or rows[oid].state not in ("open", "returned")]
    received = None
    try:
        received = dt.date.fromisoformat(values["received"]) if values["received"] else None
    except ValueError:
        problem = problem or words_("not_a_date")
    adopted = max((ctx.plan.plan_of(oid).adopted for oid in ids if oid in rows and ctx.plan.plan_of(oid).adopted),
                  default=None)
    if problem is None:
        problem = words_("need_choice") if not ids else \
            words_("not_this_body", id=describer(ctx, visitor.language, today)(wrong[0])) if wrong else \
            words_("need_received") if received is None else \
            words_("received_future") if received > today else \
            words_("received_early", date=long_date(adopted, visitor.language)) if adopted and received < adopted else \
            words_("letter_after") if letter.ref_date and letter.ref_date > received else \
            words_("need_something") if letter.empty else None
    if problem:
        await form.close()
        return await render_backlog(request, visitor, agency, 400, error=problem, values=values, ticked=ids)
    at = now if received == today else dt.datetime.combine(received, dt.time(0), tzinfo=ctx.timing.zone)

    def record_each() -> tuple[list[str], list[str]]:
        recorded, refused = [], []
        for oid in ids:
            try:
                record_answers(ctx, [oid], visitor.person, letter, at=at, now=now, client=client_of(request))
                recorded.append(oid)
            except (UnknownOccurrence, BadInput):  # answered or closed meanwhile
                row = pages.occurrences(ctx.engine, [oid]).get(oid)
                refused.append(f"{oid}|not_answered|{row.state if row else ''}")
        return recorded, refused

    try:
        recorded, refused = await run_in_threadpool(record_each)
    finally:
        await form.close()
    query = urlencode([("recorded", oid) for oid in recorded] + [("refused", item) for item in refused])
    return RedirectResponse(f"/review?{query}#done", status_code=303)
