"""Who is asking: a browser signed in by a personal link (a server-side session), or the admin's
HTTP Basic credential; and the personal link's landing, sign-out, the pages' language and their
form tokens. A page that needs a session, opened without one, sends the browser to the sign-in
page (303 to `/signin?next=<the path and query>`), never to an HTTP Basic prompt; a script's
`Authorization: Basic` is checked (SCHEDULER_ADMIN_PASSWORD set), and a wrong one is 401. Signed
in (a personal link, a one-time link), the browser lands on `next` when it is a path of this site.
Sessions and one-time links expire by the wall clock (`Auth.wall`), also under `run --clock`.

`GET /l/<token>` checks the link (altered: 403; expired or revoked: 410; the page says only that),
opens a session for its person and redirects to `/my` (`?items=<id>,<id>`, an email's deadlines:
to `/my?items=…`, the page opened on them; `?next=`, a page of this site: there), so the token
leaves the address bar and is never sent on as a Referer (`open_session`, shared with the one-time links of web/signin.py). The
session cookie is `HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix when
SCHEDULER_BASE_URL is https. A page's language (`language`): `?lang=` (remembered in a
cookie), the cookie, the browser's Accept-Language (by its weights), the person's language in the
contacts when the browser names none of ours, the plan's default (Kazakh). Pages are rendered by
`scheduler.templating.environment(lang)` with the `web` gettext catalog; dates and times in the
plan's zone, in the official style of the page's language.
Forms carry an HMAC token bound to the session and to what the form does (the dashboard's key), and
a cross-site Origin is refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, pass_context
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from scheduler import templating
from scheduler.app import links, people, sessions
from scheduler.i18n import accepted_languages, long_date
from scheduler.app.context import Context
from scheduler.store.ledger import aware
from scheduler.web import words
from scheduler.web.words import LANGUAGES, MESSAGES

COOKIE = "scheduler_session"
SECURE_COOKIE = "__Host-scheduler_session"  # the prefix: only over https, for this host, path /
LANGUAGE_COOKIE = "lang"
SIGN_IN = "/signin"
# Where `next` may not lead: the links and forms that sign in or out (a loop, or a used-up link).
NOT_NEXT = ("/signin", "/signout", "/s/", "/l/")


def safe_next(value: str | None) -> str | None:
    """`value` when it is a path of this site (a local path and its query: no scheme, no host, no
    `//` or backslash, no control characters) that does not sign in or out; None otherwise. Where a
    sign-in may send the browser afterwards, so that it is never sent to another site."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    if any(parts.path == gone.rstrip("/") or parts.path.startswith(gone) for gone in NOT_NEXT):
        return None
    return value


FOCUS_ID = re.compile(r"[A-Za-z0-9._/-]+(:[A-Za-z0-9._-]+){2}")  # an occurrence id, as links carry it
FOCUS_MAX = 100


def focus_ids(value: str | None) -> list[str]:
    """The occurrence ids an email's link names (`items=<id>,<id>`), in its order, each once; what
    is not an occurrence id is left out (the page shows what its reader may see of the rest)."""
    found = [part.strip() for part in (value or "")[:8000].split(",")]
    return list(dict.fromkeys(part for part in found if len(part) <= 200 and FOCUS_ID.fullmatch(part)))[:FOCUS_MAX]


def focus_path(value: str | None) -> str | None:
    """Where a personal link with `items=` lands: her page opened on those deadlines."""
    ids = focus_ids(value)
    return "/my?items=" + ",".join(ids) if ids else None


