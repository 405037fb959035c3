"""Amendments as data: when an amendment takes effect, what it changes, and which text each
deadline is owed under (the plan as it stood on the deadline's nominal date)."""

import datetime as dt

import pytest

from scheduler.calendar.expand import expand
from scheduler.calendar.explain import explain
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.errors import PlanError
from scheduler.plan import load_plan
from scheduler.plan.schema import Amendment
from tests.conftest import MINIMAL_PLAN

D = dt.date

AMENDMENT = """
[[plan.amendment]]
number = "5"
date = 2022-05-16
effective = 2022-06-01
"""

RESPONSIBLE_CHANGE = AMENDMENT + """
[[plan.amendment.change]]
obligation = "7"
field = "responsible"
before = ["labour"]
after = ["labour", "mvd"]
"""


def load(write_plan, extra: str):
    return load_plan(write_plan(MINIMAL_PLAN + extra))


def ids(plan) -> set[str]:
    return {o.id for o in expand(plan, WorkdayCalendar("KZ"))}


def problems_of(write_plan, extra: str):
    text = MINIMAL_PLAN + extra
    path = write_plan(text)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return text, path, [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    return [n for n, line in enumerate(text.splitlines(), 1) if needle in line][occurrence - 1]


# --- when an amendment takes effect ---------------------------------------------------------------


def test_after_publication_counts_ten_full_calendar_days_after_the_day_of_publication():
    # "алғашқы ресми жарияланған күнінен кейін күнтізбелік он күн өткен соң": 21–30 March pass,
    # in force on 31 March.
    amendment = Amendment(number="236", date=D(2023, 3, 17), published=D(2023, 3, 20), effective="after-publication", days=10)
    assert amendment.effective_from == D(2023, 3, 31)
    assert not amendment.effective_estimated
    assert "2023-03-31" in amendment.describe_effective() and "2023-03-20" in amendment.describe_effective()


def test_after_publication_without_a_publication_date_is_the_earliest_possible_day():
    amendment = Amendment(number="236", date=D(2023, 3, 17), effective="after-publication", days=10)
    assert amendment.effective_from == D(2023, 3, 28)
    assert amendment.effective_estimated
    assert "at the earliest" in amendment.describe_effective()


def test_on_signing_and_a_given_date():
    assert Amendment(number="1", date=D(2022, 5, 16), effective="on-signing").effective_from == D(2022, 5, 16)
    assert Amendment(number="1", date=D(2022, 5, 16), effective=D(2022, 7, 1)).effective_from == D(2022, 7, 1)


# --- occurrences follow the text in force on their nominal date ------------------------------------


def test_a_party_added_owes_only_deadlines_nominally_due_after_the_amendment_took_effect(write_plan):
    plan = load(write_plan, RESPONSIBLE_CHANGE)
    found = ids(plan)
    assert {"7:labour:2021", "7:labour:2022", "7:labour:2023"} <= found
    assert "7:mvd:2021" not in found  # 10 December 2021: before 1 June 2022, the old text
    assert {"7:mvd:2022", "7:mvd:2023"} <= found  # after: the new text
    unamended = load_plan(write_plan(MINIMAL_PLAN, name="plain.toml"))
    assert "7:mvd:2021" in ids(unamended)


def test_as_of_leaves_out_amendments_not_yet_in_force(write_plan):
    plan = load(write_plan, RESPONSIBLE_CHANGE)
    before = plan.as_of(D(2022, 5, 31))
    assert not {i for i in ids(before) if i.startswith("7:mvd")}
    assert ids(plan.as_of(D(2022, 6, 1))) == ids(plan)


def test_a_changed_deadline_applies_from_the_effective_date(write_plan):
    extra = AMENDMENT + """
[[plan.amendment.change]]
obligation = "7"
field = "due"
before = { kind = "annual", month = 11, day = 15 }
"""
    plan = load(write_plan, extra)
    dates = {o.id: o.nominal_due for o in expand(plan, WorkdayCalendar("KZ")) if o.agency == "labour"}
    assert dates == {"7:labour:2021": D(2021, 11, 15), "7:labour:2022": D(2022, 12, 10), "7:labour:2023": D(2023, 12, 10)}
    old = {o.id: o.nominal_due for o in expand(plan.as_of(D(2022, 1, 1)), WorkdayCalendar("KZ")) if o.agency == "labour"}
    assert old["7:labour:2022"] == D(2022, 11, 15)


def test_recipient_before_may_be_empty_and_rows_may_be_added_or_removed(write_plan):
    extra = """
[[obligation]]
id = "8"
title_kk = "Жаңа жол"
responsible = ["mvd"]
due = { kind = "annual", month = 6, day = 30 }

[[obligation]]
id = "9"
title_kk = "Алынып тасталған жол"
responsible = ["labour"]
due = { kind = "annual", month = 6, day = 30 }
""" + AMENDMENT + """
[[plan.amendment.change]]
obligation = "7"
field = "recipient"
before = ""
after = "mvd"

[[plan.amendment.change]]
obligation = "8"
added = true

[[plan.amendment.change]]
obligation = "9"
removed = true
"""
    text = MINIMAL_PLAN.replace('due = { kind = "annual", month = 12, day = 10 }', 'due = { kind = "annual", month = 12, day = 10 }\nrecipient = "mvd"')
    plan = load_plan(write_plan(text + extra))
    found = {o.id: o for o in expand(plan, WorkdayCalendar("KZ"))}
    assert found["7:labour:2021"].recipient is None and found["7:labour:2022"].recipient == "mvd"
    assert {i for i in found if i.startswith("8:")} == {"8:mvd:2022", "8:mvd:2023"}  # 30 June 2021: before the row existed
    assert {i for i in found if i.startswith("9:")} == {"9:labour:2021"}
    before = plan.as_of(D(2022, 5, 31))
    assert before.obligation("8") is None
    assert {i for i in ids(before) if i[0] in "89"} == {"9:labour:2021", "9:labour:2022", "9:labour:2023"}


def test_explain_names_the_amendment_or_the_original_text(write_plan):
    plan = load(write_plan, RESPONSIBLE_CHANGE)
    calendar = WorkdayCalendar("KZ")
    after = explain(plan, calendar, "7:mvd:2022").text_source
    assert "as amended by No. 5 of 2022-05-16" in after[0] and "responsible" in after[0]
    before = explain(plan, calendar, "7:labour:2021").text_source
    assert before[0] == "the original text of No. 1 of 2021-02-24"
    assert "No. 5 of 2022-05-16 changed this row (responsible)" in before[1]


# --- the shipped plan: No. 236 --------------------------------------------------------------------


def test_shipped_236_is_dated_and_records_what_the_source_shows(shipped_plan):
    (amendment,) = shipped_plan.file.plan.amendments
    assert amendment.number == "236" and amendment.effective == "after-publication" and amendment.days == 10
    assert amendment.effective_from == D(2023, 3, 28) and amendment.effective_estimated
    changed = {c.obligation for c in amendment.changes}
    assert {"res-3.2", "1", "8.3", "17", "34"} <= changed
    assert not changed & {"2", "5", "11", "12", "30", "res-2", "res-4"}  # rows No. 236 left as adopted
    # The source gives no earlier wording: nothing is undone, no occurrence moves.
    assert all("before" not in c.model_fields_set for c in amendment.changes)


def test_shipped_january_and_february_2023_deadlines_are_owed_under_the_text_before_236(shipped_plan):
    calendar = WorkdayCalendar("KZ")
    jan = explain(shipped_plan, calendar, "res-3.2:finance:2022")
    assert jan.occurrence.due == D(2023, 1, 20) and jan.occurrence.recipient == "mvd"
    assert jan.text_source[0] == "the original text of No. 94 of 2021-02-24"
    assert "owed under the text before it" in jan.text_source[1] and "does not give that earlier wording" in jan.text_source[1]
    feb = explain(shipped_plan, calendar, "16:akimat-astana:2023")
    assert feb.occurrence.due == D(2023, 2, 10) and "No. 236" in feb.text_source[1]
    # res-4 (paragraph 4) was not amended: the original text, nothing pending.
    assert explain(shipped_plan, calendar, "res-4:mvd:2022").text_source == ("the original text of No. 94 of 2021-02-24",)
    dec = explain(shipped_plan, calendar, "17:akimat-astana:2023").text_source
    assert dec[0].startswith("as amended by No. 236 of 2023-03-17")


# --- bad amendment data ----------------------------------------------------------------------------


def test_change_of_an_unknown_row_names_file_line_and_amendment(write_plan):
    text, path, found = problems_of(write_plan, AMENDMENT + '\n[[plan.amendment.change]]\nobligation = "99"\nfield = "due"\n')
    line = line_of(text, '"99"')
    assert found == [f"{path}:{line}: amendment 5: obligation '99' is not in the plan"]


def test_before_naming_an_unknown_body_or_unfit_value(write_plan):
    extra = AMENDMENT + """
[[plan.amendment.change]]
obligation = "7"
field = "responsible"
before = ["labour", "anti-corruption"]

[[plan.amendment.change]]
obligation = "7"
field = "due"
before = { kind = "annual", month = 13, day = 1 }
"""
    text, path, found = problems_of(write_plan, extra)
    assert f"{path}:{line_of(text, 'anti-corruption')}: amendment 5: obligation 7: before: unknown agency or group 'anti-corruption'" in found
    assert any(p.startswith(f"{path}:{line_of(text, 'month = 13')}: amendment 5: obligation 7: before: due") for p in found)


def test_after_must_repeat_what_the_row_now_says(write_plan):
    extra = AMENDMENT + '\n[[plan.amendment.change]]\nobligation = "7"\nfield = "responsible"\nbefore = ["labour"]\nafter = ["mvd"]\n'
    text, path, found = problems_of(write_plan, extra)
    assert len(found) == 1 and found[0].startswith(f"{path}:{line_of(text, 'after = ')}: amendment 5: obligation 7: after = ['mvd']")


@pytest.mark.parametrize(
    "amendment, needle, message",
    [
        ('number = "5"\ndate = 2022-05-16\neffective = "after-publication"\n', "effective =", "needs days = N"),
        ('number = "5"\ndate = 2022-05-16\neffective = "on-signing"\ndays = 10\n', "days =", "goes with effective"),
        ('number = "5"\ndate = 2022-05-16\npublished = 2022-05-01\neffective = "on-signing"\n', "published", "before the act's date"),
        ('number = "5"\ndate = 2022-05-16\neffective = "someday"\n', "effective =", "effective"),
    ],
)
def test_bad_effective_rules(write_plan, amendment, needle, message):
    extra = "\n[[plan.amendment]]\n" + amendment + '\n[[plan.amendment.change]]\nobligation = "7"\nfield = "due"\n'
    text, path, found = problems_of(write_plan, extra)
    assert any(p.startswith(f"{path}:") and message in p for p in found), found
    assert any(f":{line_of(text, '[[plan.amendment]]')}:" in p or f":{line_of(text, needle.split()[0])}:" in p for p in found), found


def test_unknown_field_and_unknown_instance(write_plan):
    extra = AMENDMENT + '\n[[plan.amendment.change]]\nobligation = "7"\nfield = "deadline"\nbefore = "x"\n'
    text, path, found = problems_of(write_plan, extra)
    assert len(found) == 1 and "field 'deadline' is not a cell of a row" in found[0]
    assert found[0].startswith(f"{path}:{line_of(text, '[[plan.amendment.change]]')}")
    extra = AMENDMENT + '\n[[plan.amendment.change]]\nobligation = "7"\ninstance = "2022"\nfield = "recipient"\nbefore = "mvd"\n'
    text, path, found = problems_of(write_plan, extra)
    assert found == [f"{path}:{line_of(text, 'instance = ')}: amendment 5: obligation 7 has no instance '2022' (its instances: none)"]


def test_shipped_plan_json_is_unchanged_by_as_of_around_236(shipped_plan):
    calendar = WorkdayCalendar("KZ")
    everything = sorted(o for o in expand(shipped_plan, calendar))
    assert len(everything) == 1690
    for day in (D(2023, 3, 1), D(2023, 4, 1)):
        assert sorted(expand(shipped_plan.as_of(day), calendar)) == everything
