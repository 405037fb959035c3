"""The admin's webhooks page (`/admin/webhooks`): the endpoints, and the latest deliveries with
their outcomes (state, attempts, the receiver's last status or error, how long it took)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduler.app import webhooks
from scheduler.store.ledger import aware
from scheduler.web.deps import auth_of

SHOWN = 100  # deliveries on the page, newest first


async def webhooks_page(request: Request) -> Response:
    auth = auth_of(request)
    visitor = await auth.visitor(request)
    if isinstance(visitor, Response):
        return visitor
    if visitor.person.staff_role != "admin":
        return auth.refusal(request, 403, "admins_only", visitor.language, person=visitor.person)
    ctx = auth.current()
    endpoints = await run_in_threadpool(webhooks.listing, ctx.engine)
    deliveries = await run_in_threadpool(webhooks.recent, ctx.engine, SHOWN)
    zone = ctx.timing.zone

    def when(moment) -> str:
        return aware(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment is not None else ""

    return auth.page("webhooks", visitor.language, 200, request, person=visitor.person, home="/review", plan=ctx.plan.file.plan,
                     endpoints=endpoints, deliveries=deliveries, shown=SHOWN, when=when,
                     csrf_out=auth.token(visitor, "sign-out") if visitor.session else None)


routes = [Route("/admin/webhooks", webhooks_page, methods=["GET"])]
