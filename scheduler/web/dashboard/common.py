"""What the dashboard's pages share: who may read them, the values every page shows, rendering and
answering (gzipped once for a kept page), and the pages kept per data version."""

from __future__ import annotations

import datetime as dt
import gzip
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

import scheduler.web.dashboard.figures as figures
import scheduler.web.dashboard.view as view
from scheduler import templating
from scheduler.answers.machine import ADMIN
from scheduler.app import dashboard_queries
from scheduler.app.context import Context
from scheduler.store.ledger import aware
from scheduler.web.deps import auth_of
from scheduler.web.lanes import LANES, Coalesced, Flights


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


@dataclass
class PageCache:
    """The dashboard's pages being built and their data's version, per context (a reload makes a new
    one), and the year's figures, whatever their language and list page: one per application."""

    flights: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)
    versions: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)
    figures: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Viewer:
    """Who reads the dashboard: the admin by HTTP Basic, or a signed-in member of the secretariat."""

    name: str
    admin: bool
    language: str = "kk"  # the contract's order: ?lang=, the cookie, her own language, the browser's


async def viewer(request: Request) -> Viewer | Response:
    """Staff signed in (or the admin's Basic credential, for scripts); a person who is not
    staff: 403 in her language with the way to her own page; nobody: the sign-in page."""
    auth = auth_of(request)
    found = await auth.visitor(request)
    if isinstance(found, Response):
        return found
    if not found.person.reads_dashboard:  # the coordinator's focal points read it too, never act
        return auth.refusal(request, 403, "staff_only", found.language, back="/my", back_key="to_my_page",
                            person=found.person, csrf_out=auth.token(found, "sign-out") if found.session else None)
    return Viewer(found.person.email, found.person.staff_role == ADMIN, found.language)


def context(request: Request, ctx: Context, now: dt.datetime, lang: str) -> dict:
    auth = auth_of(request)
    meta = ctx.plan.file.plan
    today = ctx.timing.local_day(now)
    words = view.Words(ctx.plan, lang, today, ctx.timing.zone)
    kept = {k: v for k, v in request.query_params.items() if k != "lang"}
    return {
        "lang": lang, "words": words, "today": today, "plan": meta,
        "heading": getattr(meta, f"title_{lang}", None) or meta.title_kk,
        "translation": ctx.plan.translation_status(lang),
        "languages": [(code, name, "?" + urlencode({**kept, "lang": code})) for code, name in view.LANGUAGE_NAMES],
        "replay": auth.replay, "replayed_at": now.astimezone(ctx.timing.zone),
        "state_words": view.STATE_WORDS, "icons": view.STATE_ICONS, "states": view.STATES,
        "percent": lambda value: figures.percent(value, lang), "zone_name": str(ctx.timing.zone),
        "first_of": lambda year, month: dt.date(year, month, 1), "last_of": view.last_of_month, "aware": aware,
    }


def page(request: Request, template: str, language: str, status: int = 200, **values) -> HTMLResponse:
    return respond(request, render(template, language, **values), status)


def render(template: str, language: str, **values) -> str:
    return templating.environment(language).get_template(f"web/{template}.html.j2").render(**values)


def respond(request: Request, body: str | Built, status: int = 200) -> HTMLResponse:
    auth = auth_of(request)
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
                            samesite="lax", secure=auth.current().settings.public_base_url().lower().startswith("https://"))
    return response


def rows_of(ctx: Context, words: view.Words, **selection) -> list[view.Row]:
    return [words.row(e) for e in dashboard_queries.entries(ctx.engine, **selection)]


async def prepared(request: Request):
    """(who, ctx, now, lang, the pages' common values) for a visitor who may see the
    dashboard; otherwise the answer to give."""
    auth = auth_of(request)
    who = await viewer(request)
    if isinstance(who, Response):
        return who
    ctx, now = auth.current(), auth.clock()
    lang = who.language
    return who, ctx, now, lang, context(request, ctx, now, lang)


def figures_of(cache: PageCache, ctx: Context, version: tuple, today: dt.date, year: int, selection: dict, words: view.Words):
    """The year's figures for this data version: computed once for every language and every page
    of the list."""
    key = (id(ctx), version, today, year, selection.get("agency"), selection.get("obligation"))
    with cache.lock:
        found = cache.figures.get(key)
        if found is not None:
            cache.figures.move_to_end(key)
            return found
    found = figures.year_figures(ctx.engine, year, today, ctx.calendar, words, **selection)
    with cache.lock:
        cache.figures[key] = found
        while len(cache.figures) > 16:
            cache.figures.popitem(last=False)
    return found


async def cached(request: Request, ctx: Context, now: dt.datetime, lang: str, name: str,
                 build: Callable[[tuple], str]) -> Built:
    """The page `build` renders (in the heavy lane) for the data's version, computed once for
    every request that asks for the same page at once, and kept for the next ones."""
    auth = auth_of(request)
    cache = request.app.state.pages
    reads = cache.versions.get(ctx)
    if reads is None:
        reads = cache.versions[ctx] = Coalesced()
    version = await reads.get(lambda: LANES.light(dashboard_queries.data_version, ctx.engine))
    shown = (ctx.timing.local_day(now), now.replace(second=0, microsecond=0) if auth.replay else None)
    key = (name, lang, tuple(sorted(request.query_params.multi_items())), shown, version)
    mine = cache.flights.get(ctx)
    if mine is None:
        mine = cache.flights[ctx] = Flights()
    return await mine.get(key, lambda: LANES.heavy(lambda: Built.of(build(version))))
