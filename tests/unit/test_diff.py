"""`scheduler.plan.diff`: what a plan change does, occurrence by occurrence.

The shipped plan against edited copies (a moved date, a removed row, a changed recipient, a body
added to a group, a body swapped, a one-off's date corrected), and properties for any plan: the
diff of a plan with itself is empty, and applying the changes to the old expansion gives the new."""

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.calendar.expand import expand
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.plan import load_plan
from scheduler.plan.diff import apply, compare, counts, date_labelled, entries
from scheduler.plan.model import Plan
from scheduler.plan.schema import PlanFile
from tests.conftest import SHIPPED_PLAN

CALENDAR = WorkdayCalendar("KZ", "en")


def edit_obligation(text: str, obligation_id: str, old: str, new: str) -> str:
    """`text` with `old` replaced by `new` inside the [[obligation]] table of that id only."""
    start = text.index(f'[[obligation]]\nid = "{obligation_id}"\n')
    end = text.find("\n[[obligation]]\n", start + 1)
    end = len(text) if end < 0 else end
    block = text[start:end]
    assert old in block, (obligation_id, old)
    return text[:start] + block.replace(old, new, 1) + text[end:]


def drop_obligation(text: str, obligation_id: str) -> str:
    start = text.index(f'[[obligation]]\nid = "{obligation_id}"\n')
    end = re.compile(r"^\[\[(obligation|heading)\]\]$|^# ", re.M).search(text, start + 1)
    return text[:start] + (text[end.start():] if end else "")


def add_group_member(text: str, group: str, member: str) -> str:
    start = text.index(f"[group.{group}]")
    close = text.index("\n]", text.index("members = [", start))
    head = text[:close].rstrip()
    separator = "" if head.endswith((",", "[")) else ","
    return head + f'{separator}\n  "{member}",' + text[close:]


def diff_of(tmp_path: Path, edited: str):
    (tmp_path / "new.toml").write_text(edited, encoding="utf-8")
    old, new = load_plan(SHIPPED_PLAN), load_plan(tmp_path / "new.toml")
    old_entries = entries(old, expand(old, CALENDAR))
    new_entries = entries(new, expand(new, CALENDAR))
    changes = compare(old_entries, new_entries, date_labelled(new))
    assert apply(old_entries, changes) == {e.id: e for e in new_entries}
    return changes


@pytest.fixture(scope="module")
def shipped_text() -> str:
    return SHIPPED_PLAN.read_text(encoding="utf-8")


def test_the_shipped_plan_against_itself_is_no_change(shipped_text, tmp_path):
    assert diff_of(tmp_path, shipped_text) == []


def test_a_moved_date_moves_every_occurrence_of_the_row(shipped_text, tmp_path):
    edited = edit_obligation(shipped_text, "7", "month = 12, day = 10", "month = 12, day = 20")
    changes = diff_of(tmp_path, edited)
    assert {c.change for c in changes} == {"moved"}
    assert {c.obligation for c in changes} == {"7"}
    mine = {c.occurrence: c.record() for c in changes}
    record = mine["7:finance:2022"]
    assert record["change"] == "moved" and record["agency"] == "finance" and record["period"] == "2022"
    assert (record["before"], record["after"]) == ("2022-12-09", "2022-12-20")
    assert (record["due_before"], record["due_after"]) == ("2022-12-09", "2022-12-20")
    assert record["occurrence_after"] == "7:finance:2022"


def test_a_removed_row_removes_its_occurrences_and_nothing_else(shipped_text, tmp_path):
    changes = diff_of(tmp_path, drop_obligation(shipped_text, "7"))
    assert changes and {c.change for c in changes} == {"removed"}
    assert {c.occurrence for c in changes} == {f"7:{a}:{y}" for a in ("finance", "mvd", "gpo") for y in (2021, 2022, 2023)}
    record = changes[0].record()
    assert record["before"] == record["due_before"] and record["after"] is None and record["due_after"] is None


def test_a_changed_recipient(shipped_text, tmp_path):
    edited = edit_obligation(shipped_text, "3", 'recipient = "vak-working-body"', 'recipient = "government"')
    changes = diff_of(tmp_path, edited)
    assert changes and {c.change for c in changes} == {"recipient"}
    record = {c.occurrence: c.record() for c in changes}["3:mvd:2021-07-01"]
    assert (record["before"], record["after"]) == ("labour", "government")  # the working body was Еңбекмині in 2021
    assert record["due_before"] == record["due_after"] == "2021-07-01"


