"""The secretariat's dashboard (`/`): who is late, deadlines found by agency, item, state, period
and words, the month's calendar and a day's full list, the year's compliance with its charts and
downloads; each agency's page (`/agencies/<code>`); recording a submission (each occurrence's page:
web/review.py). In the page's language (web/dashboard_view.py says what the pages show).

For a signed-in member of the secretariat (admin, reviewer, observer), whether or not an admin
credential is set; a signed-in person who is not staff gets 403 and a link to her own page, and a
browser without a session is sent to the sign-in page (web/auth.py). Scripts may send HTTP Basic
with the admin credential from the environment (SCHEDULER_ADMIN_PASSWORD); an address that keeps
guessing wrong is refused for a while (429). The submission form
carries an HMAC token bound to the occurrence, under a key derived from the deployment's secret key
file (so a form rendered by one instance is good on another, and after a restart), and a
cross-site Origin is refused: a browser that remembers the Basic credential cannot be made to post
by another site. Behind a reverse proxy the browser's Origin is the public one, SCHEDULER_BASE_URL.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import gzip
import hashlib
import hmac
import secrets
import threading
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from scheduler import report, templating
from scheduler.answers.machine import ADMIN
from scheduler.app import dashboard_queries
from scheduler.errors import BadInput, UnknownOccurrence
from scheduler.feeds import tokens
from scheduler.app.context import Context
from scheduler.store.ledger import aware
from scheduler.web import dashboard_view as view
from scheduler.web.lanes import LANES, Coalesced, Flights
from scheduler.web.security import LoginThrottle
from scheduler.app import answer, standing

FORM_KEY_LABEL = b"scheduler dashboard form tokens v1"
FORM_LIMIT = 64 * 1024  # bytes: a token and a note of 500 characters need far less
FORM_TIMEOUT = 30.0  # seconds for a form's body to arrive: a client that stalls does not hold a task for ever


class Guard:
    """Checks the Basic credential (throttled per client address) and makes and checks form tokens.

    `secret_key` is the deployment's key (SCHEDULER_SECRET_KEY_FILE); the form key is an HMAC of
    it under a fixed label, so it is the same in every instance and across restarts, and tells
    nothing about the key that derives contacts' feed links. Without it (tests), a key per process."""

    def __init__(self, credential: tuple[str, str] | None, secret_key: bytes | None, throttle: LoginThrottle):
        self.credential = credential
        self._key = hmac.new(secret_key, FORM_KEY_LABEL, hashlib.sha256).digest() if secret_key else secrets.token_bytes(32)
        self.throttle = throttle  # kept in the database: shared by every instance, kept over a restart

    async def allows(self, request: Request) -> bool:
        return await self.refusal(request) is None

    async def refusal(self, request: Request) -> Response | None:
        """None when the request carries the admin credential; otherwise the answer to give it."""
        if self.credential is None:
            return Response("the dashboard is off: set SCHEDULER_ADMIN_PASSWORD\n", status_code=404)
        address = request.client.host if request.client else "unknown"
        wait = await run_in_threadpool(self.throttle.retry_after, address)
        if wait is None:
            given = _basic_credential(request)
            if given is None:
                return _challenge()
            want_user, want_password = self.credential
            same_user = hmac.compare_digest(given[0].encode(), want_user.encode())
            same_password = hmac.compare_digest(given[1].encode(), want_password.encode())
            if same_user and same_password:
                return None
            await run_in_threadpool(self.throttle.failed, address)  # the limit's last failure gets its 401; the next, 429
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
    form = parse_qs(body.decode("utf-8", "replace"))
    from scheduler.web.edges import Refused, nul_in_form

    if nul_in_form(form):  # PostgreSQL keeps no NUL in text: the reader's page says so, 400
        raise Refused(400, "nul")
    return form


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


