"""The secretariat's review: a queue of new answers and extension requests (`/review`), and each
occurrence's page (`/occurrences/<id>`): its dates, the answer in force with its documents, the
extension asked for, the history of events (who, when, what) and, for reviewers and admins, the
decisions the state allows — accept, return with a reason, grant or refuse an extension, extend,
revoke, close, undo — each calling the use case with the actor's address and the client's, and the
version of the occurrence the page showed, so that of two reviewers acting at once the second is
told the page is out of date. Observers see the same pages without the buttons; an agency's people
see their own occurrences' pages (and answer from them)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler import bounds, templating
from scheduler import report as compliance
from scheduler.answers import ACCEPT, CLOSE, EXTEND, REFUSE, REOPEN, RETURN, REVOKE
from scheduler.app import answer, backlog, pages, reports
from scheduler.errors import BadInput, Conflict, UnknownOccurrence
from scheduler.i18n import long_date
from scheduler.store.ledger import aware
from scheduler.web.agency import outside_extension, read_form, read_letter, record_answers, refusal_words
from scheduler.web.agency import lang_given, page_link
from scheduler.web.auth import Auth, Visitor, focus_ids, page_environment
from scheduler.web.dashboard import _read_form
from scheduler.web import words
from scheduler.web.lanes import LANES
from scheduler.notify.items import item

DECISIONS = (ACCEPT, RETURN, CLOSE, REOPEN, EXTEND, REVOKE, REFUSE)
REPORT_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def decisions(state: str, extended: bool, requested: bool) -> list[str]:
    """The buttons an occurrence's page offers a reviewer in its state."""
    offered = {
        "open": [EXTEND, CLOSE], "returned": [EXTEND, CLOSE],
        "submitted": [ACCEPT, RETURN, REOPEN, CLOSE], "accepted": [RETURN, REOPEN, CLOSE], "closed": [REOPEN],
    }.get(state, [])
    if state in ("open", "returned"):
        offered = ([REFUSE] if requested else []) + offered + ([REVOKE] if extended else [])
    return offered


REFUSAL_KEYS = ("already_accepted", "changed_meanwhile", "not_answered", "not_found")
MAX_PICKS = 200  # answers accepted in one post: two pages of the queue


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


