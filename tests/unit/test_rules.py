import datetime as dt

import pytest

from scheduler.calendar.rules import Window, describe, nominal_dates
from scheduler.plan.schema import (
    Annual,
    Dates,
    HalfYearly,
    Instance,
    Monthly,
    Once,
    Quarterly,
    Within,
    YearEnd,
)

D = dt.date
PLAN_WINDOW = Window(D(2021, 2, 24), D(2023, 12, 31))


def pairs(rule, window=PLAN_WINDOW, instances=()):
    return [(n.period, n.date) for n in nominal_dates(rule, window, instances)]


def test_once_is_its_date_labelled_by_it():
    assert pairs(Once(kind="once", date=D(2021, 7, 1))) == [("2021-07-01", D(2021, 7, 1))]


def test_once_before_the_adoption_yields_nothing():
    assert pairs(Once(kind="once", date=D(2021, 1, 10))) == []


def test_annual_runs_from_adoption_through_the_period():
    assert pairs(Annual(kind="annual", month=12, day=10)) == [
        ("2021", D(2021, 12, 10)),
        ("2022", D(2022, 12, 10)),
        ("2023", D(2023, 12, 10)),
    ]


def test_annual_date_before_the_adoption_in_the_first_year_is_dropped():
    # "annually by 10 February" in a plan adopted on 24 February 2021 starts in 2022.
    assert [p for p, _ in pairs(Annual(kind="annual", month=2, day=10))] == ["2022", "2023"]


def test_half_yearly_falls_on_the_last_day_of_each_half():
    assert pairs(HalfYearly(kind="half-yearly")) == [
        ("2021-H1", D(2021, 6, 30)),
        ("2021-H2", D(2021, 12, 31)),
        ("2022-H1", D(2022, 6, 30)),
        ("2022-H2", D(2022, 12, 31)),
        ("2023-H1", D(2023, 6, 30)),
        ("2023-H2", D(2023, 12, 31)),
    ]


def test_quarterly_falls_on_the_last_day_of_each_quarter():
    found = pairs(Quarterly(kind="quarterly"))
    assert len(found) == 12
    assert found[:4] == [
        ("2021-Q1", D(2021, 3, 31)),
        ("2021-Q2", D(2021, 6, 30)),
        ("2021-Q3", D(2021, 9, 30)),
        ("2021-Q4", D(2021, 12, 31)),
    ]
    assert found[-1] == ("2023-Q4", D(2023, 12, 31))


def test_monthly_handles_month_lengths():
    found = pairs(Monthly(kind="monthly"), Window(D(2024, 1, 1), D(2024, 4, 30)))
    assert found == [
        ("2024-01", D(2024, 1, 31)),
        ("2024-02", D(2024, 2, 29)),
        ("2024-03", D(2024, 3, 31)),
        ("2024-04", D(2024, 4, 30)),
    ]


def test_recurring_rules_can_be_narrowed():
    rule = Quarterly(kind="quarterly", starts=D(2022, 1, 1), ends=D(2022, 9, 30))
    assert [p for p, _ in pairs(rule)] == ["2022-Q1", "2022-Q2", "2022-Q3"]
    assert pairs(Quarterly(kind="quarterly", starts=D(2023, 1, 1), ends=D(2022, 1, 1))) == []


def test_within_one_month_of_adoption():
    assert pairs(Within(kind="within", months=1)) == [("2021-03-24", D(2021, 3, 24))]


def test_within_clamps_to_the_end_of_a_shorter_month():
    window = Window(D(2021, 1, 31), D(2021, 12, 31))
    assert pairs(Within(kind="within", months=1), window) == [("2021-02-28", D(2021, 2, 28))]
    assert pairs(Within(kind="within", anchor=D(2021, 5, 1), days=30), window) == [("2021-05-31", D(2021, 5, 31))]


def test_year_end():
    assert pairs(YearEnd(kind="year-end", year=2023)) == [("2023-12-31", D(2023, 12, 31))]
    assert pairs(YearEnd(kind="year-end", year=2030)) == []


def test_dates_keep_their_periods_even_after_the_plan_period():
    instances = (
        Instance(date=D(2024, 1, 20), period="2023"),
        Instance(date=D(2022, 1, 20), period="2021"),
        Instance(date=D(2023, 1, 20)),
        Instance(date=D(2021, 1, 20), period="2020"),  # before the adoption: dropped
    )
    assert pairs(Dates(kind="dates"), instances=instances) == [
        ("2021", D(2022, 1, 20)),
        ("2023-01-20", D(2023, 1, 20)),
        ("2023", D(2024, 1, 20)),
    ]


def test_impossible_annual_day_is_rejected():
    with pytest.raises(ValueError, match="month 2 has no day 30"):
        Annual(kind="annual", month=2, day=30)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (Annual(kind="annual", month=12, day=10), "annually, by 10 December"),
        (Within(kind="within", months=1), "within 1 month of the plan's adoption (2021-02-24)"),
        (Quarterly(kind="quarterly"), "once per quarter, by the last day of each quarter"),
        (YearEnd(kind="year-end", year=2023), "by the end of 2023"),
        (Once(kind="once", date=D(2021, 7, 1)), "once, by 1 July 2021"),
    ],
)
def test_describe(rule, text):
    assert describe(rule, PLAN_WINDOW) == text
