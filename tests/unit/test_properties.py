"""Properties of the date rules that must hold for any plan, not just the shipped one."""

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.calendar.expand import expand
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.plan import load_plan
from scheduler.plan.model import Plan
from scheduler.plan.schema import PlanFile
from tests.conftest import SHIPPED_PLAN

CALENDAR = WorkdayCalendar("KZ", "en")
AGENCIES = [f"body-{n}" for n in range(6)]

dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 12, 31))
directions = st.sampled_from(["previous", "next", "none"])


@given(day=dates, direction=directions)
def test_shift_lands_on_a_working_day_in_its_direction(day, direction):
    due = CALENDAR.shift(day, direction)
    if direction == "none":
        assert due == day
        return
    assert CALENDAR.is_working_day(due)
    assert due <= day if direction == "previous" else due >= day
    assert abs((due - day).days) < 14
    # nothing in between was a working day: it is the nearest one
    step = dt.timedelta(days=1)
    low, high = sorted((day, due))
    assert not any(CALENDAR.is_working_day(low + n * step) for n in range((high - low).days) if low + n * step != due)
    assert CALENDAR.shift(due, direction) == due


rules = st.one_of(
    st.builds(lambda m, d: {"kind": "annual", "month": m, "day": d}, st.integers(1, 12), st.integers(1, 28)),
    st.just({"kind": "quarterly"}),
    st.just({"kind": "half-yearly"}),
    st.just({"kind": "monthly"}),
    st.builds(lambda m: {"kind": "within", "months": m}, st.integers(1, 24)),
)


@st.composite
def plans(draw) -> Plan:
    first = draw(st.integers(2016, 2028))
    last = first + draw(st.integers(0, 2))
    adopted = dt.date(first, 1, 1) + dt.timedelta(days=draw(st.integers(0, 200)))
    obligations = []
    for n in range(draw(st.integers(1, 6))):
        parties = draw(st.lists(st.sampled_from(AGENCIES), min_size=1, max_size=4, unique=True))
        obligations.append(
            {
                "id": str(n + 1),
                "title_kk": f"іс-шара {n + 1}",
                "responsible": parties,
                "due": draw(rules),
                "shift": draw(st.sampled_from(["previous", "next", None])),
            }
        )
    raw = {
        "schema": 1,
        "plan": {
            "id": "synthetic",
            "title_kk": "жоспар",
            "number": "1",
            "date": adopted,
            "adopted": adopted,
            "period": {"from": first, "to": last},
            "coordinator": AGENCIES[0],
        },
        "agency": {code: {"kind": "ministry", "short_kk": code, "name_kk": code} for code in AGENCIES},
        "obligation": [{k: v for k, v in o.items() if v is not None} for o in obligations],
    }
    return Plan.build(PlanFile.model_validate(raw), Path("<synthetic>"))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(plan=plans())
def test_expansion_properties(plan):
    found = list(expand(plan, CALENDAR))
    ids = [o.id for o in found]
    assert len(ids) == len(set(ids)), "occurrence ids are unique"
    assert ids == [o.id for o in expand(plan, CALENDAR)], "expansion is stable across runs"
    for o in found:
        direction = plan.shift_of(plan.obligation(o.obligation))
        assert CALENDAR.is_working_day(o.due)
        assert o.due <= o.nominal_due if direction == "previous" else o.due >= o.nominal_due
        assert o.id == f"{o.obligation}:{o.agency}:{o.period}"
        assert plan.adopted <= o.nominal_due <= plan.period_end


@settings(max_examples=30, deadline=None)
@given(plan=plans(), start=dates, span=st.integers(0, 800))
def test_range_filter_keeps_exactly_the_due_dates_inside(plan, start, span):
    end = start + dt.timedelta(days=span)
    everything = list(expand(plan, CALENDAR))
    inside = list(expand(plan, CALENDAR, start=start, end=end))
    assert inside == [o for o in everything if start <= o.due <= end]


def test_shipped_plan_properties(shipped_plan):
    found = list(expand(shipped_plan, CALENDAR))
    ids = [o.id for o in found]
    assert len(ids) == len(set(ids))
    # a dated deadline moves back, a period counted from an act ("within one month": res-2) forward
    forward = {o.id for o in shipped_plan.obligations if shipped_plan.shift_of(o) == "next"}
    assert forward == {"res-2"}
    assert all(CALENDAR.is_working_day(o.due) and (o.due >= o.nominal_due if o.obligation in forward
                                                   else o.due <= o.nominal_due) for o in found)
    # ids do not depend on the working-day calendar: a reload gives the same ids and dates
    again = list(expand(load_plan(SHIPPED_PLAN), WorkdayCalendar("KZ", "kk")))
    assert [(o.id, o.due) for o in again] == [(o.id, o.due) for o in found]
