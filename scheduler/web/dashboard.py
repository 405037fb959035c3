"""The secretariat's dashboard: this month and next as a calendar, who is late, recording a
submission, and the year's compliance table to download (each occurrence's page: web/review.py).

Behind HTTP Basic auth with the admin credential from the environment (no credential, no
dashboard); an address that keeps guessing wrong is refused for a while (429). The submission form
carries an HMAC token bound to the occurrence, under a key derived from the deployment's secret key
file (so a form rendered by one instance is good on another, and after a restart), and a
cross-site Origin is refused: a browser that remembers the Basic credential cannot be made to post
by another site. Behind a reverse proxy the browser's Origin is the public one, SCHEDULER_BASE_URL.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import calendar as month_calendar
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from scheduler import report
from scheduler.errors import BadInput, UnknownOccurrence
from scheduler.i18n import long_date
from scheduler.service import Service
from scheduler.templating import SiteLoader
from scheduler.web.security import LoginThrottle

_env = Environment(loader=SiteLoader(), autoescape=select_autoescape(["j2"]))
_env.filters["long_date"] = long_date


FORM_KEY_LABEL = b"scheduler dashboard form tokens v1"
FORM_LIMIT = 64 * 1024  # bytes: a token and a note of 500 characters need far less
FORM_TIMEOUT = 30.0  # seconds for a form's body to arrive: a client that stalls does not hold a task for ever


class Guard:
    """Checks the Basic credential (throttled per client address) and makes and checks form tokens.

    `secret_key` is the deployment's key (SCHEDULER_SECRET_KEY_FILE); the form key is an HMAC of
    it under a fixed label, so it is the same in every instance and across restarts, and tells
    nothing about the key that derives contacts' feed links. Without it (tests), a key per process."""

    def __init__(self, credential: tuple[str, str] | None, secret_key: bytes | None = None,
                 throttle: LoginThrottle | None = None):
        self.credential = credential
        self._key = hmac.new(secret_key, FORM_KEY_LABEL, hashlib.sha256).digest() if secret_key else secrets.token_bytes(32)
        self.throttle = throttle or LoginThrottle()

    def allows(self, request: Request) -> bool:
        return self.refusal(request) is None

    def refusal(self, request: Request) -> Response | None:
        """None when the request carries the admin credential; otherwise the answer to give it."""
        if self.credential is None:
            return Response("the dashboard is off: set SCHEDULER_ADMIN_PASSWORD\n", status_code=404)
        address = request.client.host if request.client else "unknown"
        wait = self.throttle.retry_after(address)
        if wait is None:
            given = _basic_credential(request)
            if given is None:
                return _challenge()
            want_user, want_password = self.credential
            same_user = hmac.compare_digest(given[0].encode(), want_user.encode())
            same_password = hmac.compare_digest(given[1].encode(), want_password.encode())
            if same_user and same_password:
                return None
            self.throttle.failed(address)  # the limit's last failure still gets its 401; the next try, 429
            return _challenge()
        return Response("too many failed logins from this address; try again later\n", status_code=429,
                        headers={"Retry-After": str(wait)})

    def token(self, purpose: str, bound: str = "") -> str:
        """A form's token: for `purpose` (an occurrence id, an action on it), bound to a session
        when one is given (the personal pages), else to the admin's credential alone."""
        message = f"{bound}\0{purpose}" if bound else purpose
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, purpose: str, token: str, bound: str = "") -> bool:
        return hmac.compare_digest(self.token(purpose, bound), token)


