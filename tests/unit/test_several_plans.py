"""Plans loaded together, pure: which plan keeps its numbers, how ids of the others read, the shared
directory, and what stays each plan's own (window, policy, coordinator, "all")."""

import datetime as dt

import pytest

from scheduler.calendar.expand import expand
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.errors import PlanError
from scheduler.notify.ladder import Timing
from scheduler.plan import load_plan
from tests.conftest import ROOT

SHIPPED = ROOT / "obligations.toml"
REGIONAL = ROOT / "examples" / "regional-plan-akmola.toml"

LATER = """\
schema = 1

[plan]
id = "later-2024"
title_kk = "Кейінгі жоспар"
number = "1"
date = 2024-01-05
adopted = 2024-01-05
period = { from = 2024, to = 2025 }
coordinator = "later-office"

[policy]
shift = "next"

[[policy.ladder]]
step = "only-due"
offset = 0
unit = "days"
notify = ["focal", "head"]

[agency.newbody]
kind = "agency"
short_kk = "ЖО"
name_kk = "Жаңа орган"
by_agreement = true

[office.later-office]
name_kk = "жұмыс органы"
held_by = [{ agency = "labour", years = [2024, 2025] }]

[office.vak-working-body]
name_kk = "ВАК жұмыс органы"
held_by = [{ agency = "mvd", years = [2024, 2025] }]

[[obligation]]
id = "1"
title_kk = "Барлығы"
responsible = "all"
due = { kind = "annual", month = 3, day = 8 }

[[obligation]]
id = "2"
title_kk = "Жаңа орган"
responsible = ["newbody", "mvd"]
recipient = "vak-working-body"
due = { kind = "annual", month = 6, day = 1 }
"""


@pytest.fixture
def later(tmp_path):
    path = tmp_path / "later.toml"
    path.write_text(LATER, encoding="utf-8")
    return path


def test_the_plan_adopted_first_keeps_its_numbers_whatever_the_order_given(later):
    for order in ([SHIPPED, later], [later, SHIPPED]):
        plan = load_plan(order)
        assert plan.file.plan.id == "kz-tip-2021-2023"
        assert plan.obligation("7") is not None and plan.obligation("later-2024/1") is not None
        assert plan.obligation("1").title_kk != "Барлығы"
        assert plan.plan_of("later-2024/2").file.plan.id == "later-2024" and plan.plan_of("7").file.plan.id == "kz-tip-2021-2023"
        assert list(plan.years) == [2021, 2022, 2023, 2024, 2025]
        ids = {SHIPPED: "kz-tip-2021-2023", later: "later-2024"}
        assert [p.file.plan.id for p in plan.plans] == [ids[p] for p in order]


def test_each_row_keeps_its_own_plans_window_shift_and_all(later):
    plan = load_plan([SHIPPED, later])
    calendar = WorkdayCalendar("KZ")
    found = list(expand(plan, calendar, obligation="later-2024/1"))
    # "all" is every party the later plan names (mvd and the new body), not the national plan's 47
    assert {o.agency for o in found} == {"mvd", "newbody"}
    assert {o.period for o in found} == {"2024", "2025"}  # its own period, not 2021-2023
    # 8 March 2025, International Women's Day, is a Saturday and its day off moves to Monday the
    # 10th: the later plan's policy shifts to the next working day, Tuesday 11 March
    assert next(o for o in found if o.period == "2025").due == dt.date(2025, 3, 11)
    # the national rows are untouched
    alone = {o.id: o.due for o in expand(load_plan(SHIPPED), calendar)}
    together = {o.id: o.due for o in expand(plan, calendar) if "/" not in o.id}
    assert together == alone


