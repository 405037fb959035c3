"""The API's endpoints: each takes the API's state, the request, the person its token acts as and
its checked query, and answers with one of the models of scheduler/api/models.py (None: 404)."""

from __future__ import annotations

import scheduler.api.models as models
import scheduler.api.reads as reads
from scheduler.api.describe import Index, OpenApi, document
from scheduler.api.problems import PREFIX, ApiError, version_of
from scheduler.api.runner import ApiState, refusals


async def list_occurrences(api: ApiState, request, who, query):
    ctx = api.current()
    today = ctx.timing.local_day(api.clock())
    if query.agency and ctx.plan.agency(query.agency) is None:
        from scheduler.plan.suggest import unknown_agency

        raise ApiError("invalid-parameter", f"agency: {unknown_agency(ctx.plan, query.agency)}")
    if query.plan:
        try:
            ctx.plan.member(query.plan)
        except KeyError as error:
            raise ApiError("invalid-parameter", f"plan: {error.args[0]}") from None
    from starlette.concurrency import run_in_threadpool

    try:
        return await run_in_threadpool(reads.occurrences, ctx.engine, ctx.plan, who, query, today)
    except reads.BadCursor as error:
        raise ApiError("invalid-parameter", f"cursor: {error}") from None

async def one_occurrence(api: ApiState, request, who, query):
    from starlette.concurrency import run_in_threadpool

    ctx = api.current()
    return await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, request.path_params["id"],
                                   ctx.timing.local_day(api.clock()), ctx.timing.zone)

async def _decide(api: ApiState, request, who, action: str, reason: str | None, until):
    """A decision recorded as the pages and the CLI record it (`answer.act`), with the version the
    client read; the occurrence as it is now (None: 404)."""
    from starlette.concurrency import run_in_threadpool

    from scheduler import bounds
    from scheduler.app import answer

    ctx, now = api.current(), api.clock()
    oid = request.path_params["id"]
    today = ctx.timing.local_day(now)
    seen = await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, oid, today, ctx.timing.zone)
    if seen is None:
        return None
    version = version_of(request.headers.get("if-match"))
    if until is not None:
        first, last = bounds.extension_span(ctx.plan.plan_of(oid))
        if not first <= until <= last:
            raise ApiError("invalid-body", f"until: {until.isoformat()} is outside "
                                           f"{first.isoformat()} … {last.isoformat()}")
    with refusals():
        await run_in_threadpool(lambda: answer.act(
            ctx.engine, ctx.timing, oid, action, now=now, actor=who.actor(), reason=reason,
            until=until, expected_version=version, client=request.client.host if request.client else None))
    return await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, oid, today, ctx.timing.zone)


async def record_event(api: ApiState, request, who, query):
    body: models.EventRequest = request.state.body
    return await _decide(api, request, who, body.action, body.reason, body.until)


async def request_extension(api: ApiState, request, who, query):
    from scheduler.answers.machine import REQUEST

    body: models.ExtensionRequest = request.state.body
    return await _decide(api, request, who, REQUEST, body.reason.strip() or None, body.until)


async def submit_answer(api: ApiState, request, who, query):
    """An answer as the pages record it (`forms.read_letter` checks the letter and each document,
    `forms.record_answers` records it), with the version the client read."""
    from starlette.concurrency import run_in_threadpool

    from scheduler.api.problems import language_of
    from scheduler.web.agency.forms import read_letter, record_answers

    ctx, now = api.current(), api.clock()
    oid, form = request.path_params["id"], request.state.form
    today = ctx.timing.local_day(now)
    seen = await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, oid, today, ctx.timing.zone)
    if seen is None:
        await form.close()
        return None
    limit = ctx.settings.max_upload_mb << 20
    if any(getattr(f, "size", None) and f.size > limit for f in form.getlist("files")):
        await form.close()
        raise ApiError("payload-too-large", f"a document is larger than {ctx.settings.max_upload_mb} MB")
    letter, problem = await read_letter(form, limit, language_of(request))
    if problem is not None:
        raise ApiError("invalid-body", problem)
    if letter.empty:
        raise ApiError("invalid-body", "send at least one of ref, text, held_on or a document (files)")
    version = version_of(request.headers.get("if-match"))
    if not who.answers(seen.agency):
        raise ApiError("forbidden", f"{who.name} may not answer for {seen.agency}")
    if version != seen.version:
        raise ApiError("precondition-failed", f"{oid} is at version {seen.version}, not {version}: read it again")
    if seen.state in ("submitted", "accepted", "closed", "cancelled"):  # the pages' use case would keep the first
        raise ApiError("illegal-transition", f"{oid} is {seen.state}: an answer is not expected now")
    client = request.client.host if request.client else None
    with refusals():
        await run_in_threadpool(lambda: record_answers(ctx, [oid], who, letter, at=now, now=now, client=client,
                                                       expected_version=version))
    return await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, oid, today, ctx.timing.zone)


async def compliance(api: ApiState, request, who, query: models.ComplianceQuery):
    from starlette.concurrency import run_in_threadpool

    from scheduler.app import standing

    rows = await run_in_threadpool(standing.compliance, api.current(), query.year, api.clock(), query.lang)
    return models.ComplianceTable(year=query.year, items=[
        models.AgencyCompliance(**{f: getattr(r, f) for f in models.AgencyCompliance.model_fields})
        for r in rows if who.sees(r.agency)])


async def list_agencies(api: ApiState, request, who, query):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(reads.agencies, api.current().engine)

async def index(api: ApiState, request, who, query):
    return Index(openapi=f"{PREFIX}/openapi.json")

async def openapi(api: ApiState, request, who, query):
    return OpenApi.model_validate(document())
