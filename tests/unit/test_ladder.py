"""The notification planner, as a pure function of occurrences, contacts, ledger and `now`."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduler.notify.ladder import (
    Directory,
    OpenOccurrence,
    Person,
    Timing,
    digest_key,
    plan_digest,
    plan_notifications,
)
from scheduler.plan.schema import Policy

ALMATY = ZoneInfo("Asia/Almaty")
D = dt.date


def local(year, month, day, hour=9, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=ALMATY)


@pytest.fixture
def timing(kz_calendar):
    return Timing(Policy(), kz_calendar)


@pytest.fixture
def directory():
    people = {
        ("finance", "focal"): [Person("aigul@minfin.kz", "Айгүл", "kk")],
        ("finance", "supervisor"): [Person("ivanov@minfin.kz", "Иванов", "ru")],
        ("finance", "head"): [Person("head@minfin.kz", "Head", "en")],
        ("gpo", "focal"): [Person("focal@gpo.kz", "GPO", "en")],
        ("gpo", "head"): [Person("head@gpo.kz", "GPO head", "en")],
        ("mvd", "focal"): [Person("askar@mvd.kz", "Асқар", "kk")],
    }
    return Directory(people, frozenset({"gpo"}), lambda day, occurrence_id="": "labour" if day.year == 2021 else "mvd")


FINANCE = OpenOccurrence("7:finance:2022", "finance", D(2022, 12, 9), None)


def test_step_days_across_weekend_and_independence_day(timing):
    days = {s.step: timing.step_day(D(2022, 12, 9), s) for s in timing.ladder}
    assert days == {
        "reminder-14d": D(2022, 11, 25),
        "reminder-7d": D(2022, 12, 2),
        "reminder-1wd": D(2022, 12, 8),
        "due": D(2022, 12, 9),
        "escalation-1wd": D(2022, 12, 12),  # over the weekend
        "escalation-5wd": D(2022, 12, 19),  # 16 December, Independence Day, is not counted
    }


def test_send_time_follows_almaty_moving_to_utc_plus_5(timing):
    assert timing.instant(D(2022, 12, 9)) == dt.datetime(2022, 12, 9, 3, 0, tzinfo=dt.timezone.utc)
    assert timing.instant(D(2024, 12, 9)) == dt.datetime(2024, 12, 9, 4, 0, tzinfo=dt.timezone.utc)


def test_nothing_before_the_first_step(timing, directory):
    assert plan_notifications([FINANCE], directory, timing, set(), local(2022, 11, 25, 8, 59)) == []


def test_the_first_reminder_goes_to_the_focal_points(timing, directory):
    planned = plan_notifications([FINANCE], directory, timing, set(), local(2022, 11, 25))
    assert [(p.step, p.email, p.send) for p in planned] == [("reminder-14d", "aigul@minfin.kz", True)]
    assert planned[0].scheduled_at == local(2022, 11, 25)


def test_recorded_steps_are_not_planned_again(timing, directory):
    recorded = {("7:finance:2022", "reminder-14d", "aigul@minfin.kz", D(2022, 12, 9))}
    assert plan_notifications([FINANCE], directory, timing, recorded, local(2022, 11, 26)) == []


def test_a_moved_due_date_gets_its_own_ladder(timing, directory):
    """Steps sent for the old date do not block the same steps for the new one; none twice per date."""
    old = {(FINANCE.id, s, "aigul@minfin.kz", D(2022, 12, 9)) for s in ("reminder-14d", "reminder-7d")}
    moved = FINANCE._replace(due=D(2022, 12, 23))
    planned = plan_notifications([moved], directory, timing, old, local(2022, 12, 16))
    assert [(p.step, p.due, p.send) for p in planned] == [
        ("reminder-14d", D(2022, 12, 23), False),  # superseded by the later step, recorded as skipped
        ("reminder-7d", D(2022, 12, 23), True),
    ]
    again = old | {(p.occurrence_id, p.step, p.email, p.due) for p in planned}
    assert plan_notifications([moved], directory, timing, again, local(2022, 12, 16, 10)) == []
    back = FINANCE  # moved back to the old date: what went out for it is not sent again
    assert [p.step for p in plan_notifications([back], directory, timing, old, local(2022, 12, 2, 10)) if p.send] == []


def test_catch_up_sends_only_the_latest_step(timing, directory):
    planned = plan_notifications([FINANCE], directory, timing, set(), local(2022, 12, 13))
    sent = [(p.step, p.email) for p in planned if p.send]
    skipped = {(p.step, p.reason) for p in planned if not p.send}
    assert sent == [("escalation-1wd", "aigul@minfin.kz"), ("escalation-1wd", "ivanov@minfin.kz")]
    assert skipped == {(s, "superseded by a later step") for s in ("reminder-14d", "reminder-7d", "reminder-1wd", "due")}


def test_a_step_more_than_seven_days_late_is_skipped_not_sent(timing, directory):
    planned = plan_notifications([FINANCE], directory, timing, set(), local(2022, 12, 27))
    assert planned and not any(p.send for p in planned)
    latest = [p for p in planned if p.step == "escalation-5wd"]
    assert latest[0].reason == "more than 7 days late"


def test_second_escalation_goes_to_heads_and_the_recipient(timing, directory):
    occurrence = OpenOccurrence("6:finance:2022", "finance", D(2022, 12, 9), "mvd")
    planned = plan_notifications([occurrence], directory, timing, set(), local(2022, 12, 19))
    assert {p.email for p in planned if p.send} == {"head@minfin.kz", "askar@mvd.kz"}


def test_bodies_by_agreement_escalate_to_the_coordinator(timing, directory):
    occurrence = OpenOccurrence("7:gpo:2022", "gpo", D(2022, 12, 9), None)
    planned = plan_notifications([occurrence], directory, timing, set(), local(2022, 12, 19))
    assert [(p.email, p.agency) for p in planned if p.send] == [("askar@mvd.kz", "mvd")]


def test_no_contacts_means_nothing_planned(timing, directory):
    occurrence = OpenOccurrence("7:health:2022", "health", D(2022, 12, 9), None)
    assert plan_notifications([occurrence], directory, timing, set(), local(2022, 12, 9)) == []


def test_weekly_digest_on_monday_to_the_coordinator(timing, directory):
    monday = local(2022, 12, 12)
    planned = plan_digest(directory, timing, set(), monday)
    assert [(p.occurrence_id, p.step, p.email, p.send) for p in planned] == [("digest:2022-W50", "digest", "askar@mvd.kz", True)]
    assert plan_digest(directory, timing, set(), local(2022, 12, 12, 8, 59))[0].occurrence_id == "digest:2022-W49"
    recorded = {("digest:2022-W50", "digest", "askar@mvd.kz", D(2022, 12, 12))}
    assert plan_digest(directory, timing, recorded, local(2022, 12, 14)) == []
    assert digest_key(monday, timing) == "digest:2022-W50"
