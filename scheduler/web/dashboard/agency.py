"""An agency's page on the dashboard (`/agencies/<code>`): its deadlines by year, their events,
its contacts and (for the admin) its feed."""

from __future__ import annotations

from collections import defaultdict

from starlette.requests import Request
from starlette.responses import Response

import scheduler.web.dashboard.figures as figures
import scheduler.web.dashboard.view as view
from scheduler.app import dashboard_queries
from scheduler.feeds import tokens
from scheduler.web.dashboard.common import page, prepared, render, respond, rows_of
from scheduler.web.lanes import LANES


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
        tally = figures.Tally()
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