def test_a_body_added_to_a_group_gains_the_groups_deadlines(shipped_text, tmp_path):
    changes = diff_of(tmp_path, add_group_member(shipped_text, "akimats", "digital"))
    assert changes and {c.change for c in changes} == {"added"} and {c.agency for c in changes} == {"digital"}
    by_id = {c.occurrence: c.record() for c in changes}
    assert by_id["1:digital:2022-H2"]["before"] is None and by_id["1:digital:2022-H2"]["after"] == "2022-12-30"


def test_a_body_swapped_in_a_row_is_one_responsible_change(shipped_text, tmp_path):
    edited = edit_obligation(shipped_text, "7", 'responsible = ["finance", "mvd", "gpo"]',
                             'responsible = ["finance", "justice", "gpo"]')
    changes = diff_of(tmp_path, edited)
    assert {c.change for c in changes} == {"responsible"}
    record = {c.occurrence: c.record() for c in changes}["7:mvd:2022"]
    assert (record["before"], record["after"]) == ("mvd", "justice")
    assert record["occurrence_after"] == "7:justice:2022"


def test_a_one_offs_corrected_date_is_a_move_not_a_removal(shipped_text, tmp_path):
    edited = edit_obligation(shipped_text, "12", "date = 2021-06-10", "date = 2021-06-21")
    changes = diff_of(tmp_path, edited)
    assert changes and {c.change for c in changes} == {"moved"}
    change = next(c for c in changes if c.agency == "labour")
    assert change.occurrence == "12:labour:2021-06-10" and change.occurrence_after == "12:labour:2021-06-21"
    assert (change.before, change.after) == (dt.date(2021, 6, 10), dt.date(2021, 6, 21))


def test_a_changed_form_is_other(shipped_text, tmp_path):
    edited = edit_obligation(shipped_text, "7", 'form_kk = "талдау нәтижелері"', 'form_kk = "ақпарат"')
    changes = diff_of(tmp_path, edited)
    assert {(c.change, c.field) for c in changes} == {("other", "form")}
    assert changes[0].record()["after"] == "ақпарат"


# --- properties, for any two plans --------------------------------------------------------------

AGENCIES = [f"body-{n}" for n in range(5)]
rules = st.one_of(
    st.builds(lambda m, d: {"kind": "annual", "month": m, "day": d}, st.integers(1, 12), st.integers(1, 28)),
    st.just({"kind": "quarterly"}),
    st.just({"kind": "half-yearly"}),
    st.builds(lambda d: {"kind": "once", "date": dt.date(2021, 3, 1) + dt.timedelta(days=d)}, st.integers(0, 600)),
)


@st.composite
def obligation_lists(draw):
    found = []
    for n in draw(st.lists(st.integers(1, 5), min_size=1, max_size=4, unique=True)):
        found.append({
            "id": str(n),
            "title_kk": draw(st.sampled_from(["іс-шара", "ақпарат"])),
            "responsible": draw(st.lists(st.sampled_from(AGENCIES), min_size=1, max_size=3, unique=True)),
            "due": draw(rules),
            "recipient": draw(st.sampled_from([None, "government", *AGENCIES])),
            "form_kk": draw(st.sampled_from([None, "хат", "есеп"])),
        })
    return found


def build(obligations) -> Plan:
    raw = {
        "schema": 1,
        "plan": {"id": "synthetic", "title_kk": "жоспар", "number": "1", "date": dt.date(2021, 2, 24),
                 "adopted": dt.date(2021, 2, 24), "period": {"from": 2021, "to": 2022}, "coordinator": AGENCIES[0]},
        "agency": {code: {"kind": "ministry", "short_kk": code, "name_kk": code} for code in AGENCIES},
        "obligation": [{k: v for k, v in o.items() if v is not None} for o in obligations],
    }
    return Plan.build(PlanFile.model_validate(raw), Path("<synthetic>"))


def expansion(plan: Plan):
    return entries(plan, expand(plan, CALENDAR))


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(old=obligation_lists(), new=obligation_lists())
def test_applying_the_changes_to_the_old_expansion_gives_the_new(old, new):
    before, after = expansion(build(old)), expansion(build(new))
    changes = compare(before, after, date_labelled(build(new)))
    assert apply(before, changes) == {e.id: e for e in after}
    assert sum(counts(changes).values()) == len(changes)
    for change in changes:  # every change names its occurrence and carries what it says
        assert change.change in counts([])
        record = change.record()
        assert record["occurrence"] and record["agency"] and record["obligation"] and record["period"]
        if change.change == "moved":
            assert record["before"] == record["due_before"] and record["after"] == record["due_after"]


@settings(max_examples=40, deadline=None)
@given(obligations=obligation_lists())
def test_a_plan_against_itself_is_no_change(obligations):
    plan = build(obligations)
    assert compare(expansion(plan), expansion(build(obligations)), date_labelled(plan)) == []