def routes(auth: Auth, guard) -> list[Route]:
    current, clock = auth.current, auth.clock

    def client_of(request: Request) -> str | None:
        return request.client.host if request.client else None

    async def queue_reviewer(request: Request) -> Visitor | Response:
        """The signed-in reviewer (or admin) of the queue's pages; otherwise the answer to give."""
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        if not visitor.person.reviews:
            return auth.refusal(request, 403, "reviewers_only", visitor.language, back="/review", back_key="back_to_queue")
        return visitor

    async def reviewer_form(request: Request, purpose: str):
        """(visitor, form) of a reviewer's post whose form token is good for `purpose`; otherwise
        the answer to give."""
        visitor = await queue_reviewer(request)
        if isinstance(visitor, Response):
            return visitor
        form = await _read_form(request)
        if isinstance(form, Response):
            return form
        if not auth.token_ok(request, visitor, purpose, (form.get("csrf") or [""])[0].strip()):
            return auth.message(request, 403, "stale", visitor.language)
        return visitor, form

    # --- the queue, closing a history ---------------------------------------------------------------

    async def render_queue(request: Request, visitor: Visitor, status: int = 200, *, error: str | None = None,
                           values: dict | None = None, confirm: dict | None = None,
                           accept_confirm: list | None = None) -> Response:
        ctx, now = current(), clock()
        given = {name: request.query_params.get(name, "") for name in ("answers", "requests")}
        numbers = {name: int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1 for name, value in given.items()}
        return await LANES.heavy(queue_page, request, visitor, ctx, now, numbers, status, error=error, values=values,
                                 confirm=confirm, accept_confirm=accept_confirm)

    def queue_page(request: Request, visitor: Visitor, ctx, now: dt.datetime, numbers: dict[str, int], status: int,
                   *, error: str | None, values: dict | None, confirm: dict | None,
                   accept_confirm: list | None) -> Response:
        """The queue, a page of each list (`?answers=N`, `?requests=N`), read and rendered in the heavy lane."""
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
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        if not visitor.person.staff:
            return auth.refusal(request, 403, "staff_only", visitor.language, back="/my", back_key="to_my_page",
                                person=visitor.person, csrf_out=auth.token(visitor, "sign-out") if visitor.session else None)
        return await render_queue(request, visitor)

    async def close_history(request: Request) -> Response:
        """The close-a-history form: first how many it would close (the confirmation), then, with
        `confirm` and that number, closing them in one transaction."""
        found = await reviewer_form(request, "close-history")
        if isinstance(found, Response):
            return found
        visitor, form = found
        field = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
        ctx, now = current(), clock()
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


    # --- accepting from the queue: one answer or several, confirmed ---------------------------------

    async def accept_answers(request: Request) -> Response:
        """Answers ticked in the queue (or the one whose button was pressed): first the confirmation,
        which lists them; then, with `confirm`, each accepted in its own transaction with the version
        the queue showed — one that someone changed meanwhile, or that was accepted already, is
        named and left as it is, the others accepted. Each acceptance is the event `accept` writes."""
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
        ctx, now = current(), clock()

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

    # --- a paper backlog: one body's letter for several deadlines -----------------------------------

    async def render_backlog(request: Request, visitor: Visitor, agency: str, status: int = 200, *,
                             error: str | None = None, values: dict | None = None, ticked: list[str] | None = None) -> Response:
        ctx, now = current(), clock()
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
        visitor = await queue_reviewer(request)
        if isinstance(visitor, Response):
            return visitor
        agency = request.query_params.get("agency", "")
        if agency and current().plan.agency(agency) is None:
            return await render_backlog(request, visitor, "", 404, error=auth.page_words(visitor, "unknown_agency"))
        return await render_backlog(request, visitor, agency)

    async def backlog_post(request: Request) -> Response:
        """One letter on paper answering several of a body's deadlines: each ticked deadline gets
        its own submission (the same letter, date received, text and documents), as the single
        paper entry records it. The whole form is checked first: a deadline that is not the body's,
        or not owed, is named and nothing is stored."""
        visitor = await queue_reviewer(request)
        if isinstance(visitor, Response):
            return visitor
        ctx, now = current(), clock()
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

    # --- the consolidated report ---------------------------------------------------------------------

    async def consolidated(request: Request) -> Response:
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        if not visitor.person.staff:
            return auth.refusal(request, 403, "staff_only", visitor.language, back="/my", back_key="to_my_page",
                                person=visitor.person, csrf_out=auth.token(visitor, "sign-out") if visitor.session else None)
        ctx, now = current(), clock()
        given = request.query_params
        span, lang, fmt = given.get("year", ""), given.get("lang", "kk"), given.get("format", "docx")
        year = bounds.number(span, 1000, 9999) if len(span) == 4 else None
        if lang not in ("kk", "ru") or fmt not in REPORT_TYPES or (span != "all" and year is None) or \
                (year is not None and compliance.year_outside(ctx.plan.years, year)):
            return auth.refusal(request, 404, "no_report", visitor.language)

        plan_id = given.get("plan") or None
        if plan_id is not None and plan_id not in {p.file.plan.id for p in ctx.plan.plans}:
            return auth.refusal(request, 404, "no_report", visitor.language)

        def build() -> bytes:
            made = reports.consolidated(ctx.engine, ctx.plan, ctx.timing.zone, lang=lang, year=year,
                                        today=ctx.timing.local_day(now), plan_id=plan_id)
            return reports.write(made, fmt)

        body = await run_in_threadpool(build)
        name = f"consolidated-{plan_id + '-' if plan_id else ''}{span}-{lang}.{fmt}"
        return Response(body, media_type=REPORT_TYPES[fmt], headers={
            "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"})

    # --- an occurrence's page, decisions, answers on paper ------------------------------------------

    async def render_occurrence(request: Request, visitor: Visitor, oid: str, status: int = 200, *,
                                error: str | None = None, values: dict | None = None) -> Response:
        ctx, now = current(), clock()
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
            "occurrence", lang, status, request, ctx=ctx, row=row, submission=submission, ledger=ledger,
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
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        return await render_occurrence(request, visitor, request.path_params["occurrence_id"])

    async def reviewer(request: Request):
        """(visitor, occurrence id, its page) for a reviewer or admin; otherwise the answer to give."""
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        oid = request.path_params["occurrence_id"]
        page = f"/occurrences/{oid}"
        if not visitor.person.reviews:
            return auth.refusal(request, 403, "reviewers_only", visitor.language, back=page)
        return visitor, oid, page

    async def act(request: Request) -> Response:
        found = await reviewer(request)
        if isinstance(found, Response):
            return found
        visitor, oid, page = found
        form = await _read_form(request)
        if isinstance(form, Response):
            return form
        field = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
        if not auth.token_ok(request, visitor, f"act:{oid}", field("csrf")):
            return auth.message(request, 403, "stale", visitor.language)
        ctx, now = current(), clock()
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
        found = await reviewer(request)
        if isinstance(found, Response):
            return found
        visitor, oid, page = found
        ctx, now = current(), clock()
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

    return [
        Route("/review", queue, methods=["GET"]),
        Route("/review/close", close_history, methods=["POST"]),
        Route("/review/accept", accept_answers, methods=["POST"]),
        Route("/review/paper", backlog_page, methods=["GET"]),
        Route("/review/paper", backlog_post, methods=["POST"]),
        Route("/reports/consolidated", consolidated, methods=["GET"]),
        Route("/occurrences/{occurrence_id:path}", occurrence, methods=["GET"]),
        Route("/occurrences/{occurrence_id:path}/act", act, methods=["POST"]),
        Route("/occurrences/{occurrence_id:path}/answer", paper, methods=["POST"]),
    ]
