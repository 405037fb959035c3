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

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler.answers import ACCEPT, CLOSE, EXTEND, REFUSE, REOPEN, RETURN, REVOKE
from scheduler.app import answer, pages
from scheduler.errors import BadInput, Conflict, UnknownOccurrence
from scheduler.store.ledger import aware
from scheduler.web.auth import Auth
from scheduler.web.dashboard import _read_form

DECISIONS = (ACCEPT, RETURN, CLOSE, REOPEN, EXTEND, REVOKE, REFUSE)


def decisions(state: str, extended: bool, requested: bool) -> list[str]:
    """The buttons an occurrence's page offers a reviewer in its state."""
    offered = {
        "open": [EXTEND, CLOSE], "returned": [EXTEND, CLOSE],
        "submitted": [ACCEPT, RETURN, REOPEN, CLOSE], "accepted": [RETURN, REOPEN, CLOSE], "closed": [REOPEN],
    }.get(state, [])
    if state in ("open", "returned"):
        offered = ([REFUSE] if requested else []) + offered + ([REVOKE] if extended else [])
    return offered


def routes(auth: Auth, guard) -> list[Route]:
    current, clock = auth.current, auth.clock

    async def queue(request: Request) -> Response:
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        if not visitor.person.staff:
            return Response("for the secretariat only\n", status_code=403)
        service, now = current(), clock()
        answers, requests = await run_in_threadpool(pages.queue, service.engine)
        lang = visitor.language
        items = {e.row.id: service.item(e.row, lang) for e in (*answers, *requests)}
        return auth.page("queue", lang, 200, request, service=service, person=visitor.person, answers=answers,
                         requests=requests, items=items, today=service.timing.local_day(now), zone=service.timing.zone,
                         plan=service.plan.file.plan, home="/review", aware=aware,
                         csrf_out=auth.token(visitor, "sign-out") if visitor.session else None)

    async def occurrence(request: Request) -> Response:
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        service, now = current(), clock()
        oid = request.path_params["occurrence_id"]
        found = await run_in_threadpool(service.history, oid)
        if found is None or not visitor.person.sees(found[0].agency):
            return Response("no such occurrence\n", status_code=404)
        row, submission, ledger = found
        shown = await run_in_threadpool(answer.show, service.engine, oid, service.timing.zone)
        lang = visitor.language
        person = visitor.person
        reviews = person.reviews and row.status == "active"
        offered = decisions(row.state, row.extended_until is not None, row.extension_requested is not None) if reviews else []
        requested = next((e for e in reversed(shown["events"]) if e["action"] == "request-extension"), None) \
            if row.extension_requested is not None and row.state in ("open", "returned") else None
        return auth.page(
            "occurrence", lang, 200, request, service=service, row=row, submission=submission, ledger=ledger,
            shown=shown, item=service.item(row, lang), plan=service.plan.file.plan, person=person,
            today=service.timing.local_day(now), offered=offered, requested=requested,
            home="/review" if person.staff and (visitor.session or not person.roles) else "/my",
            basic=visitor.session is None,
            csrf=guard.token(oid), csrf_act=auth.token(visitor, f"act:{oid}"),
            csrf_answer=auth.token(visitor, "answer"), csrf_extension=auth.token(visitor, "extension"),
            csrf_out=auth.token(visitor, "sign-out") if visitor.session else None,
            answers=person.answers(row.agency) and row.status == "active" and row.state in ("open", "returned"),
            limit_mb=service.settings.max_upload_mb, show_ledger=person.staff)

    async def act(request: Request) -> Response:
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        if not visitor.person.reviews:
            return Response("only reviewers and admins decide\n", status_code=403)
        oid = request.path_params["occurrence_id"]
        form = await _read_form(request)
        if isinstance(form, Response):
            return form
        field = lambda name: (form.get(name) or [""])[0].strip()  # noqa: E731
        if not auth.token_ok(request, visitor, f"act:{oid}", field("csrf")):
            return auth.message(request, 403, "stale", visitor.language)
        service, now = current(), clock()
        rows = await run_in_threadpool(pages.occurrences, service.engine, [oid])
        if oid not in rows or not visitor.person.sees(rows[oid].agency):
            return Response("no such occurrence\n", status_code=404)
        action = field("action")
        if action not in DECISIONS:
            return Response("unknown action\n", status_code=400)
        try:
            until = dt.date.fromisoformat(field("until")) if field("until") else None
            version = int(field("version")) if field("version") else None
        except ValueError:
            return Response("a date or version that is not one\n", status_code=400)
        client = request.client.host if request.client else None
        try:
            await run_in_threadpool(lambda: answer.act(
                service.engine, service.timing, oid, action, now=now, actor=visitor.person.actor(),
                reason=field("reason") or None, until=until, expected_version=version, client=client))
        except UnknownOccurrence:
            return Response("no such occurrence\n", status_code=404)
        except Conflict as conflict:
            return Response(f"{conflict}\n", status_code=409, media_type="text/plain; charset=utf-8")
        except BadInput as refused:
            return Response(f"{refused}\n", status_code=400, media_type="text/plain; charset=utf-8")
        return RedirectResponse(f"/occurrences/{oid}", status_code=303)

    return [
        Route("/review", queue, methods=["GET"]),
        Route("/occurrences/{occurrence_id}", occurrence, methods=["GET"]),
        Route("/occurrences/{occurrence_id}/act", act, methods=["POST"]),
    ]
