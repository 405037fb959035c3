"""Event rows in the pure core: period spans, the partial first period, the ladder's period-start
step (planned for events only, exactly once), and the schema's refusals."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from scheduler.calendar.periods import event_of, event_opening, partial_note, period_info, period_span
from scheduler.notify.ladder import Directory, OpenOccurrence, Person, Timing, plan_notifications
from scheduler.plan.schema import LadderStep, Obligation, Policy

ALMATY = ZoneInfo("Asia/Almaty")
D = dt.date
PERIOD_START = LadderStep(step="period-start", anchor="period-start", offset=0, unit="working-days", notify=("focal",))


def local(year, month, day, hour=9, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=ALMATY)


@pytest.fixture
def directory():
    people = {("mvd", "focal"): [Person("askar@mvd.kz", "Асқар", "kk")],
              ("finance", "focal"): [Person("aigul@minfin.kz", "Айгүл", "kk")]}
    return Directory(people, frozenset(), lambda day, occurrence_id="": "mvd")


@pytest.fixture
def timing(kz_calendar, shipped_plan):
    policy = Policy(ladder=(*Policy().ladder, PERIOD_START))
    return Timing(policy, kz_calendar, opens_of=event_opening(shipped_plan))


def test_period_labels_name_their_spans():
    assert period_span("2022-H1") == (D(2022, 1, 1), D(2022, 6, 30))
    assert period_span("2022-H2") == (D(2022, 7, 1), D(2022, 12, 31))
    assert period_span("2021-Q1") == (D(2021, 1, 1), D(2021, 3, 31))
    assert period_span("2024-02") == (D(2024, 2, 1), D(2024, 2, 29))
    assert period_span("2022") == (D(2022, 1, 1), D(2022, 12, 31))
    assert period_span("2021-07-01") is None and period_span("2022-13") is None


def test_the_first_periods_are_partial_from_the_adoption(shipped_plan):
    plan = shipped_plan
    q1 = period_info(plan, "31", "2021-Q1")
    assert (q1.start, q1.end, q1.partial_from, q1.event) == (D(2021, 2, 24), D(2021, 3, 31), D(2021, 2, 24), True)
    assert partial_note(q1) == "partial period: from 24.02.2021"
    assert partial_note(q1, "ru") == "неполный период: с 24.02.2021"
    assert period_info(plan, "31", "2021-Q2").partial_from is None
    assert period_info(plan, "7", "2022") is None, "an annual report by a date is neither an event nor periodic"
    assert event_of(plan, "1:mvd:2022-H1").label == "2022-H1" and event_of(plan, "7:finance:2022") is None


def test_an_event_gets_a_reminder_on_its_period_s_first_working_day(timing):
    steps = timing.steps_for("1:mvd:2022-H2", D(2022, 12, 30))
    first_moment, first_step = steps[0]
    assert first_step.step == "period-start"
    assert first_moment == local(2022, 7, 1).astimezone(dt.timezone.utc)  # Friday 1 July 2022
    assert [s.step for _, s in steps[1:]] == [s.step for s in Policy().ladder]
    # 2023-H1 opens on New Year (1–2 January, and 3 January in lieu of the Sunday): 4 January
    assert timing.steps_for("1:mvd:2023-H1", D(2023, 6, 30))[0][0] == local(2023, 1, 4).astimezone(dt.timezone.utc)
    # the partial first quarter opens on the adoption, a Wednesday
    assert timing.steps_for("31:mvd:2021-Q1", D(2021, 3, 31))[0][0] == local(2021, 2, 24).astimezone(dt.timezone.utc)


def test_ordinary_rows_keep_the_contract_ladder(timing, kz_calendar):
    plain = Timing(Policy(), kz_calendar)
    assert timing.steps_for("7:finance:2022", D(2022, 12, 9)) == plain.step_instants(D(2022, 12, 9))
    assert timing.step_instants(D(2022, 12, 9)) == plain.step_instants(D(2022, 12, 9))


def test_the_period_start_step_is_planned_once_and_for_events_only(timing, directory):
    event = OpenOccurrence("1:mvd:2022-H2", "mvd", D(2022, 12, 30), None)
    ordinary = OpenOccurrence("7:finance:2022", "finance", D(2022, 12, 9), None)
    planned = plan_notifications([event, ordinary], directory, timing, set(), local(2022, 7, 1, 9, 1))
    assert [(p.occurrence_id, p.step, p.send) for p in planned] == [("1:mvd:2022-H2", "period-start", True)]
    recorded = {(p.occurrence_id, p.step, p.email.lower(), p.due) for p in planned}
    assert plan_notifications([event, ordinary], directory, timing, recorded, local(2022, 7, 1, 9, 5)) == []
    # the daemon's window of due dates reaches an event due half a year ahead
    low, high = timing.open_window(local(2022, 7, 1))
    assert low <= D(2022, 12, 30) <= high


def test_the_schema_refuses_an_event_without_periods_and_a_step_before_the_period():
    with pytest.raises(ValidationError, match='kind = "event" needs a rule that repeats over periods'):
        Obligation(id="9", section=1, title_kk="т", responsible=("mvd",), kind="event",
                   due={"kind": "once", "date": D(2021, 7, 1)})
    with pytest.raises(ValidationError, match="cannot come before it"):
        LadderStep(step="early", anchor="period-start", offset=-3, unit="days", notify=("focal",))
    assert Obligation(id="9", section=1, title_kk="т", responsible=("mvd",), kind="event",
                      due={"kind": "quarterly"}).kind == "event"
