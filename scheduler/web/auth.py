"""Who is asking: a browser signed in by a personal link (a server-side session), or the admin's
HTTP Basic credential; and the personal link's landing, sign-out, the pages' language and their
form tokens.

`GET /l/<token>` checks the link (altered: 403; expired or revoked: 410; the page says only that),
opens a session for its person and redirects to `/my`, so the token leaves the address bar and is
never sent on as a Referer (`open_session`, shared with the one-time links of web/signin.py). The
session cookie is `HttpOnly`, `SameSite=Lax`, and `Secure` with the `__Host-` prefix when
SCHEDULER_BASE_URL is https. A page's language: `?lang=` (remembered in a
cookie), the cookie, the person's language in the contacts, the browser's Accept-Language, Kazakh.
Forms carry an HMAC token bound to the session and to what the form does (the dashboard's key), and
a cross-site Origin is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from jinja2 import Environment, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from scheduler.app import links, people, sessions
from scheduler.i18n import long_date
from scheduler.service import Service
from scheduler.store.ledger import aware
from scheduler.templating import SiteLoader
from scheduler.web.words import ACTIONS, LANGUAGES, STATES, WORDS

COOKIE = "scheduler_session"
SECURE_COOKIE = "__Host-scheduler_session"  # the prefix: only over https, for this host, path /
LANGUAGE_COOKIE = "lang"

env = Environment(loader=SiteLoader(), autoescape=select_autoescape(["j2"]))
env.filters["long_date"] = long_date
env.filters["size"] = lambda size: f"{size} B" if size < 1024 else f"{size / 1024:.0f} KB" if size < 1 << 20 else f"{size / 2**20:.1f} MB"
env.filters["local_day"] = lambda moment, service: service.timing.local_day(aware(moment))
env.filters["local_time"] = lambda moment, service: aware(moment).astimezone(service.timing.zone).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Visitor:
    person: people.Person
    session: str | None  # the session id's hash; None for the admin's Basic credential
    language: str


def https(service: Service) -> bool:
    return service.settings.public_base_url().lower().startswith("https://")


class Auth:
    def __init__(self, current: Callable[[], Service], clock: Callable[[], dt.datetime], guard):
        self.current, self.clock, self.guard = current, clock, guard

    # --- pages --------------------------------------------------------------------------------

    def page(self, name: str, lang: str, status: int = 200, request: Request | None = None, **context) -> HTMLResponse:
        """A page in `lang`. Referrer-Policy same-origin, not the app's no-referrer: under that a
        browser posts a page's forms with `Origin: null`, which the Origin check must refuse."""
        meta = self.current().plan.file.plan
        heading = getattr(meta, f"title_{lang}", None) or meta.title_kk
        response = HTMLResponse(env.get_template(f"web/{name}.html.j2").render(
            lang=lang, w=WORDS[lang], states=STATES[lang], actions=ACTIONS[lang], heading=heading, **context),
            status_code=status, headers={"Referrer-Policy": "same-origin"})
        if request is not None and request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, request.query_params["lang"], max_age=365 * 86400, path="/",
                                samesite="lax", secure=https(self.current()))
        return response

    def message(self, request: Request, status: int, key: str, lang: str | None = None, clear: bool = False) -> Response:
        lang = lang or self.language(request, None)
        service = self.current()
        response = self.page("message", lang, status, text=WORDS[lang][key], plan=service.plan.file.plan,
                             offer_sign_in=key in ("sign_in", "link_gone"))
        if clear:
            response.delete_cookie(self.cookie_name(service), path="/", secure=https(service), httponly=True,
                                   samesite="lax")
        return response

    def refusal(self, request: Request, status: int, key: str, lang: str, *, detail: str | None = None,
                back: str | None = None, back_key: str = "back_to_page") -> Response:
        """The message page for a refused request, in `lang`, with the same status: the words under
        `key`, the reason given (`detail`, e.g. a refused decision's) and a link back to `back`."""
        service = self.current()
        return self.page("message", lang, status, text=WORDS[lang][key], detail=detail, back=back,
                         back_label=WORDS[lang][back_key] if back else None, plan=service.plan.file.plan)

    def language(self, request: Request, person: people.Person | None, default: str = "kk") -> str:
        for given in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE),
                      person.language if person else None):
            if given in LANGUAGES:
                return given
        for part in request.headers.get("accept-language", "").split(","):
            tag = part.split(";")[0].strip().lower()[:2]
            if tag in LANGUAGES:
                return tag
        return default

    @staticmethod
    def page_words(visitor: Visitor, key: str) -> str:
        return WORDS[visitor.language][key]

    def cookie_name(self, service: Service) -> str:
        return SECURE_COOKIE if https(service) else COOKIE

    # --- who is asking --------------------------------------------------------------------------

    async def visitor(self, request: Request, *, challenge: bool = True) -> Visitor | Response:
        """The signed-in person, or the answer to give. `challenge`: without a session, ask for the
        admin's Basic credential (the dashboard's pages); otherwise say to open the personal link."""
        service, now = self.current(), self.clock()
        cookie = request.cookies.get(self.cookie_name(service))
        if cookie:
            idle = dt.timedelta(minutes=service.settings.session_idle_minutes)
            row = await run_in_threadpool(sessions.find, service.engine, cookie, now, idle)
            person = await run_in_threadpool(people.who, service.engine, row.email) if row is not None else None
            if person is not None:
                return Visitor(person, row.id_hash, self.language(request, person))
            if "authorization" not in request.headers:
                return self.message(request, 401, "sign_in", clear=True)
        if not challenge and "authorization" not in request.headers:
            return self.message(request, 401, "sign_in")
        refusal = self.guard.refusal(request)
        if refusal is not None:
            return refusal
        return Visitor(people.admin(self.guard.credential[0]), None, self.language(request, None, default="en"))

    def token(self, visitor: Visitor, purpose: str) -> str:
        return self.guard.token(purpose, visitor.session or "")

    def token_ok(self, request: Request, visitor: Visitor, purpose: str, given: str | None) -> bool:
        from scheduler.web.dashboard import _same_origin

        return _same_origin(request, self.current().settings.public_base_url()) and \
            self.guard.token_ok(purpose, given or "", visitor.session or "")

    async def open_session(self, request: Request, email: str) -> Response:
        """Sign the browser in as `email` (a good personal or one-time link): a new session, its
        cookie, and a redirect to her page, so the link leaves the address bar. Someone who is no
        longer a contact or an enabled user gets 410: the link is good for nothing."""
        service, now = self.current(), self.clock()
        person = await run_in_threadpool(people.who, service.engine, email)
        if person is None:
            return self.message(request, 410, "link_gone")
        lasts = dt.timedelta(hours=service.settings.session_hours)
        client = request.client.host if request.client else None
        token = await run_in_threadpool(sessions.open_session, service.engine, person.email, now, lasts, client)
        response = RedirectResponse("/review" if person.staff and not person.roles else "/my", status_code=303)
        response.set_cookie(self.cookie_name(service), token, max_age=int(lasts.total_seconds()), path="/",
                            secure=https(service), httponly=True, samesite="lax")
        return response

    # --- routes ---------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        async def landing(request: Request) -> Response:
            service, now = self.current(), self.clock()
            valid = dt.timedelta(days=service.settings.link_days)
            try:
                claim = await run_in_threadpool(links.check, service.engine, service.link_key(),
                                                request.path_params["token"], now, valid)
            except links.LinkRefused as refused:
                return self.message(request, refused.status, "link_altered" if refused.status == 403 else "link_gone")
            return await self.open_session(request, claim.email)

        async def sign_out(request: Request) -> Response:
            visitor = await self.visitor(request, challenge=False)
            if isinstance(visitor, Response):
                return visitor
            from scheduler.web.dashboard import _read_form

            form = await _read_form(request)
            if isinstance(form, Response):
                return form
            if not self.token_ok(request, visitor, "sign-out", form.get("csrf", [""])[0]):
                return self.message(request, 403, "stale", visitor.language)
            cookie = request.cookies.get(self.cookie_name(self.current()))
            if cookie:
                await run_in_threadpool(sessions.close, self.current().engine, cookie, self.clock())
            return self.message(request, 200, "signed_out", visitor.language, clear=True)

        return [
            Route(links.PATH + "{token}", landing, methods=["GET"]),
            Route("/signout", sign_out, methods=["POST"]),
        ]