@dataclass(frozen=True)
class Built:
    """A page kept for its data's version: its bytes, and the same gzipped once (about a tenth of
    them: the dashboard of a large plan is 200 KB of HTML) for the browsers that take gzip."""

    body: bytes
    gzipped: bytes

    @classmethod
    def of(cls, text: str) -> Built:
        body = text.encode()
        return cls(body, gzip.compress(body, compresslevel=6, mtime=0))


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (by name, else by `*`, with a weight above 0)."""
    weights = {}
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        given = params.strip().lower()
        try:
            weights[coding.strip().lower()] = float(given[2:]) if given.startswith("q=") else 1.0
        except ValueError:
            weights[coding.strip().lower()] = 0.0
    return weights.get("gzip", weights.get("*", 0.0)) > 0


@dataclass(frozen=True)
class Viewer:
    """Who reads the dashboard: the admin by HTTP Basic, or a signed-in member of the secretariat."""

    name: str
    admin: bool
    language: str = "kk"  # the contract's order: ?lang=, the cookie, her own language, the browser's


def routes(current: Callable[[], Context], clock: Callable[[], dt.datetime], guard: Guard,
           replay: bool = False, auth=None) -> list[Route]:
    """`auth`: the people's sign-in (web/auth.py's Auth; one on `clock` when not given)."""
    if auth is None:
        from scheduler.web.auth import Auth

        auth = Auth(current, clock, guard, replay=replay)

    async def viewer(request: Request) -> Viewer | Response:
        """Staff signed in (or the admin's Basic credential, for scripts); a person who is not
        staff: 403 in her language with the way to her own page; nobody: the sign-in page."""
        found = await auth.visitor(request)
        if isinstance(found, Response):
            return found
        if not found.person.reads_dashboard:  # the coordinator's focal points read it too, never act
            return auth.refusal(request, 403, "staff_only", found.language, back="/my", back_key="to_my_page",
                                person=found.person, csrf_out=auth.token(found, "sign-out") if found.session else None)
        return Viewer(found.person.email, found.person.staff_role == ADMIN, found.language)

    def context(request: Request, ctx: Context, now: dt.datetime, lang: str) -> dict:
        meta = ctx.plan.file.plan
        today = ctx.timing.local_day(now)
        words = view.Words(ctx.plan, lang, today, ctx.timing.zone)
        kept = {k: v for k, v in request.query_params.items() if k != "lang"}
        return {
            "lang": lang, "words": words, "today": today, "plan": meta,
            "heading": getattr(meta, f"title_{lang}", None) or meta.title_kk,
            "translation": ctx.plan.translation_status(lang),
            "languages": [(code, name, "?" + urlencode({**kept, "lang": code})) for code, name in view.LANGUAGE_NAMES],
            "replay": replay, "replayed_at": now.astimezone(ctx.timing.zone),
            "state_words": view.STATE_WORDS, "icons": view.STATE_ICONS, "states": view.STATES,
            "percent": lambda value: view.percent(value, lang), "zone_name": str(ctx.timing.zone),
            "first_of": lambda year, month: dt.date(year, month, 1), "last_of": view.last_of_month, "aware": aware,
        }

    def page(request: Request, template: str, language: str, status: int = 200, **values) -> HTMLResponse:
        return respond(request, render(template, language, **values), status)

    def render(template: str, language: str, **values) -> str:
        return templating.environment(language).get_template(f"web/{template}.html.j2").render(**values)

    def respond(request: Request, body: str | Built, status: int = 200) -> HTMLResponse:
        # Not the app's `no-referrer`: under it a browser posts this page's form with `Origin: null`
        # (the Fetch standard), which the Origin check must refuse. Other sites still get no Referer.
        headers = {"Referrer-Policy": "same-origin", "Vary": "Cookie, Accept-Language"}
        if isinstance(body, Built):  # a kept page: gzipped once, sent so to whoever takes it
            headers["Vary"] += ", Accept-Encoding"
            if accepts_gzip(request.headers.get("accept-encoding", "")):
                body, headers["Content-Encoding"] = body.gzipped, "gzip"
            else:
                body = body.body
        response = HTMLResponse(body, status_code=status, headers=headers)
        if request.query_params.get("lang") in view.LANGUAGES:
            response.set_cookie(view.LANGUAGE_COOKIE, request.query_params["lang"], max_age=365 * 86400, path="/",
                                samesite="lax", secure=current().settings.public_base_url().lower().startswith("https://"))
        return response

    def rows_of(ctx: Context, words: view.Words, **selection) -> list[view.Row]:
        return [words.row(e) for e in dashboard_queries.entries(ctx.engine, **selection)]

    async def prepared(request: Request):
        """(who, service, now, lang, the pages' common values) for a visitor who may see the
        dashboard; otherwise the answer to give."""
        who = await viewer(request)
        if isinstance(who, Response):
            return who
        ctx, now = current(), clock()
        lang = who.language
        return who, ctx, now, lang, context(request, ctx, now, lang)

    flights: weakref.WeakKeyDictionary[Context, Flights] = weakref.WeakKeyDictionary()
    versions: weakref.WeakKeyDictionary[Context, Coalesced] = weakref.WeakKeyDictionary()

    figures: OrderedDict[tuple, tuple] = OrderedDict()  # the pages' figures, whatever their language and list page
    figures_lock = threading.Lock()

    def figures_of(ctx: Context, version: tuple, today: dt.date, year: int, selection: dict, words: view.Words):
        """The year's figures for this data version: computed once for every language and every page
        of the list."""
        key = (id(ctx), version, today, year, selection.get("agency"), selection.get("obligation"))
        with figures_lock:
            found = figures.get(key)
            if found is not None:
                figures.move_to_end(key)
                return found
        found = view.year_figures(ctx.engine, year, today, ctx.calendar, words, **selection)
        with figures_lock:
            figures[key] = found
            while len(figures) > 16:
                figures.popitem(last=False)
        return found

    async def cached(request: Request, ctx: Context, now: dt.datetime, lang: str, name: str,
                     build: Callable[[tuple], str]) -> Built:
        """The page `build` renders (in the heavy lane) for the data's version, computed once for
        every request that asks for the same page at once, and kept for the next ones."""
        reads = versions.get(ctx)
        if reads is None:
            reads = versions[ctx] = Coalesced()
        version = await reads.get(lambda: LANES.light(dashboard_queries.data_version, ctx.engine))
        shown = (ctx.timing.local_day(now), now.replace(second=0, microsecond=0) if replay else None)
        key = (name, lang, tuple(sorted(request.query_params.multi_items())), shown, version)
        mine = flights.get(ctx)
        if mine is None:
            mine = flights[ctx] = Flights()
        return await mine.get(key, lambda: LANES.heavy(lambda: Built.of(build(version))))

    def late_of(engine, filters: view.Filters, search: view.Search | None, today: dt.date,
                words: view.Words) -> list[tuple[str, dt.date | None, int]]:
        """Who is late, within every filter of the page: the body, the item, the period asked for (a
        day, a month, a year: the deadlines due in it; none: the whole plan), the state and the
        words searched for. (agency, the day its name is taken on, overdue deadlines)."""
        first, last = view.period_of(filters, today) if filters.day or filters.month or filters.year else (None, None)
        chosen = {"agency": filters.agency, "obligation": filters.obligation, "first": first, "last": last}
        if search is None:
            return dashboard_queries.late_by_agency(engine, today, words.epochs, state=filters.state, **chosen)
        if filters.state not in (None, "overdue"):
            return []  # a late deadline shows as overdue: no other state has one
        return [(row[2], row[4], 1) for row in search.rows(engine, state="overdue", today=today, **chosen)]

    def home_page(request: Request, ctx: Context, now: dt.datetime, lang: str, version: tuple) -> str:
        values = context(request, ctx, now, lang)
        words, today = values["words"], values["today"]
        _ = templating.translations(lang).gettext
        filters = view.read_filters(request, ctx.plan, _)
        first, last = view.period_of(filters, today)
        shown_month = filters.month or (filters.day.replace(day=1) if filters.day else None) or \
            (dt.date(filters.year, today.month if filters.year == today.year else 1, 1) if filters.year else today.replace(day=1))
        year = shown_month.year
        engine = ctx.engine
        selection = {"agency": filters.agency, "obligation": filters.obligation}
        listing = view.listing(engine, words, filters, first, last, today)
        if listing.search is None:
            month = dashboard_queries.by_day(engine, today, words.placeholders, first=shown_month,
                                             last=view.last_of_month(shown_month), state=filters.state, **selection)
        else:
            month = listing.search.by_day(engine, today, first=shown_month, last=view.last_of_month(shown_month),
                                          state=filters.state, **selection)
        year_figures = figures_of(ctx, version, today, year, selection, words)
        late = late_of(engine, filters, listing.search, today, words)
        by_agency, by_month, total = view.compliance_of(year_figures, words), year_figures.months, year_figures.total
        late_agencies: dict[tuple[str, str], int] = defaultdict(int)
        for code, named_on, count in late:
            if code not in words.placeholders:  # a placeholder is listed, never late
                late_agencies[(code, words.agency(code, named_on or dt.date.max))] += count
        bars, bars_height = view.agency_bars(by_agency, lang, "")
        years = list(range(ctx.plan.years.start, ctx.plan.years.stop + 1))
        return render("dashboard", lang, **values, filters=filters, first=first, last=last,
                      listed=listing.rows, listed_count=listing.count, page_number=listing.page, pages=listing.pages,
                      page_first=listing.first, page_last=listing.last, groups=listing.groups,
                      shown_month=shown_month, weeks=view.month_cells_of(shown_month, month),
                      weekdays=words.weekdays(), previous_month=view.add_months(shown_month, -1),
                      next_month=view.add_months(shown_month, 1), years=years, year=year,
                      overdue_count=sum(late_agencies.values()),
                      late_agencies=sorted(late_agencies.items(), key=lambda item: (-item[1], item[0][1].casefold())),
                      by_agency=by_agency, by_month=by_month, total=total, bars=bars, bars_height=bars_height,
                      columns=view.month_columns(by_month, words, lang), span=dashboard_queries.due_span(engine),
                      agencies=sorted(((code, words.agency(code)) for code in ctx.plan.file.agencies),
                                      key=lambda pair: pair[1].casefold()),
                      obligations=[(o.id, words.title(o.id)) for o in ctx.plan.obligations],
                      report_year=year if report.year_outside(ctx.plan.years, year) is None else None)

    async def home(request: Request) -> Response:
        who = await viewer(request)
        if isinstance(who, Response):
            return who
        ctx, now = current(), clock()
        lang = who.language
        body = await cached(request, ctx, now, lang, "home",
                            lambda version: home_page(request, ctx, now, lang, version))
        # A filter that cannot be read (a day past 2200, an unknown agency) is left out and said on
        # the page, answered 400: the page shown is not the one asked for.
        refused = view.read_filters(request, ctx.plan, str).problems
        return respond(request, body, 400 if refused else 200)

    async def agency_page(request: Request) -> Response:
        found = await prepared(request)
        if isinstance(found, Response):
            return found
        who, ctx, now, lang, values = found
        words, today = values["words"], values["today"]
        code = request.path_params["code"]
        if ctx.plan.agency(code) is None:
            return page(request, "dashboard-agency", lang, 404, **values, missing=True)

        def load():
            rows = rows_of(ctx, words, agency=code)
            ids = [r.entry.id for r in rows]
            history = dashboard_queries.events(ctx.engine, ids)
            contacts = dashboard_queries.contacts(ctx.engine, code)
            feed = None
            if who.admin:
                key = tokens.load_or_create_key(ctx.settings.secret_key_file)
                token = dashboard_queries.agency_feed_token(ctx.engine, key, code, now)
                feed = f"{ctx.settings.public_base_url()}/feeds/{token}.ics" if token else None
            return rows, history, contacts, feed

        def build() -> str:
            rows, history, contacts, feed = load()
            titles = {r.entry.id: r for r in rows}
            tally = view.Tally()
            for row in rows:
                tally.add(row, today, ctx.calendar)
            counts = {state: sum(r.state == state for r in rows) for state in view.STATES}
            by_year = defaultdict(list)
            for row in rows:
                by_year[row.entry.due.year].append(row)
            agency = ctx.plan.agency(code)
            return render("dashboard-agency", lang, **values, missing=False, code=code, agency=agency,
                          name=words.agency(code), rows=rows, by_year=sorted(by_year.items()), counts=counts, tally=tally,
                          history=history, titles=titles, contacts=contacts, feed=feed, admin=who.admin,
                          action_words=view.ACTION_WORDS, role_words=view.ROLE_WORDS, language_words=view.LANGUAGE_WORDS,
                          zone=ctx.timing.zone)

        return respond(request, await LANES.heavy(build))

    async def submit(request: Request) -> Response:
        if "authorization" not in request.headers:  # the form of the admin's Basic credential; never a prompt
            return auth.to_sign_in(request)
        refusal = await guard.refusal(request)
        if refusal is not None:
            return refusal
        oid = request.path_params["occurrence_id"]
        form = await _read_form(request)
        if isinstance(form, Response):
            return form
        if not _same_origin(request, current().settings.public_base_url()) or not guard.token_ok(oid, form.get("csrf", [""])[0]):
            return Response("the form is stale or came from elsewhere; reload the page\n", status_code=403)
        ctx, now = current(), clock()
        note = form.get("note", [""])[0].strip() or None
        try:
            await run_in_threadpool(answer.operator_submit, ctx, oid, now, note, now, request.client.host if request.client else None)
        except UnknownOccurrence:
            return Response("no such occurrence\n", status_code=404)
        except BadInput as refused:  # closed or cancelled meanwhile, a note too long
            return Response(f"{refused}\n", status_code=409, media_type="text/plain; charset=utf-8")
        return RedirectResponse(f"/occurrences/{oid}", status_code=303)

    async def download(request: Request) -> Response:
        who = await viewer(request)
        if isinstance(who, Response):
            return who
        ctx, now = current(), clock()
        year, fmt = int(request.path_params["year"]), request.path_params["fmt"]
        if fmt not in ("csv", "xlsx", "html"):
            return Response(status_code=404)
        outside = report.year_outside(ctx.plan.years, year)
        if outside:
            return Response(f"no report: the year {outside}\n", status_code=404, media_type="text/plain; charset=utf-8")
        lang = who.language
        today = ctx.timing.local_day(now)
        table = await LANES.heavy(standing.compliance, ctx, year, now, lang)
        meta = ctx.plan.file.plan
        title = getattr(meta, f"title_{lang}", None) or meta.title_kk

        def items() -> list[report.Item]:
            words = view.Words(ctx.plan, lang, today, ctx.timing.zone)
            found = []
            for row in rows_of(ctx, words, first=dt.date(year, 1, 1), last=dt.date(year, 12, 31)):
                late = report.working_days_late(ctx.calendar, row.entry.due, row.submitted_on) \
                    if row.submitted_on and row.submitted_on > row.entry.due else 0
                found.append(report.Item(row.agency_name, row.entry.obligation, row.title, row.entry.period,
                                         row.entry.due, row.state, row.submitted_on, late))
            return found

        body, media = {
            "csv": (lambda: report.as_csv(table, lang=lang), "text/csv; charset=utf-8"),
            "xlsx": (lambda: report.as_xlsx(table, year, items(), title=title, today=today, lang=lang),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "html": (lambda: report.as_html(table, year, title, today, lang=lang), "text/html; charset=utf-8"),
        }[fmt]
        return Response(await LANES.heavy(body), media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="compliance-{year}.{fmt}"'})

    return [
        Route("/", home, methods=["GET"]),
        Route("/agencies/{code}", agency_page, methods=["GET"]),
        Route("/occurrences/{occurrence_id:path}/submit", submit, methods=["POST"]),
        Route("/report/{year:int}.{fmt:str}", download, methods=["GET"]),
    ]
