"""The ASGI application (Starlette): `GET /feeds/<token>.ics`, `GET /healthz`, `GET /metrics`; the
dashboard (web/dashboard.py), personal links and sessions (web/auth.py), the focal point's page
(web/agency.py) and the secretariat's review (web/review.py).

Handlers do the blocking work (database, rendering) in worker threads: building pages and checking
documents in the heavy lane, a few at a time, and `/healthz` in a lane of its own (web/lanes.py),
so that a crowd on the dashboard never makes the health check wait. The ctx is
asked for on every request, so a reload (SIGHUP) takes effect at once. Every response carries the
security headers of `web/security.py`, a 500 too, and what cannot be served as asked gets a page
saying so (`web/edges.py`); `/metrics` serialises what the daemon measured at its last
tick and touches no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scheduler import api, metrics
from scheduler.app.context import Context
from scheduler.feeds import serve
from scheduler.store.db import problem as database_problem
from scheduler.web import admin_webhooks, agency, dashboard, edges, review, signin
from scheduler.web.auth import Auth, https
from scheduler.web.guard import Guard
from scheduler.web.lanes import LANES
from scheduler.web.security import LoginThrottle


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def create_app(current: Callable[[], Context], clock: Callable[[], dt.datetime],
               credential: tuple[str, str] | None = None, *, secret_key: bytes | None = None,
               reload_problem: Callable[[], str | None] = lambda: None, replay: bool = False,
               wall: Callable[[], dt.datetime] | None = None) -> Starlette:
    """`secret_key`: the deployment's key, from which the dashboard's form key is derived;
    `reload_problem`: why the last reload was refused (None when it was not), shown on /healthz;
    `replay`: `clock` replays the past (`run --clock`), which every page says; `wall`: the real
    time, which sessions and sign-in links expire by (default: `clock`)."""

    guard = Guard(credential, secret_key, LoginThrottle(lambda: current().engine))
    # A replay's clock (`run --clock --speed N`) says its speed: personal links last their real days.
    auth = Auth(current, clock, guard, wall=wall, replay=replay, speed=getattr(clock, "speed", 1.0) if replay else 1.0)

    async def feed(request: Request) -> Response:
        found = await run_in_threadpool(serve.feed, current(), request.path_params["token"], clock(),
                                        request.query_params.get("lang"), request.query_params.get("plan") or None)
        if found is None:
            return Response(status_code=404)  # unknown and revoked look alike: no hint
        headers = {"ETag": found.etag, "Cache-Control": "private, max-age=300"}
        if matches(request.headers.get("if-none-match"), found.etag):
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type="text/calendar; charset=utf-8",
                        headers={**headers, "Content-Disposition": 'inline; filename="deadlines.ics"'})

    async def healthz(request: Request) -> Response:
        # Its own lane (web/lanes.py): never queued behind pages, whatever load they are under.
        problem = await LANES.probe(lambda: database_problem(current().engine))
        # A refused reload leaves the previous plan running: still healthy (a restart would not
        # help, it would stop at the broken file), but said here for whoever watches.
        reload = {"reload": refused} if (refused := reload_problem()) else {}
        if problem:
            return JSONResponse({"status": "unhealthy", "database": problem, **reload}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", **reload})

    async def metrics_view(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    refuse, exception_handlers = edges.handlers(auth)
    app = edges.App(routes=[
        *api.routes(current, clock),  # the JSON API under /api/v1/ (scheduler/api)
        Route("/feeds/{token}.ics", feed, methods=["GET", "HEAD"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics_view, methods=["GET"]),
        *dashboard.routes,
        *auth.routes(),
        *signin.routes,
        *agency.routes,
        *review.routes,
        *admin_webhooks.routes,
    ], middleware=[Middleware(edges.RefuseNul, refuse=refuse)], exception_handlers=exception_handlers,
        https=lambda: https(current()))
    # what the pages' endpoints read (web/deps.py)
    app.state.auth, app.state.guard, app.state.pages = auth, guard, dashboard.PageCache()
    app.state.signin_throttle = signin.throttle(auth)
    return app
