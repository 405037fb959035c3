"""The dashboard's home (`/`): the month's calendar, the list found by the filters, who is late
within them, and the year's figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from starlette.requests import Request
from starlette.responses import Response

import scheduler.web.dashboard.figures as figures
import scheduler.web.dashboard.view as view
from scheduler import report, templating
from scheduler.app import dashboard_queries
from scheduler.app.context import Context
from scheduler.web.dashboard.common import cached, context, figures_of, render, respond, viewer
from scheduler.web.deps import auth_of


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
    year_figures = figures_of(request.app.state.pages, ctx, version, today, year, selection, words)
    late = late_of(engine, filters, listing.search, today, words)
    by_agency, by_month, total = figures.compliance_of(year_figures, words), year_figures.months, year_figures.total
    late_agencies: dict[tuple[str, str], int] = defaultdict(int)
    for code, named_on, count in late:
        if code not in words.placeholders:  # a placeholder is listed, never late
            late_agencies[(code, words.agency(code, named_on or dt.date.max))] += count
    bars, bars_height = figures.agency_bars(by_agency, lang, "")
    years = list(range(ctx.plan.years.start, ctx.plan.years.stop + 1))
    return render("dashboard", lang, **values, filters=filters, first=first, last=last,
                  listed=listing.rows, listed_count=listing.count, page_number=listing.page, pages=listing.pages,
                  page_first=listing.first, page_last=listing.last, groups=listing.groups,
                  shown_month=shown_month, weeks=figures.month_cells_of(shown_month, month),
                  weekdays=words.weekdays(), previous_month=view.add_months(shown_month, -1),
                  next_month=view.add_months(shown_month, 1), years=years, year=year,
                  overdue_count=sum(late_agencies.values()),
                  late_agencies=sorted(late_agencies.items(), key=lambda item: (-item[1], item[0][1].casefold())),
                  by_agency=by_agency, by_month=by_month, total=total, bars=bars, bars_height=bars_height,
                  columns=figures.month_columns(by_month, words, lang), span=dashboard_queries.due_span(engine),
                  agencies=sorted(((code, words.agency(code)) for code in ctx.plan.file.agencies),
                                  key=lambda pair: pair[1].casefold()),
                  obligations=[(o.id, words.title(o.id)) for o in ctx.plan.obligations],
                  report_year=year if report.year_outside(ctx.plan.years, year) is None else None)


async def home(request: Request) -> Response:
    auth = auth_of(request)
    who = await viewer(request)
    if isinstance(who, Response):
        return who
    ctx, now = auth.current(), auth.clock()
    lang = who.language
    body = await cached(request, ctx, now, lang, "home",
                        lambda version: home_page(request, ctx, now, lang, version))
    # A filter that cannot be read (a day past 2200, an unknown agency) is left out and said on
    # the page, answered 400: the page shown is not the one asked for.
    refused = view.read_filters(request, ctx.plan, str).problems
    return respond(request, body, 400 if refused else 200)
