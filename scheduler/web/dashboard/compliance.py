"""The compliance table of a year as CSV, XLSX or HTML (`/report/<year>.<fmt>`)."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response

import scheduler.web.dashboard.view as view
from scheduler import report
from scheduler.app import standing
from scheduler.web.dashboard.common import rows_of, viewer
from scheduler.web.deps import auth_of
from scheduler.web.lanes import LANES


async def download(request: Request) -> Response:
    auth = auth_of(request)
    who = await viewer(request)
    if isinstance(who, Response):
        return who
    ctx, now = auth.current(), auth.clock()
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
