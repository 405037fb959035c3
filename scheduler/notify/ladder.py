"""Which notifications are due at `now`: a pure function of occurrences, contacts, policy and ledger.

For every open occurrence (not submitted, not cancelled) each ladder step has an instant: its day
(calendar days or working days from `due`) at the policy's send time, local time. Of the steps whose
instant has passed and that the ledger has not seen yet, only the latest is sent, and only if it is
at most `catch_up_days` late; the others are recorded as skipped. This keeps a daemon that was down,
or started in the middle of a plan, from mailing history.

The ledger's key is (occurrence, step, recipient, due date): the ladder is planned per due date, so
when a date moves, the steps for the new date go out although the same steps went out for the old
one, and nothing goes out twice for the same date.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.plan.schema import LadderStep, Policy

UTC = dt.timezone.utc
DIGEST = "digest"


class OpenOccurrence(NamedTuple):
    """What planning needs to know of an occurrence (a named tuple: built by the thousand per tick)."""

    id: str
    agency: str
    due: dt.date
    recipient: str | None
    not_before: dt.datetime | None = None  # steps before this instant are already handled


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    name: str
    language: str
    phone: str | None = None  # the contacts file's, when it has one


@dataclass(frozen=True)
class Directory:
    """Contacts by agency and role, and who stands in for heads of bodies not under the Government."""

    contacts: Mapping[tuple[str, str], Sequence[Person]]
    by_agreement: frozenset[str]
    coordinator_on: Callable[..., str | None]
    """(day, occurrence id) → the body holding the coordinator role of the occurrence's plan that
    day (the home plan's without an id)."""
    placeholders: frozenset[str] = frozenset()
    """Parties the plan names with no addressee (`placeholder = true`): nothing is planned for them."""

    def people(self, agency: str | None, role: str) -> Sequence[Person]:
        return self.contacts.get((agency, role), ()) if agency else ()


class Planned(NamedTuple):
    occurrence_id: str
    step: str
    email: str
    name: str
    language: str
    agency: str | None
    due: dt.date  # the due date the step is planned for (a digest: its day)
    scheduled_at: dt.datetime  # UTC
    send: bool
    reason: str | None = None  # why it is skipped


class Timing:
    """Step instants for one policy and calendar; local send time converted to UTC via tzdata."""

    def __init__(self, policy: Policy, calendar: WorkdayCalendar, timezone: str | None = None,
                 coordinator_on: Callable[[dt.date], str | None] | None = None,
                 opens_of: Callable[[str], dt.date | None] | None = None):
        self.policy = policy
        self.calendar = calendar
        self.zone = ZoneInfo(timezone or policy.timezone)
        # The body that holds the plan's coordinator role on a day (its focal points get the digest,
        # and the notices meant for the secretariat when it has no reviewer); None: unknown.
        self.coordinator_on = coordinator_on
        # Steps counted from an event's period start (anchor "period-start") are planned for event
        # occurrences only: `opens_of(occurrence id)` gives the first day of the event's period, None
        # for every other occurrence, whose ladder is the due-date steps alone.
        self.ladder = tuple(s for s in policy.ladder if s.anchor == "due")
        self.period_steps = tuple(s for s in policy.ladder if s.anchor == "period-start")
        self.opens_of = opens_of
        self._instants: dict = {}
        self._moments: dict = {}
        # Plans loaded beside the home one keep their own ladder and send time: their Timing, by
        # the `<plan-id>/` that begins their rows' ids (see `of`).
        self._others: dict[str, Timing] = {}

    def with_plans(self, policies: dict[str, Policy]) -> Timing:
        """This timing, with the policies of further plans by their id prefix (`<plan-id>/`)."""
        self._others = {prefix: Timing(policy, self.calendar, self.zone.key, self.coordinator_on, self.opens_of)
                        for prefix, policy in policies.items()}
        return self

    def of(self, occurrence_id: str) -> Timing:
        """The timing of the plan an occurrence belongs to: this one for the home plan's rows."""
        if self._others:
            prefix, slash, _ = occurrence_id.partition(":")[0].rpartition("/")
            if slash:
                return self._others.get(prefix + "/", self)
        return self

    @classmethod
    def of_plan(cls, plan, calendar: WorkdayCalendar, timezone: str | None = None,
                coordinator_on: Callable[[dt.date], str | None] | None = None) -> Timing:
        """The timing of a loaded plan: the home plan's policy, and each further plan's by its prefix."""
        home = plan.file.plan.id
        from scheduler.calendar.periods import event_opening

        return cls(plan.policy, calendar, timezone, coordinator_on, event_opening(plan)).with_plans(
            {f"{m.file.plan.id}/": m.policy for m in plan.members if m.file.plan.id != home})

    def opens(self, occurrence_id: str) -> dt.date | None:
        """The first day of the event period an occurrence is owed for, when the ladder has steps from it."""
        return self.opens_of(occurrence_id) if self.period_steps and self.opens_of is not None else None

    def step_instants(self, due: dt.date, opens: dt.date | None = None) -> tuple[tuple[dt.datetime, LadderStep], ...]:
        """Each ladder step's instant for a due date (and an event's period start, `opens`), earliest
        first; many occurrences share a due date."""
        key = due if opens is None else (due, opens)
        found = self._instants.get(key)
        if found is None:
            pairs = [(self.instant(self.step_day(due, s)), s) for s in self.ladder]
            if opens is not None:
                for s in self.period_steps:
                    day = self.period_step_day(opens, s)
                    if day <= due:  # a step past the deadline is the due-date steps' business
                        pairs.append((self.instant(day), s))
            found = self._instants[key] = tuple(sorted(pairs, key=lambda pair: pair[0]))
            self._moments[key] = tuple(moment for moment, _ in found)
        return found

    def step_moments(self, due: dt.date, opens: dt.date | None = None) -> tuple[dt.datetime, ...]:
        """The instants of `step_instants(due, opens)` alone, for bisecting."""
        key = due if opens is None else (due, opens)
        found = self._moments.get(key)
        if found is None:
            self.step_instants(due, opens)
            found = self._moments[key]
        return found

    def steps_for(self, occurrence_id: str, due: dt.date) -> tuple[tuple[dt.datetime, LadderStep], ...]:
        """`step_instants` of one occurrence: its plan's ladder, with the period-start steps of an event."""
        mine = self.of(occurrence_id)
        return mine.step_instants(due, mine.opens(occurrence_id))

    def step_day(self, due: dt.date, step: LadderStep) -> dt.date:
        if step.unit == "days":
            return due + dt.timedelta(days=step.offset)
        return self.calendar.add_working_days(due, step.offset)

    def period_step_day(self, opens: dt.date, step: LadderStep) -> dt.date:
        """A period-start step's day: `offset` days after the period's first day, or `offset` working
        days after its first working day (offset 0: that day itself)."""
        if step.unit == "days":
            return opens + dt.timedelta(days=step.offset)
        first = opens if self.calendar.is_working_day(opens) else self.calendar.add_working_days(opens, 1)
        return self.calendar.add_working_days(first, step.offset)

    def instant(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.policy.send_time, tzinfo=self.zone).astimezone(UTC)

    def local_day(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def open_window(self, now: dt.datetime) -> tuple[dt.date, dt.date]:
        """Due dates whose ladder can have a step due at `now`, catch-up included (generous bounds)."""
        today = self.local_day(now)
        ladder = [s for timing in (self, *self._others.values()) for s in timing.ladder]
        before = max(0, *(-s.offset * (2 if s.unit == "working-days" else 1) + 14 for s in ladder if s.offset < 0))
        after = max(0, *(s.offset * 2 + 14 for s in ladder if s.offset > 0))
        if any(timing.period_steps for timing in (self, *self._others.values())):
            before = max(before, 380)  # an event's first reminder comes up to a year (its period) before its due date
        return today - dt.timedelta(days=after + self.policy.catch_up_days), today + dt.timedelta(days=before)

    def digest_instant(self, now: dt.datetime) -> dt.datetime:
        """The latest digest instant at or before `now` (this week's, or last week's)."""
        weekday = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday").index(
            self.policy.digest_weekday
        )
        today = self.local_day(now)
        day = today - dt.timedelta(days=(today.weekday() - weekday) % 7)
        moment = self.instant(day)
        return moment if moment <= now else self.instant(day - dt.timedelta(days=7))


def recipients(step: LadderStep, occurrence: OpenOccurrence, directory: Directory) -> list[tuple[Person, str]]:
    """(person, agency they answer for) for one step, without repeats."""
    found: dict[str, tuple[Person, str]] = {}
    for role in step.notify:
        if role == "recipient-focal":
            agency = occurrence.recipient
            people = directory.people(agency, "focal") if agency != occurrence.agency else ()
        elif role == "head" and occurrence.agency in directory.by_agreement:
            # The Government cannot instruct these bodies; their misses go to the coordinator.
            agency = directory.coordinator_on(occurrence.due, occurrence.id)  # its own plan's
            people = directory.people(agency, "focal")
        else:
            agency = occurrence.agency
            people = directory.people(agency, role)
        for person in people:
            found.setdefault(person.email.lower(), (person, agency))
    return list(found.values())


def plan_notifications(
    occurrences: Iterable[OpenOccurrence],
    directory: Directory,
    timing: Timing,
    recorded: set[tuple[str, str, str, dt.date]],
    now: dt.datetime,
) -> list[Planned]:
    """Every ledger row to write at `now`: what to send, and what to record as skipped.

    `recorded` holds the ledger keys (occurrence, step, lowercased email, due date) already written."""
    limit = dt.timedelta(days=timing.policy.catch_up_days)
    # Instants are UTC; comparing datetimes that share one tzinfo skips a utcoffset() call per test.
    now = now.astimezone(UTC)
    planned: list[Planned] = []
    # Who receives a step depends on (step, agency, recipient, due) only, and these repeat a lot.
    addressees: dict[tuple, list[tuple[Person, str, str]]] = {}
    late = f"more than {timing.policy.catch_up_days} days late"
    by_agreement = directory.by_agreement
    placeholders = directory.placeholders
    for occurrence in occurrences:
        if placeholders and occurrence.agency in placeholders:
            continue  # listed, never mailed: no reminder or escalation to or about a placeholder
        floor = occurrence.not_before
        if floor is not None and floor.tzinfo is not UTC:
            floor = floor.astimezone(UTC)
        # The steps with floor <= instant <= now: a ladder's instants come in order, so two bisections.
        mine = timing.of(occurrence.id)
        opens = mine.opens(occurrence.id) if mine.period_steps else None
        moments = mine.step_moments(occurrence.due, opens)
        last = bisect_right(moments, now)
        first = bisect_left(moments, floor) if floor is not None else 0
        if first >= last:
            continue
        passed = mine.step_instants(occurrence.due, opens)[first:last]
        latest_moment = moments[last - 1]
        for moment, step in passed:
            # Who receives a step depends on the date only through the coordinator standing in for
            # the head of a body "by agreement"; otherwise one look-up serves every due date.
            key = (step.step, occurrence.agency, occurrence.recipient,
                   (occurrence.due, occurrence.id.partition(":")[0]) if occurrence.agency in by_agreement else None)
            people = addressees.get(key)
            if people is None:
                people = addressees[key] = [(p, agency, p.email.lower()) for p, agency in recipients(step, occurrence, directory)]
            if moment != latest_moment:
                send, reason = False, "superseded by a later step"
            elif now - moment > limit:
                send, reason = False, late
            else:
                send, reason = True, None
            for person, agency, email in people:
                if recorded and (occurrence.id, step.step, email, occurrence.due) in recorded:
                    continue
                planned.append(
                    Planned(occurrence.id, step.step, person.email, person.name, person.language, agency, occurrence.due,
                            moment, send, reason)
                )
    return planned


def digest_key(moment: dt.datetime, timing: Timing) -> str:
    year, week, _ = timing.local_day(moment).isocalendar()
    return f"digest:{year}-W{week:02d}"


# A weekly digest more than this late (the daemon was down, or the database is new) is recorded as
# skipped: last Monday's figures read on a Sunday mislead more than they tell. Next week's comes on time.
DIGEST_LATE = dt.timedelta(days=2)


def plan_digest(directory: Directory, timing: Timing, recorded: set[tuple[str, str, str, dt.date]], now: dt.datetime) -> list[Planned]:
    """This week's digest to the coordinator's focal points, once, and only within DIGEST_LATE of its
    instant (and of the catch-up limit, where that is shorter)."""
    moment = timing.digest_instant(now)
    key = digest_key(moment, timing)
    day = timing.local_day(moment)
    coordinator = directory.coordinator_on(day)
    limit = min(DIGEST_LATE, dt.timedelta(days=timing.policy.catch_up_days))
    late = now - moment > limit
    reason = f"more than {limit.days} days late" if late else None
    return [
        Planned(key, DIGEST, p.email, p.name, p.language, coordinator, day, moment, not late, reason)
        for p in directory.people(coordinator, "focal")
        if (key, DIGEST, p.email.lower(), day) not in recorded
    ]