def test_the_directory_is_shared_offices_join_their_years_and_each_plan_has_its_coordinator(later):
    plan = load_plan([SHIPPED, later])
    assert plan.agency("newbody") is not None and plan.agency("akimat-akmola") is not None
    held = {t.agency: t.years for t in plan.file.offices["vak-working-body"].held_by}
    assert held == {"labour": (2021,), "mvd": (2022, 2023, 2024, 2025)}  # both plans say mvd for 2024: no conflict
    assert plan.office_holder("vak-working-body", 2025) == "mvd"
    assert plan.coordinator_of("later-2024/2:newbody:2024") == "later-office"
    assert plan.coordinator_of("7:finance:2022") == plan.coordinator_of() == "vak-working-body"
    assert plan.member("later-2024").file.plan.id == "later-2024" and plan.member(None).file.plan.id == "kz-tip-2021-2023"
    with pytest.raises(KeyError, match="later-2024"):
        plan.member("nope")


def test_a_further_plans_policy_times_its_own_rows(later):
    plan = load_plan([SHIPPED, later])
    timing = Timing.of_plan(plan, WorkdayCalendar("KZ"))
    due = dt.date(2024, 6, 3)
    assert [s.step for _, s in timing.of("later-2024/2:mvd:2024").step_instants(due)] == ["only-due"]
    assert "reminder-14d" in [s.step for _, s in timing.of("7:finance:2022").step_instants(due)]
    first, last = timing.open_window(dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc))
    assert first < due < last


def test_a_conflict_names_both_files_and_the_field(tmp_path, later):
    text = LATER.replace('short_kk = "ЖО"', 'short_kk = "ЖО"').replace(
        '[agency.newbody]', '[agency.mvd]\nkind = "ministry"\nshort_kk = "МВД"\nname_kk = "басқаша"\n\n[agency.newbody]')
    other = tmp_path / "other.toml"
    other.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan([SHIPPED, other])
    message = str(caught.value)
    assert "other.toml" in message and "obligations.toml" in message and "agency mvd" in message
    assert "short_kk" in message or "name_kk" in message


def test_an_office_given_to_two_bodies_in_one_year_is_a_conflict(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text(LATER.replace('held_by = [{ agency = "mvd", years = [2024, 2025] }]',
                                   'held_by = [{ agency = "labour", years = [2024, 2025] }]'), encoding="utf-8")
    with pytest.raises(PlanError, match="held in 2024 by labour here, but .*obligations.toml gives that year to another body"):
        load_plan([SHIPPED, other])


def test_a_link_to_a_missing_row_or_body_is_named(tmp_path):
    text = REGIONAL.read_text(encoding="utf-8")
    wrong = tmp_path / "regional.toml"
    wrong.write_text(text.replace('obligation = "34"', 'obligation = "340"'), encoding="utf-8")
    with pytest.raises(PlanError, match="links to row '340' of plan kz-tip-2021-2023, which has no such row"):
        load_plan([SHIPPED, wrong])
    wrong.write_text(text.replace('agency = "akimat-akmola", working_days = 7', 'agency = "akimat-akmolla", working_days = 7'),
                     encoding="utf-8")
    with pytest.raises(PlanError, match="akimat-akmolla"):
        load_plan([SHIPPED, wrong])


def test_a_body_by_agreement_is_stood_in_for_by_its_own_plans_coordinator(later):
    from scheduler.notify.ladder import Directory, OpenOccurrence, Person, plan_notifications

    plan = load_plan([SHIPPED, later])
    directory = Directory(
        contacts={("labour", "focal"): [Person("focal@enbek.kz", "Еңбек", "kk")],
                  ("mvd", "focal"): [Person("focal@mvd.kz", "ІІМ", "kk")]},
        by_agreement=frozenset(c for c, a in plan.file.agencies.items() if a.by_agreement),
        coordinator_on=lambda day, occurrence_id="": plan.recipient_on(plan.coordinator_of(occurrence_id), day),
    )
    timing = Timing.of_plan(plan, WorkdayCalendar("KZ"))
    due = dt.date(2024, 6, 3)
    occurrence = OpenOccurrence("later-2024/2:newbody:2024", "newbody", due, "mvd")
    planned = plan_notifications([occurrence], directory, timing, set(), dt.datetime(2024, 6, 3, 4, 0, tzinfo=dt.timezone.utc))
    # the later plan's coordinator (its working body, held by labour) stands in for the head; the
    # national plan's (held by mvd in 2024) does not
    assert {(p.step, p.email) for p in planned} == {("only-due", "focal@enbek.kz")}
