"""The sorted list `validate` and `expand` keep (`expand_sorted`) is put in order as it is made: it
must be what sorting `expand`'s occurrences by due date, then id, gives — whatever the row ids and
body codes (some the start of others: "1" and "1.1", "mvd" and "mvd-a"), several rows and periods
falling due the same day, amended rows, and every filter."""

import datetime as dt
import textwrap

import pytest

from scheduler.calendar.expand import expand, expand_sorted, sort_key
from scheduler.plan import load_plan
from tests.conftest import MINIMAL_PLAN, ROOT, SHIPPED_PLAN

PREFIXES = MINIMAL_PLAN + textwrap.dedent(
    """\

    [agency.mvd-a]
    kind = "ministry"
    short_kk = "ІІМ-а"
    name_kk = "Бірінші"

    [agency.mvda]
    kind = "ministry"
    short_kk = "ІІМа"
    name_kk = "Екінші"

    [agency.a]
    kind = "ministry"
    short_kk = "А"
    name_kk = "Үшінші"

    [[obligation]]
    id = "1"
    title_kk = "Бір"
    responsible = ["mvda", "mvd", "mvd-a", "a"]
    due = { kind = "quarterly" }

    [[obligation]]
    id = "1.1"
    title_kk = "Бір бір"
    responsible = ["mvd-a", "mvd"]
    due = { kind = "quarterly" }

    [[obligation]]
    id = "10"
    title_kk = "Он"
    responsible = ["a", "mvd"]
    due = { kind = "half-yearly" }

    [[obligation]]
    id = "1-2"
    title_kk = "Бір екі"
    responsible = ["mvd", "a"]
    due = { kind = "annual", month = 12, day = 31 }

    [[obligation]]
    id = "2"
    title_kk = "Екі"
    responsible = ["mvda", "mvd"]
    due = { kind = "dates" }

    [[obligation.instance]]
    date = 2021-06-30
    period = "first"

    [[obligation.instance]]
    date = 2021-06-30
    period = "second"
    """
)


def sorted_after(plan, calendar, **filters):
    return sorted(expand(plan, calendar, **filters), key=sort_key)


@pytest.mark.parametrize("filters", [
    {},
    {"agency": "mvd"},
    {"obligation": "1"},
    {"start": dt.date(2021, 6, 1), "end": dt.date(2021, 12, 31)},
])
def test_ids_that_begin_alike_and_deadlines_on_one_day_come_in_sort_order(write_plan, kz_calendar, filters):
    plan = load_plan(write_plan(PREFIXES))
    found = expand_sorted(plan, kz_calendar, **filters)
    assert found == sorted_after(plan, kz_calendar, **filters)
    assert found, "the filters leave something to order"


def test_the_shipped_plans_amended_rows_included_come_in_sort_order(kz_calendar):
    for plan in (load_plan(SHIPPED_PLAN), load_plan([SHIPPED_PLAN, ROOT / "examples" / "regional-plan-akmola.toml"])):
        found = expand_sorted(plan, kz_calendar)
        assert len(found) > 1600
        assert found == sorted_after(plan, kz_calendar)
        assert expand_sorted(plan, kz_calendar, agency="mvd") == sorted_after(plan, kz_calendar, agency="mvd")
