"""The API's endpoints: each takes the API's state, the request, the person its token acts as and
its checked query, and answers with one of the models of scheduler/api/models.py (None: 404)."""

from __future__ import annotations

import scheduler.api.models as models
import scheduler.api.reads as reads
from scheduler.api.describe import Index, OpenApi, document
from scheduler.api.problems import PREFIX, ApiError, version_of
from scheduler.api.runner import ApiState


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

async def record_event(api: ApiState, request, who, query):
    from starlette.concurrency import run_in_threadpool

    from scheduler import bounds
    from scheduler.app import answer
    from scheduler.errors import BadInput, Conflict, IllegalTransition, NotPermitted, UnknownOccurrence

    ctx, now = api.current(), api.clock()
    oid = request.path_params["id"]
    today = ctx.timing.local_day(now)
    seen = await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, oid, today,
                                   ctx.timing.zone)
    if seen is None:
        return None
    version = version_of(request.headers.get("if-match"))
    body: models.EventRequest = request.state.body
    if body.until is not None:
        first, last = bounds.extension_span(ctx.plan.plan_of(oid))
        if not first <= body.until <= last:
            raise ApiError("invalid-body", f"until: {body.until.isoformat()} is outside "
                                           f"{first.isoformat()} … {last.isoformat()}")
    try:
        await run_in_threadpool(lambda: answer.act(
            ctx.engine, ctx.timing, oid, body.action, now=now, actor=who.actor(), reason=body.reason,
            until=body.until, expected_version=version, client=request.client.host if request.client else None))
    except UnknownOccurrence:
        return None
    except Conflict as error:
        raise ApiError("precondition-failed", str(error)) from None
    except NotPermitted as error:
        raise ApiError("forbidden", str(error)) from None
    except IllegalTransition as error:
        raise ApiError("illegal-transition", str(error)) from None
    except BadInput as error:
        raise ApiError("refused", str(error)) from None
    return await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, oid, today,
                                   ctx.timing.zone)

async def list_agencies(api: ApiState, request, who, query):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(reads.agencies, api.current().engine)

async def index(api: ApiState, request, who, query):
    return Index(openapi=f"{PREFIX}/openapi.json")

async def openapi(api: ApiState, request, who, query):
    return OpenApi.model_validate(document())