def _basic_credential(request: Request) -> tuple[str, str] | None:
    """(user, password) from an Authorization: Basic header; None when there is none.

    A Basic header that does not decode counts as a wrong credential: it is a try like any other."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    return user, password


async def _read_form(request: Request) -> dict[str, list[str]] | Response:
    """The posted form, or the answer to give when it is too large, too slow or never came."""
    body = bytearray()
    try:
        async with asyncio.timeout(FORM_TIMEOUT):
            async for chunk in request.stream():
                body += chunk
                if len(body) > FORM_LIMIT:
                    return Response("the form is too large\n", status_code=413, headers={"Connection": "close"})
    except TimeoutError:
        return Response("the form did not arrive in time\n", status_code=408, headers={"Connection": "close"})
    except ClientDisconnect:
        return Response(status_code=400)
    return parse_qs(body.decode("utf-8", "replace"))


def _challenge() -> Response:
    return Response("authentication required\n", status_code=401, headers={"WWW-Authenticate": 'Basic realm="scheduler"'})


def _same_origin(request: Request, public_base_url: str) -> bool:
    """No Origin (a script, not a browser), or the request's own host, or the public address that a
    reverse proxy in front serves (its Host differs from the browser's)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    given = urlsplit(origin)
    public = urlsplit(public_base_url)
    if given.netloc and given.netloc == request.headers.get("host"):
        return True
    return bool(given.netloc) and (given.scheme.lower(), given.netloc.lower()) == (public.scheme.lower(), public.netloc.lower())


def month_grid(year: int, month: int) -> list[list[dt.date | None]]:
    weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [[day if day.month == month else None for day in week] for week in weeks]


def routes(current: Callable[[], Service], clock: Callable[[], dt.datetime], guard: Guard) -> list[Route]:
    def page(name: str, **context) -> HTMLResponse:
        # Not the app's `no-referrer`: under it a browser posts this page's form with `Origin: null`
        # (the Fetch standard), which the Origin check must refuse. Other sites still get no Referer.
        return HTMLResponse(_env.get_template(f"web/{name}.html.j2").render(**context),
                            headers={"Referrer-Policy": "same-origin"})

    async def home(request: Request) -> Response:
        refusal = guard.refusal(request)
        if refusal is not None:
            return refusal
        service, now = current(), clock()
        today = service.timing.local_day(now)
        first = today.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        last = (following + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        due = await run_in_threadpool(service.due_between, first, last)
        status = await run_in_threadpool(service.status, now)
        table = await run_in_threadpool(service.compliance, today.year, now)
        months = [(m, month_grid(m.year, m.month)) for m in (first, following)]
        return page("dashboard", service=service, today=today, months=months, due=due, status=status,
                    table=table, total=report.total(table), columns=report.COLUMNS, plan=service.plan.file.plan)

    async def submit(request: Request) -> Response:
        refusal = guard.refusal(request)
        if refusal is not None:
            return refusal
        oid = request.path_params["occurrence_id"]
        form = await _read_form(request)
        if isinstance(form, Response):
            return form
        if not _same_origin(request, current().settings.public_base_url()) or not guard.token_ok(oid, form.get("csrf", [""])[0]):
            return Response("the form is stale or came from elsewhere; reload the page\n", status_code=403)
        service, now = current(), clock()
        note = form.get("note", [""])[0].strip() or None
        try:
            await run_in_threadpool(service.submit, oid, now, note, now, request.client.host if request.client else None)
        except UnknownOccurrence:
            return Response("no such occurrence\n", status_code=404)
        except BadInput as refused:  # closed or cancelled meanwhile, a note too long
            return Response(f"{refused}\n", status_code=409, media_type="text/plain; charset=utf-8")
        return RedirectResponse(f"/occurrences/{oid}", status_code=303)

    async def download(request: Request) -> Response:
        refusal = guard.refusal(request)
        if refusal is not None:
            return refusal
        service, now = current(), clock()
        year, fmt = int(request.path_params["year"]), request.path_params["fmt"]
        if fmt not in ("csv", "xlsx", "html"):
            return Response(status_code=404)
        outside = report.year_outside(service.plan.years, year)
        if outside:
            return Response(f"no report: the year {outside}\n", status_code=404, media_type="text/plain; charset=utf-8")
        table = await run_in_threadpool(service.compliance, year, now)
        meta = service.plan.file.plan
        body, media = {
            "csv": (lambda: report.as_csv(table), "text/csv; charset=utf-8"),
            "xlsx": (lambda: report.as_xlsx(table, year), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "html": (lambda: report.as_html(table, year, meta.title_en or meta.title_kk, service.timing.local_day(now)),
                     "text/html; charset=utf-8"),
        }[fmt]
        return Response(body(), media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="compliance-{year}.{fmt}"'})

    return [
        Route("/", home, methods=["GET"]),
        Route("/occurrences/{occurrence_id}/submit", submit, methods=["POST"]),
        Route("/report/{year:int}.{fmt:str}", download, methods=["GET"]),
    ]
