"""The plan as the law reads it: bodies that appear or vanish during a period, the shift per kind
of deadline, events by what their form asks, assumptions the source cannot settle."""

import datetime as dt

from scheduler.calendar.expand import expand
from scheduler.calendar.explain import explain
from scheduler.calendar.periods import event_opening, info_of, period_info, succession
from scheduler.plan import load_plan
from tests.conftest import MINIMAL_PLAN

D = dt.date

REORGANISED = MINIMAL_PLAN.replace('''[[obligation]]''', '''[agency.old]
kind = "ministry"
short_kk = "Ескі"
name_kk = "Ескі министрлік"
valid_until = 2022-05-15
source = "Decree No. 1 of 1 May 2022"

[agency.heir]
kind = "ministry"
short_kk = "Мұрагер"
name_kk = "Мұрагер министрлік"
valid_from = 2022-05-16
predecessor = "old"
source = "Decree No. 1 of 1 May 2022"

[agency.fresh]
kind = "akimat"
short_kk = "Жаңа"
name_kk = "Жаңа облыс әкімдігі"
valid_from = 2022-05-20
source = "Decree No. 2 of 3 May 2022"

[[obligation]]
id = "q"
title_kk = "Кеңес өткізу"
kind = "event"
responsible = ["heir", "fresh", "labour"]
due = { kind = "quarterly" }

[[obligation]]''')


def test_a_body_formed_in_the_shipped_plan_owes_from_its_first_day(shipped_plan, kz_calendar):
    owed = {o.id for o in expand(shipped_plan, kz_calendar, obligation="1", agency="akimat-abai")}
    assert "1:akimat-abai:2021-H2" not in owed and "1:akimat-abai:2022-H1" in owed  # nothing before 8 June 2022
    info = info_of(shipped_plan, "1:akimat-abai:2022-H1")
    assert info.partial_from == D(2022, 6, 8) and info.start == D(2022, 6, 8) and "No. 887" in info.partial_why
    assert info_of(shipped_plan, "34:akimat-ulytau:2022-Q2").start == D(2022, 6, 8)
    assert info_of(shipped_plan, "34:akimat-ulytau:2022-Q3").partial_from is None  # a whole period after
    assert period_info(shipped_plan, "34", "2022-Q2", "akimat-karaganda").partial_from is None  # the body it left
    assert info_of(shipped_plan, "1:akimat-abai:2021-H1").partial_from == D(2021, 2, 24)  # the adoption, as before
    assert event_opening(shipped_plan)("34:akimat-jetisu:2022-Q2") == D(2022, 6, 8)


def test_a_body_reorganised_mid_quarter(write_plan, kz_calendar):
    plan = load_plan(write_plan(REORGANISED))
    owed = {o.id for o in expand(plan, kz_calendar, obligation="q")}
    assert "q:old:2022-Q1" in owed and "q:old:2022-Q2" not in owed  # abolished on 15 May: its successor owes Q2
    assert "q:heir:2022-Q2" in owed and "q:heir:2022-Q1" not in owed
    whole = info_of(plan, "q:heir:2022-Q2")
    assert whole.partial_from is None and whole.start == D(2022, 4, 1)  # what the predecessor left is its own
    assert "heir succeeds old from 2022-05-16" in succession(plan, "heir", whole)
    assert "Decree No. 1" in succession(plan, "heir", whole)
    assert "q:fresh:2022-Q1" not in owed and "q:fresh:2022-Q2" in owed  # nothing before it existed
    joined = info_of(plan, "q:fresh:2022-Q2")
    assert joined.partial_from == D(2022, 5, 20) and "Decree No. 2" in joined.partial_why
    why = explain(plan, kz_calendar, "q:fresh:2022-Q2")
    assert any("fresh exists from 2022-05-20" in line and "Decree No. 2" in line for line in why.dating)


