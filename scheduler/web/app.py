"""The ASGI application (Starlette): `GET /feeds/<token>.ics`, `GET /healthz`, `GET /metrics`.

Handlers do the blocking work (database, rendering) in Starlette's thread pool. The service is
asked for on every request, so a reload (SIGHUP) takes effect at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scheduler import metrics
from scheduler.service import Service
from scheduler.web import dashboard

overdue = Gauge("scheduler_overdue_occurrences", "Open occurrences past their due date, by agency", ["agency"],
                registry=metrics.registry)


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def create_app(current: Callable[[], Service], clock: Callable[[], dt.datetime],
               credential: tuple[str, str] | None = None) -> Starlette:
    async def feed(request: Request) -> Response:
        found = await run_in_threadpool(current().feed, request.path_params["token"], clock())
        if found is None:
            return Response(status_code=404)  # unknown and revoked look alike: no hint
        headers = {"ETag": found.etag, "Cache-Control": "private, max-age=300"}
        if matches(request.headers.get("if-none-match"), found.etag):
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type="text/calendar; charset=utf-8",
                        headers={**headers, "Content-Disposition": 'inline; filename="deadlines.ics"'})

    async def healthz(request: Request) -> Response:
        problem = await run_in_threadpool(current().database_problem)
        if problem:
            return JSONResponse({"status": "unhealthy", "database": problem}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    async def metrics_view(request: Request) -> Response:
        service = current()
        try:
            rows = await run_in_threadpool(service.status, clock())
        except Exception:  # noqa: BLE001 - the other metrics are still worth serving when the database is away
            rows = None
        if rows is not None:
            overdue.clear()
            for agency, late, *_ in rows:
                overdue.labels(agency).set(late)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[
        Route("/feeds/{token}.ics", feed, methods=["GET", "HEAD"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_view, methods=["GET"]),
        *dashboard.routes(current, clock, dashboard.Guard(credential)),
    ])
