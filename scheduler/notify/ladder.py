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


@dataclass(frozen=True)
class Directory:
    """Contacts by agency and role, and who stands in for heads of bodies not under the Government."""

    contacts: Mapping[tuple[str, str], Sequence[Person]]
    by_agreement: frozenset[str]
    coordinator_on: Callable[[dt.date], str | None]
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
                 coordinator_on: Callable[[dt.date], str | None] | None = None):
        self.policy = policy
        self.calendar = calendar
        self.zone = ZoneInfo(timezone or policy.timezone)
        # The body that holds the plan's coordinator role on a day (its focal points get the digest,
        # and the notices meant for the secretariat when it has no reviewer); None: unknown.
        self.coordinator_on = coordinator_on
        self.ladder = policy.ladder
        self._instants: dict[dt.date, tuple[tuple[dt.datetime, LadderStep], ...]] = {}
        self._moments: dict[dt.date, tuple[dt.datetime, ...]] = {}

    def step_instants(self, due: dt.date) -> tuple[tuple[dt.datetime, LadderStep], ...]:
        """Each ladder step's instant for a due date, earliest first; many occurrences share a due date."""
        found = self._instants.get(due)
        if found is None:
            found = self._instants[due] = tuple(sorted(
                ((self.instant(self.step_day(due, s)), s) for s in self.ladder), key=lambda pair: pair[0]))
            self._moments[due] = tuple(moment for moment, _ in found)
        return found

    def step_moments(self, due: dt.date) -> tuple[dt.datetime, ...]:
        """The instants of `step_instants(due)` alone, for bisecting."""
        found = self._moments.get(due)
        if found is None:
            self.step_instants(due)
            found = self._moments[due]
        return found

    def step_day(self, due: dt.date, step: LadderStep) -> dt.date:
        if step.unit == "days":
            return due + dt.timedelta(days=step.offset)
        return self.calendar.add_working_days(due, step.offset)

    def instant(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.policy.send_time, tzinfo=self.zone).astimezone(UTC)

    def local_day(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def open_window(self, now: dt.datetime) -> tuple[dt.date, dt.date]:
        """Due dates whose ladder can have a step due at `now`, catch-up included (generous bounds)."""
        today = self.local_day(now)
        before = max(0, *(-s.offset * (2 if s.unit == "working-days" else 1) + 14 for s in self.ladder if s.offset < 0))
        after = max(0, *(s.offset * 2 + 14 for s in self.ladder if s.offset > 0))
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
            agency = directory.coordinator_on(occurrence.due)
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
        moments = timing.step_moments(occurrence.due)
        last = bisect_right(moments, now)
        first = bisect_left(moments, floor) if floor is not None else 0
        if first >= last:
            continue
        passed = timing.step_instants(occurrence.due)[first:last]
        latest_moment = moments[last - 1]
        for moment, step in passed:
            # Who receives a step depends on the date only through the coordinator standing in for
            # the head of a body "by agreement"; otherwise one look-up serves every due date.
            key = (step.step, occurrence.agency, occurrence.recipient, occurrence.due if occurrence.agency in by_agreement else None)
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


def plan_digest(directory: Directory, timing: Timing, recorded: set[tuple[str, str, str, dt.date]], now: dt.datetime) -> list[Planned]:
    """This week's digest to the coordinator's focal points, once, and never more than late allows."""
    moment = timing.digest_instant(now)
    key = digest_key(moment, timing)
    day = timing.local_day(moment)
    coordinator = directory.coordinator_on(day)
    late = now - moment > dt.timedelta(days=timing.policy.catch_up_days)
    return [
        Planned(key, DIGEST, p.email, p.name, p.language, coordinator, day, moment, not late, "too late" if late else None)
        for p in directory.people(coordinator, "focal")
        if (key, DIGEST, p.email.lower(), day) not in recorded
    ]