def here(request: Request) -> str:
    """The path and query a request asked for, as `next` carries it."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")

def _as_moment(value) -> dt.datetime | None:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return aware(value) if isinstance(value, dt.datetime) else None


@functools.cache
def page_environment(lang: str) -> Environment:
    """The templates in `lang` (`scheduler.templating.environment`), with the pages' own filters
    and words: an overlay, so the shared environment is left as it is."""
    shared = templating.environment(lang)
    env = shared.overlay()
    env.filters, env.globals = dict(shared.filters), dict(shared.globals)
    said = templating.translations(lang)

    def day(value) -> str:
        """A date (or an ISO date, or a moment in the page's zone) in the official style."""
        if not value:
            return ""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        if isinstance(value, dt.datetime):
            value = value.date()
        return long_date(value, lang)

    @pass_context
    def moment(context, value) -> str:
        """An instant, in the plan's zone: its day in the official style and HH:MM."""
        found = _as_moment(value)
        if found is None:
            return ""
        local = found.astimezone(context["zone"]) if context.get("zone") else found
        return f"{long_date(local.date(), lang)}, {local:%H:%M}"

    @pass_context
    def local_day(context, value) -> str:
        found = _as_moment(value)
        return long_date(found.astimezone(context["zone"]).date(), lang) if found else ""

    def size(value: int) -> str:
        if value < 1024:
            return said.gettext("%(size)s B") % {"size": value}
        if value < 1 << 20:
            return said.gettext("%(size)s KB") % {"size": f"{value / 1024:.0f}"}
        return said.gettext("%(size)s MB") % {"size": f"{value / 2**20:.1f}"}

    def period(label: str, due: dt.date | None = None) -> str:
        """An occurrence's period in words: a year, a half-year, a quarter, or a one-off's day."""
        if re.fullmatch(r"\d{4}", label):
            return said.gettext("year %(year)s") % {"year": label}
        if found := re.fullmatch(r"(\d{4})-H([12])", label):
            return said.gettext("half-year %(half)s of %(year)s") % {"half": "I" * int(found[2]), "year": found[1]}
        if found := re.fullmatch(r"(\d{4})-Q([1-4])", label):
            return said.gettext("quarter %(quarter)s of %(year)s") % {
                "quarter": ("I", "II", "III", "IV")[int(found[2]) - 1], "year": found[1]}
        try:
            return long_date(dt.date.fromisoformat(label), lang)
        except ValueError:
            return label

    env.filters.update(long_date=long_date, day=day, moment=moment, local_day=local_day, size=size)
    env.globals.update(
        lang=lang, period=period, language_names=words.LANGUAGE_NAMES, state_icons=words.STATE_ICONS,
        state_word=lambda state: words.say(said, words.STATES.get(state), state or ""),
        action_word=lambda action: words.say(said, words.ACTIONS.get(action), action or ""),
        step_word=lambda step: words.say(said, words.STEPS.get(step, words.STEP_OTHER)),
        delivery_word=lambda state: words.say(said, words.DELIVERY.get(state), state or ""))
    return env


@dataclass(frozen=True)
class Visitor:
    person: people.Person
    session: str | None  # the session id's hash; None for the admin's Basic credential
    language: str


def https(ctx: Context) -> bool:
    return ctx.settings.public_base_url().lower().startswith("https://")


class Auth:
    def __init__(self, current: Callable[[], Context], clock: Callable[[], dt.datetime], guard, *,
                 wall: Callable[[], dt.datetime] | None = None, replay: bool = False, speed: float = 1.0):
        """`clock`: the plan's now (replayed under `run --clock`), for what people do and see;
        `wall`: the real time (default: `clock`), which sessions and sign-in links expire by, so a
        replay at speed does not end them within seconds; `replay`: every page says so; `speed`:
        how much faster than the wall clock `clock` runs (a replay's), by which a personal link's
        span, minted on the replayed clock, is stretched: it lasts its real days too."""
        self.current, self.clock, self.guard = current, clock, guard
        self.wall, self.replay, self.speed = wall or clock, replay, max(1.0, speed)

    # --- pages --------------------------------------------------------------------------------

    def page(self, name: str, lang: str, status: int = 200, request: Request | None = None, **context) -> HTMLResponse:
        """A page in `lang`. Referrer-Policy same-origin, not the app's no-referrer: under that a
        browser posts a page's forms with `Origin: null`, which the Origin check must refuse."""
        ctx = self.current()
        meta = context.get("plan") or ctx.plan.file.plan  # a row's page: its own plan's
        heading = getattr(meta, f"title_{lang}", None) or meta.title_kk
        working = lang != "kk" and meta.translation_status(lang) == "working"
        context.setdefault("zone", ctx.timing.zone)
        if self.replay:  # the banner of base.html.j2, as the dashboard's
            context.setdefault("replayed_at", self.clock().astimezone(ctx.timing.zone))
        response = HTMLResponse(page_environment(lang).get_template(f"web/{name}.html.j2").render(
            lang=lang, heading=heading, working_translation=working, replay=self.replay, **context),
            status_code=status, headers={"Referrer-Policy": "same-origin"})
        if request is not None and request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, request.query_params["lang"], max_age=365 * 86400, path="/",
                                samesite="lax", secure=https(self.current()))
        return response

    @staticmethod
    def words(lang: str, key: str, **given) -> str:
        """The message under `key` (web/words.py) in `lang`, with the values it names."""
        said = templating.translations(lang).gettext(MESSAGES[key])
        return said % given if given else said

    def message(self, request: Request, status: int, key: str, lang: str | None = None, clear: bool = False) -> Response:
        lang = lang or self.language(request, None)
        ctx = self.current()
        response = self.page("message", lang, status, request, text=self.words(lang, key), plan=ctx.plan.file.plan,
                             offer_sign_in=key in ("sign_in", "link_gone"))
        if clear:
            response.delete_cookie(self.cookie_name(ctx), path="/", secure=https(ctx), httponly=True,
                                   samesite="lax")
        return response

    def refusal(self, request: Request, status: int, key: str, lang: str, *, detail: str | None = None,
                back: str | None = None, back_key: str = "back_to_page", **context) -> Response:
        """The message page for a refused request, in `lang`, with the same status: the words under
        `key`, the reason given (`detail`, e.g. a refused decision's) and a link back to `back`;
        `context`: more for the page (`person`, `csrf_out`: who is signed in, in the header)."""
        ctx = self.current()
        return self.page("message", lang, status, request, text=self.words(lang, key), detail=detail, back=back,
                         back_label=self.words(lang, back_key) if back else None, plan=ctx.plan.file.plan,
                         **context)

    def language(self, request: Request, person: people.Person | None, default: str = "kk") -> str:
        """The contract's order: `?lang=`, the cookie (set by choosing one), the signed-in person's
        own language (a user's setting, else the contacts file's), Accept-Language, the plan's
        default: a Russian reader with an English browser reads Russian."""
        for given in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
            if given in LANGUAGES:
                return given
        if person is not None and person.language in LANGUAGES:
            return person.language
        browser = accepted_languages(request.headers.get("accept-language", ""))
        if browser:
            return browser[0]
        return default

    @classmethod
    def page_words(cls, visitor: Visitor, key: str, **given) -> str:
        return cls.words(visitor.language, key, **given)

    def cookie_name(self, ctx: Context) -> str:
        return SECURE_COOKIE if https(ctx) else COOKIE

    # --- who is asking --------------------------------------------------------------------------

    def person(self, ctx: Context, email: str) -> people.Person | None:
        """`people.who`, with what the plan lets her read beyond her own bodies on the plan's today
        (the coordinator's focal points: the whole plan; a recipient's: what is owed to it)."""
        scope = people.Scope.of_plan(ctx.plan, ctx.timing.local_day(self.clock()))
        return people.who(ctx.engine, email, scope)

    async def visitor(self, request: Request, *, challenge: bool = True) -> Visitor | Response:
        """The signed-in person, or the answer to give. Without a session a browser is sent to the
        sign-in page (303 to `/signin?next=<here>`), never asked for a Basic credential; a script
        that sends `Authorization: Basic` with the admin's credential (SCHEDULER_ADMIN_PASSWORD set)
        is served as the admin, a wrong one gets 401. (`challenge` is no longer read.)"""
        ctx, now = self.current(), self.wall()
        cookie = request.cookies.get(self.cookie_name(ctx))
        if cookie:
            idle = dt.timedelta(minutes=ctx.settings.session_idle_minutes)
            row = await run_in_threadpool(sessions.find, ctx.engine, cookie, now, idle)
            person = await run_in_threadpool(self.person, ctx, row.email) if row is not None else None
            if person is not None:
                return Visitor(person, row.id_hash, self.language(request, person))
        if "authorization" in request.headers:  # a script's: a wrong or unusable credential is 401
            if self.guard is None or self.guard.credential is None:
                return Response("HTTP Basic is not accepted: no admin credential is set (SCHEDULER_ADMIN_PASSWORD)\n",
                                status_code=401, media_type="text/plain; charset=utf-8")
            refusal = await self.guard.refusal(request)
            if refusal is not None:
                return refusal
            return Visitor(people.admin(self.guard.credential[0]), None, self.language(request, None))
        return self.to_sign_in(request, clear=bool(cookie))

    def to_sign_in(self, request: Request, clear: bool = False) -> Response:
        """303 to the sign-in page, which brings the browser back here (a page asked for; after a
        form's post, back to the page it came from when that is one of ours) in its language.
        `clear`: the session cookie is dropped (it named a session that ended)."""
        given: dict[str, str] = {}
        back = here(request) if request.method in ("GET", "HEAD") else self.came_from(request)
        if safe_next(back):
            given["next"] = back
        if request.query_params.get("lang") in LANGUAGES:
            given["lang"] = request.query_params["lang"]
        response = RedirectResponse(SIGN_IN + (f"?{urlencode(given)}" if given else ""), status_code=303)
        if clear:
            ctx = self.current()
            response.delete_cookie(self.cookie_name(ctx), path="/", secure=https(ctx), httponly=True,
                                   samesite="lax")
        return response

    def came_from(self, request: Request) -> str | None:
        """The path of this site's page a form was posted from (its Referer), if any."""
        referer = urlsplit(request.headers.get("referer", ""))
        public = urlsplit(self.current().settings.public_base_url())
        if not referer.path or referer.netloc.lower() not in (public.netloc.lower(), request.headers.get("host", "").lower()):
            return None
        return referer.path + (f"?{referer.query}" if referer.query else "")

    def token(self, visitor: Visitor, purpose: str) -> str:
        return self.guard.token(purpose, visitor.session or "")

    def token_ok(self, request: Request, visitor: Visitor, purpose: str, given: str | None) -> bool:
        from scheduler.web.guard import same_origin

        return same_origin(request, self.current().settings.public_base_url()) and \
            self.guard.token_ok(purpose, given or "", visitor.session or "")

    async def open_session(self, request: Request, email: str, next_path: str | None = None) -> Response:
        """Sign the browser in as `email` (a good personal or one-time link): a new session, its
        cookie, and a redirect to `next_path` when it is a page of this site (`safe_next`), else
        to her page, so the link leaves the address bar. Someone who is no longer a contact or an
        enabled user gets 410: the link is good for nothing."""
        ctx, now = self.current(), self.wall()
        person = await run_in_threadpool(self.person, ctx, email)
        if person is None:
            return self.message(request, 410, "link_gone")
        lasts = dt.timedelta(hours=ctx.settings.session_hours)
        client = request.client.host if request.client else None
        token = await run_in_threadpool(sessions.open_session, ctx.engine, person.email, now, lasts, client)
        landing = safe_next(next_path) or ("/review" if person.staff and not person.roles else "/my")
        response = RedirectResponse(landing, status_code=303)
        response.set_cookie(self.cookie_name(ctx), token, max_age=int(lasts.total_seconds()), path="/",
                            secure=https(ctx), httponly=True, samesite="lax")
        return response

    # --- routes ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        async def landing(request: Request) -> Response:
            ctx, now = self.current(), self.clock()
            # Minted at the (replayed) time of its email, checked on the same clock: under a replay
            # its span is stretched by the speed, so it expires after its days of real time.
            valid = dt.timedelta(days=ctx.settings.link_days) * self.speed
            try:
                claim = await run_in_threadpool(links.check, ctx.engine, ctx.link_key(),
                                                request.path_params["token"], now, valid)
            except links.LinkRefused as refused:
                return self.message(request, refused.status, "link_altered" if refused.status == 403 else "link_gone")
            return await self.open_session(request, claim.email, request.query_params.get("next") or
                                           focus_path(request.query_params.get("items")))

        async def sign_out(request: Request) -> Response:
            visitor = await self.visitor(request, challenge=False)
            if isinstance(visitor, Response):
                return visitor
            from scheduler.web.guard import read_small_form

            form = await read_small_form(request)
            if isinstance(form, Response):
                return form
            if not self.token_ok(request, visitor, "sign-out", form.get("csrf", [""])[0]):
                return self.message(request, 403, "stale", visitor.language)
            cookie = request.cookies.get(self.cookie_name(self.current()))
            if cookie:
                await run_in_threadpool(sessions.close, self.current().engine, cookie, self.wall())
            return self.message(request, 200, "signed_out", visitor.language, clear=True)

        return [
            Route(links.PATH + "{token}", landing, methods=["GET"]),
            Route("/signout", sign_out, methods=["POST"]),
        ]
