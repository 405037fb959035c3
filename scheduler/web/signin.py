"""The sign-in page: `GET /signin` asks for an address, `POST /signin` emails a one-time link to it
if it is a person's, and `GET /s/<token>` signs the browser in with that link.

The answer to a request is the same page with the same status whatever the address: the lookup,
the token and the email all happen after the answer has gone (a background task), so neither the
page nor the time it takes tells whether the address is known. A client address that asks too
often (PER_CLIENT within an hour, any addresses; counted in the database, so across instances and
restarts) gets the same page and nothing is done; an address gets at most PER_ADDRESS links an hour. One log line per request names the address by a keyed
hash only, never the token. The form carries a token bound to its purpose (the visitor has no
session to bind it to) and a cross-site Origin is refused.

A one-time link, opened, shows a page with one button: mail scanners that fetch every link in a
message do not use it up. The button's POST (same-origin, a form token bound to the link) uses it
and opens a session exactly as a personal link does (`Auth.open_session`); never issued or
altered: 403; expired or already used: 410.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduler.app import people, signin
from scheduler.web.auth import Auth, safe_next
from scheduler.web.deps import auth_of
from scheduler.web.guard import read_small_form, same_origin
from scheduler.web.security import LoginThrottle
from scheduler.notify.items import sender_name

log = logging.getLogger("scheduler")

PURPOSE = "sign-in request"
CONFIRM = "sign-in confirmation"  # the button on an opened link's page, bound to its token


def throttle(auth: Auth) -> LoginThrottle:
    """The sign-in requests' throttle (on `app.state`). In the database, like the dashboard's: every
    instance counts the same requests, a restart keeps them."""
    return LoginThrottle(lambda: auth.current().engine, purpose="sign-in", limit=signin.PER_CLIENT,
                         window=signin.WINDOW.total_seconds(), what="sign-in requests", counted="requests")


def counted(throttle: LoginThrottle, client: str) -> bool:
    """False when `client` asked too often (nothing is counted then); else counts this request."""
    if throttle.retry_after(client) is not None:
        return False
    throttle.failed(client)  # every request counts, known address or not
    return True


def form(request: Request, lang: str, status: int = 200, **context) -> Response:
    auth = auth_of(request)
    ctx = auth.current()
    return auth.page("signin", lang, status, request, plan=ctx.plan.file.plan,
                     minutes=ctx.settings.sign_in_minutes,
                     **{"email": "", "problem": None, "sent": False, "confirm": False, "next": None,
                        "csrf": auth.guard.token(PURPOSE), "action": "/signin", **context})


def onward(given: str | None) -> str:
    """The query that carries a good `next` on (the emailed link, the confirming form)."""
    return f"?{urlencode({'next': given})}" if safe_next(given) else ""


async def ask(request: Request) -> Response:
    auth = auth_of(request)
    wanted = safe_next(request.query_params.get("next"))
    # The language switch keeps `next`: a sign-in in another language still leads there.
    return form(request, auth.language(request, None), next=wanted,
                switch_keep=f"{urlencode({'next': wanted})}&" if wanted else "")


async def send(auth: Auth, email: str, client: str | None, mark: str, next_path: str | None = None) -> None:
    """After the answer: the person behind `email`, if any, gets a link by email (that brings
    her to `next_path` once signed in)."""
    # Sign-in links expire by the real time, also while `run --clock` replays the past.
    ctx, now = auth.current(), auth.wall()
    lasts = dt.timedelta(minutes=ctx.settings.sign_in_minutes)
    try:
        issued = await run_in_threadpool(signin.issue, ctx.engine, email, now, lasts, client)
        if isinstance(issued, str):
            log.info("sign-in link asked for address=%s from=%s: %s, nothing sent", mark, client, issued)
            return
        lang = issued.person.language if issued.person.language in signin.LANGUAGES else "kk"
        message = signin.message(issued, ctx.settings.public_base_url(), ctx.settings.mail_from,
                                 ctx.timing.zone, now, sender_name=sender_name(ctx, lang, now),
                                 reply_to=ctx.settings.reply_to, query=onward(next_path))
        delivery = (await ctx.transport.deliver([message]))[0]
    except Exception as error:  # noqa: BLE001 - after the answer there is nobody to tell but the log
        log.error("sign-in link asked for address=%s from=%s: not sent: %s", mark, client, error.__class__.__name__)
        return
    if delivery.error is not None:
        log.warning("sign-in link asked for address=%s from=%s: not sent: %s", mark, client, delivery.error)
    else:
        log.info("sign-in link asked for address=%s from=%s: sent", mark, client)


async def request_link(request: Request) -> Response:
    auth = auth_of(request)
    lang = auth.language(request, None)
    given = await read_small_form(request)
    if isinstance(given, Response):
        return given
    ctx = auth.current()
    if not same_origin(request, ctx.settings.public_base_url()) or \
            not auth.guard.token_ok(PURPOSE, given.get("csrf", [""])[0]):
        return auth.message(request, 403, "stale", lang)
    email = given.get("email", [""])[0].strip()
    if not signin.plausible(email):
        return form(request, lang, 400, email=email[:320], problem=auth.words(lang, "signin_bad_address"),
                    next=safe_next(given.get("next", [""])[0]))
    client = request.client.host if request.client else None
    mark = signin.fingerprint(ctx.link_key(), email)
    answer = form(request, lang, sent=True)
    if not await run_in_threadpool(counted, request.app.state.signin_throttle, client or "unknown"):
        log.info("sign-in link asked for address=%s from=%s: client throttled, nothing sent", mark, client)
        return answer
    answer.background = BackgroundTask(send, auth, email, client, mark, safe_next(given.get("next", [""])[0]))
    return answer


async def landing(request: Request) -> Response:
    """The link opened: a page with one button (its POST signs in), the link still unused."""
    auth = auth_of(request)
    ctx, token = auth.current(), request.path_params["token"]
    try:
        email = await run_in_threadpool(signin.check, ctx.engine, token, auth.wall())
    except signin.SignInRefused as refused:
        return auth.message(request, refused.status, "link_altered" if refused.status == 403 else "link_gone")
    if await run_in_threadpool(people.who, ctx.engine, email) is None:  # no longer a contact or user
        return auth.message(request, 410, "link_gone")
    return form(request, auth.language(request, None), confirm=True, email=email,
                csrf=auth.guard.token(CONFIRM, token),
                action=signin.PATH + token + onward(request.query_params.get("next")))


async def confirm(request: Request) -> Response:
    auth = auth_of(request)
    ctx, token = auth.current(), request.path_params["token"]
    given = await read_small_form(request)
    if isinstance(given, Response):
        return given
    if not same_origin(request, ctx.settings.public_base_url()) or \
            not auth.guard.token_ok(CONFIRM, given.get("csrf", [""])[0], token):
        return auth.message(request, 403, "stale", auth.language(request, None))
    try:
        email = await run_in_threadpool(signin.redeem, ctx.engine, token, auth.wall())
    except signin.SignInRefused as refused:
        return auth.message(request, refused.status, "link_altered" if refused.status == 403 else "link_gone")
    return await auth.open_session(request, email, request.query_params.get("next"))


routes = [
    Route("/signin", ask, methods=["GET"]),
    Route("/signin", request_link, methods=["POST"]),
    Route(signin.PATH + "{token}", landing, methods=["GET"]),
    Route(signin.PATH + "{token}", confirm, methods=["POST"]),
]
