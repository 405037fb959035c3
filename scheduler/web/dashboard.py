"""The secretariat's dashboard: this month and next as a calendar, who is late, each occurrence's
history, recording a submission, and the year's compliance table to download.

Behind HTTP Basic auth with the admin credential from the environment (no credential, no
dashboard). The submission form carries an HMAC token bound to the occurrence and to a key made
when the process starts, and a cross-site Origin is refused: a browser that remembers the Basic
credential cannot be made to post by another site.
"""

from __future__ import annotations

import base64
import binascii
import calendar as month_calendar
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from scheduler import report
from scheduler.errors import BadInput, UnknownOccurrence
from scheduler.i18n import long_date
from scheduler.service import Service

_env = Environment(loader=PackageLoader("scheduler", "templates"), autoescape=select_autoescape(["j2"]))
_env.filters["long_date"] = long_date


class Guard:
    """Checks the Basic credential and makes and checks form tokens."""

    def __init__(self, credential: tuple[str, str] | None):
        self.credential = credential
        self._key = secrets.token_bytes(32)

    def allows(self, request: Request) -> bool:
        if self.credential is None:
            return False
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        want_user, want_password = self.credential
        same_user = hmac.compare_digest(user.encode(), want_user.encode())
        same_password = hmac.compare_digest(password.encode(), want_password.encode())
        return same_user and same_password

    def token(self, occurrence_id: str) -> str:
        return hmac.new(self._key, occurrence_id.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, occurrence_id: str, token: str) -> bool:
        return hmac.compare_digest(self.token(occurrence_id), token)


def _challenge() -> Response:
    return Response("authentication required\n", status_code=401, headers={"WWW-Authenticate": 'Basic realm="scheduler"'})


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


def month_grid(year: int, month: int) -> list[list[dt.date | None]]:
    weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [[day if day.month == month else None for day in week] for week in weeks]


def routes(current: Callable[[], Service], clock: Callable[[], dt.datetime], guard: Guard) -> list[Route]:
    def page(name: str, **context) -> HTMLResponse:
        return HTMLResponse(_env.get_template(f"web/{name}.html.j2").render(**context))

    async def home(request: Request) -> Response:
        if guard.credential is None:
            return Response("the dashboard is off: set SCHEDULER_ADMIN_PASSWORD\n", status_code=404)
        if not guard.allows(request):
            return _challenge()
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

    async def occurrence(request: Request) -> Response:
        if not guard.allows(request):
            return _challenge() if guard.credential else Response(status_code=404)
        service = current()
        oid = request.path_params["occurrence_id"]
        found = await run_in_threadpool(service.history, oid)
        if found is None:
            return Response("no such occurrence\n", status_code=404)
        row, submission, ledger = found
        return page("occurrence", service=service, row=row, submission=submission, ledger=ledger,
                    csrf=guard.token(oid), item=service.item(row, "kk"), plan=service.plan.file.plan)

    async def submit(request: Request) -> Response:
        if not guard.allows(request):
            return _challenge() if guard.credential else Response(status_code=404)
        oid = request.path_params["occurrence_id"]
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if not _same_origin(request) or not guard.token_ok(oid, form.get("csrf", [""])[0]):
            return Response("the form is stale or came from elsewhere; reload the page\n", status_code=403)
        service, now = current(), clock()
        note = form.get("note", [""])[0].strip() or None
        try:
            await run_in_threadpool(service.submit, oid, now, note, now)
        except (UnknownOccurrence, BadInput):
            return Response("no such occurrence\n", status_code=404)
        return RedirectResponse(f"/occurrences/{oid}", status_code=303)

    async def download(request: Request) -> Response:
        if not guard.allows(request):
            return _challenge() if guard.credential else Response(status_code=404)
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
        Route("/occurrences/{occurrence_id}", occurrence, methods=["GET"]),
        Route("/occurrences/{occurrence_id}/submit", submit, methods=["POST"]),
        Route("/report/{year:int}.{fmt:str}", download, methods=["GET"]),
    ]