def test_explain_says_the_partial_period_of_a_new_body(shipped_plan, capsys):
    from scheduler.cli import main
    import pytest

    with pytest.raises(SystemExit) as done:
        main(["explain", "34:akimat-abai:2022-Q2"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    assert "partial period: from 08.06.2022, akimat-abai's first day" in out and "No. 887" in out
    assert "nothing is owed for the days before" in out


def test_a_period_ending_on_a_day_off_ends_on_the_next_working_day(shipped_plan, kz_calendar):
    owed = next(o for o in expand(shipped_plan, kz_calendar, obligation="res-2", agency="akimat-akmola"))
    assert owed.nominal_due == D(2021, 3, 24) and owed.due == D(2021, 3, 25)  # "within one month", Nauryz
    why = explain(shipped_plan, kz_calendar, owed.id)
    assert why.direction == "next" and "period counted from an act (shift_period)" in why.direction_source
    dated = explain(shipped_plan, kz_calendar, "7:finance:2022")
    assert dated.occurrence.due == D(2022, 12, 9) and "dated deadline (shift)" in dated.direction_source


def test_the_shift_per_kind_is_overridable_per_plan_and_per_row(write_plan, kz_calendar):
    within = MINIMAL_PLAN.replace('due = { kind = "annual", month = 12, day = 10 }',
                                  'due = { kind = "within", anchor = "adoption", months = 1 }')
    plan = load_plan(write_plan(within))
    assert {o.due for o in expand(plan, kz_calendar)} == {D(2021, 3, 25)}
    plan = load_plan(write_plan(within.replace("[agency.labour]", '[policy]\nshift_period = "previous"\n\n[agency.labour]')))
    assert {o.due for o in expand(plan, kz_calendar)} == {D(2021, 3, 19)}
    plan = load_plan(write_plan(within + 'shift = "none"\n'))
    assert {o.due for o in expand(plan, kz_calendar)} == {D(2021, 3, 24)}
    assert explain(plan, kz_calendar, "7:labour:2021-03-24").direction_source == "this row's own shift"


def test_rows_whose_form_asks_for_events_are_events_held_by_their_date(shipped_plan):
    for row in ("14", "19", "24", "25", "26", "28"):
        assert shipped_plan.obligation(row).kind == "event", row
    assert shipped_plan.obligation("17").kind == "deliverable"  # asks for information
    held = info_of(shipped_plan, "28:mvd:2022")
    assert held.event and (held.start, held.end) == (D(2022, 1, 1), D(2022, 12, 10))  # by 10 December
    first = info_of(shipped_plan, "28:mvd:2021")
    assert (first.start, first.end, first.partial_why) == (D(2021, 2, 24), D(2021, 12, 10), "the plan's adoption")
    abai = info_of(shipped_plan, "24:akimat-abai:2022")
    assert (abai.start, abai.end) == (D(2022, 6, 8), D(2022, 12, 10))


def test_the_yearly_information_is_owed_by_the_parties_with_measures_that_year(shipped_plan, kz_calendar):
    owed = {o.id for o in expand(shipped_plan, kz_calendar, obligation="res-3.2", agency="hr-commission")}
    assert owed == {"res-3.2:hr-commission:2021"}  # its rows 2, 3, 4 ended on 1 July 2021
    why = explain(shipped_plan, kz_calendar, "res-3.2:labour:2022")
    assert "with a measure of its own in 2022" in why.responsibility.reason
    assert len(list(expand(shipped_plan, kz_calendar, obligation="res-3.2"))) == 127  # 129 before


def test_what_the_source_cannot_settle_is_an_assumption_changed_by_one_value(shipped_plan, kz_calendar, write_plan):
    from tests.conftest import SHIPPED_PLAN

    why = explain(shipped_plan, kz_calendar, "1:mvd:2022-H1")
    assert "holder of vak-working-body in 2022; assumption (the program's reading, not the source's)" in why.responsibility.reason
    assert "assumption" not in explain(shipped_plan, kz_calendar, "1:mvd:2023-H1").responsibility.reason
    quarter = explain(shipped_plan, kz_calendar, "34:akimat-akmola:2023-Q1")
    assumed = [line for line in quarter.text_source if line.startswith("assumption")]
    assert assumed and "published by 2023-03-20" in assumed[0] and "set published = YYYY-MM-DD on amendment 236" in assumed[0]
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    other = text.replace('{ agency = "mvd", years = [2022], assumed', '{ agency = "labour", years = [2022], assumed', 1)
    plan = load_plan(write_plan(other))
    owed = {o.id for o in expand(plan, kz_calendar, obligation="1")}
    assert "1:labour:2022-H1" in owed and "1:mvd:2022-H1" not in owed and "1:mvd:2023-H1" in owed
    published = text.replace('effective = "after-publication"\ndays = 10', 'effective = "after-publication"\ndays = 10\npublished = 2023-03-24', 1)
    plan = load_plan(write_plan(published))
    lines = explain(plan, kz_calendar, "34:akimat-akmola:2023-Q1").text_source
    assert lines[0] == "the original text of No. 94 of 2021-02-24" and not any("published on the day" in line for line in lines)


def test_explain_quotes_only_the_source_s_words(shipped_plan, capsys):
    import re
    from pathlib import Path

    import pytest

    from scheduler.cli import main

    source = re.sub(r"\s+", " ", (Path(__file__).parents[1] / "data" / "plan-transcription.md").read_text(encoding="utf-8"))
    for row in shipped_plan.obligations:
        for words in (row.title_kk, row.form_kk, row.responsible_kk, row.deadline_kk if row.deadline_kk_source else None):
            assert words is None or re.sub(r"\s+", " ", words) in source, (row.id, words)
    with pytest.raises(SystemExit):
        main(["explain", "res-3.2:labour:2022"])
    out = capsys.readouterr().out
    assert '"жыл сайын, 20 қаңтардан кешіктірмей"' not in out
    assert "in the program's words, not the source's: жыл сайын, 20 қаңтардан кешіктірмей" in out
    assert "(the program's reading)" in out


def test_the_consolidated_report_marks_the_assumed_working_body(shipped_plan, kz_calendar):
    from scheduler.report.consolidated import Answer, consolidate

    answers = [Answer(o.id, o.obligation, o.agency, o.period, o.due) for o in expand(shipped_plan, kz_calendar)]
    entries = {e.occurrence: e for row in consolidate(shipped_plan, answers, lang="ru").rows for e in row.entries}
    assert "допущение: рабочий орган МВК в 2022 году — Министерство внутренних дел" in entries["1:mvd:2022-H1"].period
    assert entries["1:mvd:2022-H1"].period.startswith("I полугодие 2022 г.; ")
    assert "допущение" not in entries["1:mvd:2023-H1"].period and "допущение" not in entries["1:labour:2021-H2"].period
    kk = {e.occurrence: e for row in consolidate(shipped_plan, answers, lang="kk").rows for e in row.entries}
    assert "болжам: ВАК жұмыс органы 2022 жылы — ІІМ" in kk["6:finance:2022"].period  # sent to the working body


def test_the_readings_the_source_does_not_settle_are_data_for_the_pages_and_the_report(shipped_plan):
    """The 2022 working body (an office's holder marked `assumed`) and No. 236's publication date
    (in doubt only for the deadlines it would change were it published within 30 days of signing)."""
    from scheduler.plan.assumptions import Office, Publication, assumptions

    plan = shipped_plan
    assert assumptions(plan, "1", "mvd", dt.date(2022, 12, 30)) == [Office("vak-working-body", "mvd", 2022)]
    assert assumptions(plan, "1", "mvd", dt.date(2023, 12, 30)) == []
    assert assumptions(plan, "34", "akimat-astana", dt.date(2023, 3, 31)) == [
        Publication("236", dt.date(2023, 3, 17), dt.date(2023, 3, 20))]
    assert assumptions(plan, "34", "akimat-astana", dt.date(2023, 6, 30)) == []
    assert assumptions(plan, "7", "finance", dt.date(2022, 12, 9)) == []
