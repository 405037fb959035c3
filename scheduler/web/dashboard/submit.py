"""The admin's form (HTTP Basic, for scripts): an answer recorded for an occurrence."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduler.app import answer
from scheduler.errors import BadInput, UnknownOccurrence
from scheduler.web.deps import auth_of, guard_of
from scheduler.web.guard import read_small_form, same_origin


async def submit(request: Request) -> Response:
    auth = auth_of(request)
    guard = guard_of(request)
    if "authorization" not in request.headers:  # the form of the admin's Basic credential; never a prompt
        return auth.to_sign_in(request)
    refusal = await guard.refusal(request)
    if refusal is not None:
        return refusal
    oid = request.path_params["occurrence_id"]
    form = await read_small_form(request)
    if isinstance(form, Response):
        return form
    if not same_origin(request, auth.current().settings.public_base_url()) or not guard.token_ok(oid, form.get("csrf", [""])[0]):
        return Response("the form is stale or came from elsewhere; reload the page\n", status_code=403)
    ctx, now = auth.current(), auth.clock()
    note = form.get("note", [""])[0].strip() or None
    try:
        await run_in_threadpool(answer.operator_submit, ctx, oid, now, note, now, request.client.host if request.client else None)
    except UnknownOccurrence:
        return Response("no such occurrence\n", status_code=404)
    except BadInput as refused:  # closed or cancelled meanwhile, a note too long
        return Response(f"{refused}\n", status_code=409, media_type="text/plain; charset=utf-8")
    return RedirectResponse(f"/occurrences/{oid}", status_code=303)
