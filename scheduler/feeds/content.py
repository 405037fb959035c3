"""What each calendar event says: summary, and a description with form, recipient, plan row and
why the date is what it is."""

from __future__ import annotations

import datetime as dt
import re

from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.feeds.ics import Deadline
from scheduler.i18n import long_date, weekday
from scheduler.plan import Plan

SUMMARY_TITLE_LIMIT = 120

# The country's name inside a body's official name, left out of a short name ("Министерство
# финансов Республики Казахстан" → "Министерство финансов"): the plan abbreviates only in Kazakh.
_COUNTRY = re.compile(r"\s*\b(?:(?:of|in) the Republic of Kazakhstan|Республики Казахстан|в Республике Казахстан)\b")


def short_name(plan: Plan, code: str, day: dt.date, lang: str) -> str:
    """A body's short name in `lang`: the plan's abbreviation in Kazakh (Қаржымині, ІІМ), the
    official name without the country's in Russian and English (Министерство финансов)."""
    if lang == "kk":
        return plan.display_name(code, day, "kk", short=True)
    name = plan.display_name(code, day, lang)
    shorter = " ".join(_COUNTRY.sub(" ", name).split())
    return shorter or name


def date_explanation(plan: Plan, calendar: WorkdayCalendar, obligation_id: str, nominal: dt.date, due: dt.date) -> str:
    if due == nominal:
        return f"Due {long_date(due, 'en')} ({weekday(due, 'en')})."
    obligation = plan.obligation(obligation_id)
    direction = plan.shift_of(obligation) if obligation else plan.policy.shift
    reason = calendar.day_off_reason(nominal) or "a day off"
    return (
        f"Due {long_date(due, 'en')} ({weekday(due, 'en')}): the nominal date {long_date(nominal, 'en')} "
        f"({weekday(nominal, 'en')}) is not a working day ({reason}), so it moves to the {direction} working day."
    )


def deadline(
    plan: Plan,
    calendar: WorkdayCalendar,
    *,
    occurrence_id: str,
    obligation_id: str,
    agency: str,
    nominal: dt.date,
    due: dt.date,
    recipient: str | None,
    sequence: int = 0,
    last_modified: dt.datetime | None = None,
    cancelled: bool = False,
    submitted: bool = False,
) -> Deadline:
    obligation = plan.obligation(obligation_id)
    title = obligation.title_kk if obligation else obligation_id
    short = title if len(title) <= SUMMARY_TITLE_LIMIT else title[: SUMMARY_TITLE_LIMIT - 1].rstrip() + "…"
    agency_name = plan.display_name(agency, nominal, "kk", short=True) if plan.agency(agency) else agency
    lines = [f"{obligation_id}. {title}"]
    if obligation and obligation.title_en:
        lines.append(obligation.title_en)
    if obligation and obligation.form_kk:
        lines.append(f"Аяқталу нысаны / Form: {obligation.form_kk}")
    if recipient:
        lines.append(f"Кімге / To: {plan.display_name(recipient, nominal, 'kk')}")
    row = f"Plan {plan.file.plan.id}, row {obligation_id}"
    if obligation and obligation.section:
        row += f", section {obligation.section}"
    lines.append(row)
    lines.append(date_explanation(plan, calendar, obligation_id, nominal, due))
    lines.append(f"Occurrence {occurrence_id}")
    return Deadline(
        occurrence_id=occurrence_id,
        due=due,
        summary=f"{agency_name}: {obligation_id}. {short}",
        description="\n".join(lines),
        sequence=sequence,
        last_modified=last_modified,
        cancelled=cancelled,
        submitted=submitted,
    )


def plan_stamp(plan: Plan) -> dt.datetime:
    """The plan's own last change (its newest amendment, else its adoption), as a stable DTSTAMP."""
    dates = [plan.file.plan.adopted, *(a.date for a in plan.file.plan.amendments)]
    return dt.datetime.combine(max(dates), dt.time(), tzinfo=dt.timezone.utc)
