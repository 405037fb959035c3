"""What each calendar event says, in the reader's language: summary (the body's short name, the row,
its title), and a description with form, recipient, plan row and why the date is what it is."""

from __future__ import annotations

import datetime as dt
import functools
import re

from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.feeds.ics import Deadline
from scheduler.i18n import long_date, weekday
from scheduler.plan import Plan
from scheduler.plan.dating import own_report
from scheduler.templating import translations

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


@functools.cache
def _calendar_in(country: str, lang: str) -> WorkdayCalendar:
    """A calendar whose holidays are named in `lang` (the reasons a date moved)."""
    return WorkdayCalendar(country, lang)


def date_explanation(plan: Plan, calendar: WorkdayCalendar, obligation_id: str, nominal: dt.date, due: dt.date,
                     lang: str = "en") -> str:
    _ = translations(lang, "email").gettext
    if due == nominal:
        return _("Due %(date)s (%(weekday)s).") % {"date": long_date(due, lang), "weekday": weekday(due, lang)}
    obligation = plan.obligation(obligation_id)
    direction = plan.shift_of(obligation) if obligation else plan.policy.shift
    reason = _calendar_in(plan.policy.holidays, lang).day_off_reason(nominal) if lang != "en" else calendar.day_off_reason(nominal)
    reason = _("a weekend") if reason in (None, "weekend") else reason
    words = {"date": long_date(due, lang), "weekday": weekday(due, lang), "nominal": long_date(nominal, lang),
             "nominal_weekday": weekday(nominal, lang), "reason": reason}
    if direction == "previous":
        return _("Due %(date)s (%(weekday)s): the nominal date %(nominal)s (%(nominal_weekday)s) is not a working day "
                 "(%(reason)s), so it moves to the previous working day.") % words
    return _("Due %(date)s (%(weekday)s): the nominal date %(nominal)s (%(nominal_weekday)s) is not a working day "
             "(%(reason)s), so it moves to the next working day.") % words


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
    lang: str = "kk",
) -> Deadline:
    """One event in `lang`: the body's short name, the row and its title in the summary; the form,
    whom it goes to, the plan's row and why the date is what it is in the description."""
    _ = translations(lang, "email").gettext
    obligation = plan.obligation(obligation_id)
    title = (getattr(obligation, f"title_{lang}", None) or obligation.title_kk) if obligation else obligation_id
    title = title.rstrip(" ;")
    short = title if len(title) <= SUMMARY_TITLE_LIMIT else title[: SUMMARY_TITLE_LIMIT - 1].rstrip() + "…"
    agency_name = short_name(plan, agency, nominal, lang) if plan.agency(agency) else agency
    lines = [f"{obligation_id}. {title}"]
    if plan.agency(agency):
        lines.append(f"{_('Body')}: {plan.display_name(agency, nominal, lang)}")
    form = (getattr(obligation, f"form_{lang}", None) or obligation.form_kk) if obligation else None
    if form:
        lines.append(f"{_('Form')}: {form}")
    if recipient:
        lines.append(f"{_('To')}: {plan.display_name(recipient, nominal, lang)}")
    elif own_report(plan, obligation_id, agency, nominal):
        own_words = _("nobody: this is the body's own information, for the consolidated report it compiles itself")
        lines.append(f"{_('To')}: {own_words}")
    own = plan.plan_of(obligation_id).file.plan
    row = _("Plan %(plan)s, row %(row)s") % {"plan": own.id, "row": obligation_id.rpartition("/")[2]}
    if obligation and obligation.section:
        row += ", " + _("section %(section)s") % {"section": obligation.section}
    lines.append(row)
    lines.append(date_explanation(plan, calendar, obligation_id, nominal, due, lang))
    if lang != "kk" and own.translation_status(lang) == "working":
        lines.append(_("The plan's text in this language is a working translation, not the official text."))
    lines.append(occurrence_id)
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
    dates = [d for p in plan.plans for d in (p.file.plan.adopted, *(a.date for a in p.file.plan.amendments))]
    return dt.datetime.combine(max(dates), dt.time(), tzinfo=dt.timezone.utc)
