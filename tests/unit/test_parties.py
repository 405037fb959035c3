"""The plan's parties, pure: placeholders planned for nothing, a body's own report, and the dated
directory's facts (with their sources) that `explain` prints."""

import datetime as dt
from zoneinfo import ZoneInfo

from scheduler.notify.ladder import Directory, OpenOccurrence, Person, Timing, plan_notifications
from scheduler.plan.dating import dated_directory, own_report
from scheduler.plan.schema import Policy

ALMATY = ZoneInfo("Asia/Almaty")
D = dt.date


def test_a_placeholder_is_planned_nothing_even_with_contacts(kz_calendar):
    people = {("interested-bodies", "focal"): [Person("a@bodies.kz", "A", "en")],
              ("interested-bodies", "head"): [Person("h@bodies.kz", "H", "en")],
              ("mvd", "focal"): [Person("askar@mvd.kz", "Асқар", "kk")]}
    coordinator = lambda day, occurrence_id="": "mvd"  # noqa: E731
    due = D(2023, 12, 29)
    occurrences = [OpenOccurrence("36:interested-bodies:2023-12-31", "interested-bodies", due, None),
                   OpenOccurrence("36:mvd:2023-12-31", "mvd", due, None)]
    now = dt.datetime(2023, 12, 29, 9, 0, tzinfo=ALMATY)
    timing = Timing(Policy(), kz_calendar)
    everyone = plan_notifications(occurrences, Directory(people, frozenset(), coordinator), timing, set(), now)
    assert {p.email for p in everyone} == {"a@bodies.kz", "askar@mvd.kz"}  # without the flag, it would be mailed
    planned = plan_notifications(occurrences, Directory(people, frozenset(), coordinator, frozenset({"interested-bodies"})),
                                 timing, set(), now)
    assert {(p.occurrence_id, p.email) for p in planned} == {("36:mvd:2023-12-31", "askar@mvd.kz")}


def test_all_means_the_bodies_the_plan_names(shipped_plan):
    assert shipped_plan.placeholders == {"ngos", "interested-bodies"}
    owing = shipped_plan.owing_on(shipped_plan.obligation("res-3.2"), D(2023, 1, 20))
    assert len(owing) == 44 and not set(owing) & shipped_plan.placeholders
    assert "ngos" in shipped_plan.owing_on(shipped_plan.obligation("17"), D(2022, 12, 10))  # named: still owes, listed


def test_own_report_is_the_owing_body_as_its_own_recipient(shipped_plan):
    assert own_report(shipped_plan, "res-3.2", "labour", D(2022, 1, 20))
    assert not own_report(shipped_plan, "res-3.2", "mvd", D(2022, 1, 20))
    assert own_report(shipped_plan, "res-3.2", "mvd", D(2023, 1, 20))
    assert own_report(shipped_plan, "6", "mvd", D(2022, 12, 10))  # the working body's office, held by ІІМ in 2022
    assert not own_report(shipped_plan, "6", "mvd", D(2021, 12, 10))
    assert not own_report(shipped_plan, "res-4", "mvd", D(2023, 2, 10))  # to the Government


def test_the_dated_directory_names_its_sources(shipped_plan):
    lines = dated_directory(shipped_plan, "mes", D(2021, 12, 10))
    assert lines[0].startswith("mes exists until 2022-06-10 — source: Decree of the President") and "No. 872" in lines[0]
    assert lines[1].startswith("mes answers for its successor enlightenment")
    lines = dated_directory(shipped_plan, "akimat-astana", D(2022, 9, 16))
    assert lines and "was called Akimat of Nur-Sultan city until 2022-09-16" in lines[0]
    assert dated_directory(shipped_plan, "akimat-astana", D(2022, 9, 17)) == []  # the name in force: nothing dated decided
    assert dated_directory(shipped_plan, "finance", D(2022, 12, 10)) == []
    recipient = dated_directory(shipped_plan, "akimat-almaty", D(2022, 1, 20), recipient="akimat-astana")
    assert recipient and recipient[0].startswith("recipient akimat-astana was called")
