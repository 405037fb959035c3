"""The consolidated implementation report (`/reports/consolidated`), DOCX or XLSX, for a year or the
whole plan."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from scheduler import bounds
from scheduler import report as compliance
from scheduler.app import reports
from scheduler.web.deps import auth_of
from scheduler.web.review.common import REPORT_TYPES, staff_visitor


async def consolidated(request: Request) -> Response:
    visitor = await staff_visitor(request)
    if isinstance(visitor, Response):
        return visitor
    auth = auth_of(request)
    ctx, now = auth.current(), auth.clock()
    given = request.query_params
    span, lang, fmt = given.get("year", ""), given.get("lang", "kk"), given.get("format", "docx")
    year = bounds.number(span, 1000, 9999) if len(span) == 4 else None
    if lang not in ("kk", "ru") or fmt not in REPORT_TYPES or (span != "all" and year is None) or \
            (year is not None and compliance.year_outside(ctx.plan.years, year)):
        return auth.refusal(request, 404, "no_report", visitor.language)

    plan_id = given.get("plan") or None
    if plan_id is not None and plan_id not in {p.file.plan.id for p in ctx.plan.plans}:
        return auth.refusal(request, 404, "no_report", visitor.language)

    def build() -> bytes:
        made = reports.consolidated(ctx.engine, ctx.plan, ctx.timing.zone, lang=lang, year=year,
                                    today=ctx.timing.local_day(now), plan_id=plan_id)
        return reports.write(made, fmt)

    body = await run_in_threadpool(build)
    name = f"consolidated-{plan_id + '-' if plan_id else ''}{span}-{lang}.{fmt}"
    return Response(body, media_type=REPORT_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"})
