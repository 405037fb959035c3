"""What emails say of a deadline and of their sender, from the plan and the settings alone: a
deadline as emails list it (`item`), why its reader gets it (`role_of`), and the letterhead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.feeds import content
from scheduler.notify import compose
from scheduler.notify.ladder import Directory, Person, Timing
from scheduler.plan import GOVERNMENT, Plan
from scheduler.plan.dating import own_report
from scheduler.settings import Settings


class Sources(Protocol):
    """What the letterhead is made of (the use cases' context has it)."""

    settings: Settings
    plan: Plan
    timing: Timing


def period_named(plan: Plan, obligation_id: str, period: str, agency: str | None = None) -> dict:
    """An item's period: its label, whether the row is an event, and a partial first period (for `Item`)."""
    from scheduler.calendar.periods import period_info

    info = period_info(plan, obligation_id, period, agency)
    if info is None:
        return {}
    return {"period": info.label, "event": info.event, "opens": info.start, "partial_from": info.partial_from}


def plan_named(plan: Plan, obligation_id: str, language: str) -> dict:
    """With several plans loaded: an item's plan's title and its place among them (for `compose.Item`)."""
    if not plan.members:
        return {}
    own = plan.plan_of(obligation_id)
    meta = own.file.plan
    return {"plan": getattr(meta, f"title_{language}", None) or meta.title_kk, "plan_rank": plan.members.index(own)}


def _heading(plan: Plan, obligation, language: str) -> str | None:
    if obligation is None or not obligation.under:
        return None
    parent = next((h for h in plan.file.headings if h.id == obligation.under), None)
    if parent is None:
        return None
    return f"{parent.id}. " + (getattr(parent, f"title_{language}", None) or parent.title_kk)


def item(plan: Plan, row, language: str, focal: Sequence[Person] = ()) -> compose.Item:
    """A deadline (an occurrence's row) as emails list it; `focal`: its body's focal points (named
    for its heads)."""
    obligation = plan.obligation(row.obligation)
    pick = lambda name: (getattr(obligation, f"{name}_{language}", None) or getattr(obligation, f"{name}_kk")) if obligation else None  # noqa: E731
    recipient = None
    if row.recipient == GOVERNMENT or (row.recipient and plan.agency(row.recipient)):
        recipient = plan.display_name(row.recipient, row.nominal_due, language)
    agency = plan.agency(row.agency)
    return compose.Item(
        occurrence_id=row.id,
        obligation=row.obligation,
        agency_name=plan.display_name(row.agency, row.nominal_due, language) if agency else row.agency,
        title=(pick("title") or row.title_kk).rstrip(" ;"),
        form=pick("form"),
        due=row.due,
        recipient_name=recipient,
        own_report=row.recipient is None and own_report(plan, row.obligation, row.agency, row.nominal_due),
        sequence=row.sequence,
        heading=_heading(plan, obligation, language),
        by_agreement=bool(agency and agency.by_agreement),
        agency_short=content.short_name(plan, row.agency, row.nominal_due, language) if agency else None,
        focal=tuple(", ".join(filter(None, (p.name, p.email, getattr(p, "phone", None)))) for p in focal),
        **plan_named(plan, row.obligation, language),
        **period_named(plan, row.obligation, row.period, row.agency),
    )


def role_of(plan: Plan, first, rows: Sequence, directory: Directory, memo: dict) -> str:
    """Why this person gets a step's email (`first`: the first ledger row of its group): as the
    agency's focal point, supervisor or head; as a focal point of the body the information is owed
    to ("recipient"); or as the coordinator standing in for the head of a body by agreement
    ("coordinator"). `memo` keeps a body's people in a role (a tick's)."""
    owing = {row.agency for row in rows}
    if first.agency is not None and first.agency not in owing:
        by_agreement = all(getattr(plan.agency(a), "by_agreement", False) for a in owing)
        coordinator = directory.coordinator_on(first.due, first.occurrence_id)
        if by_agreement and first.agency == coordinator and first.step.startswith("escalation") and \
                all(row.recipient != first.agency and plan.recipient_on(row.recipient, row.nominal_due) != first.agency
                    for row in rows):
            return "coordinator"
        return "recipient"
    address = first.recipient.lower()
    for role in ("focal", "supervisor", "head"):
        key = ("people", first.agency, role)
        if key not in memo:
            memo[key] = frozenset(p.email.lower() for p in directory.people(first.agency, role))
        if address in memo[key]:
            return role
    return "focal"


def working_days_between(calendar: WorkdayCalendar, earlier: dt.date, later: dt.date) -> int:
    """Working days after `earlier` up to and including `later`, by the plan's calendar."""
    return sum(calendar.is_working_day(earlier + dt.timedelta(days=n)) for n in range(1, (later - earlier).days + 1))


def sender_name(ctx: Sources, language: str, now: dt.datetime) -> str:
    """From's display name: SCHEDULER_MAIL_FROM_NAME, else the plan's coordinator (the
    commission's working body) named in the reader's language, as it is called at `now`."""
    if ctx.settings.mail_from_name:
        return ctx.settings.mail_from_name
    plan = ctx.plan
    coordinator = plan.file.plan.coordinator
    if not coordinator:
        return ""
    office = plan.file.offices.get(coordinator)
    if office is not None:
        name = getattr(office, f"name_{language}", None) or office.name_kk
    elif plan.agency(coordinator):
        name = plan.display_name(coordinator, ctx.timing.local_day(now), language)
    else:
        return ""
    return name[:1].upper() + name[1:]


def letterhead(ctx: Sources, language: str, now: dt.datetime, feed_url: str | None = None,
               personal: tuple[str, dt.date] | None = None) -> compose.Letterhead:
    """The sender, the plan's title and the links every email of `language` carries."""
    settings, plan = ctx.settings, ctx.plan
    title = "; ".join(getattr(p.file.plan, f"title_{language}", None) or p.file.plan.title_kk for p in plan.plans)
    return compose.Letterhead(settings.mail_from, title, settings.public_base_url(), feed_url,
                              *(personal or (None, None)), sender_name=sender_name(ctx, language, now),
                              reply_to=settings.reply_to,
                              translation=plan.translation_status(language) if language != "kk" else None)
