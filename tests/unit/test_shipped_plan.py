"""The shipped obligations.toml says what the plan says."""

import datetime as dt
import re
from pathlib import Path

import pytest

from scheduler.plan.model import party_code
from tests.conftest import ROOT

D = dt.date
# The clean transcription of Resolution No. 94 and its plan (public text), kept with the tests so
# that a clone checks the shipped data against it; without it these tests fail, never skip.
PLAN_MD = ROOT / "tests" / "data" / "plan-transcription.md"


def transcription() -> dict[str, dict[str, str]]:
    if not PLAN_MD.is_file():
        pytest.fail(f"the plan's transcription is missing from the repository: {PLAN_MD.relative_to(ROOT)}")
    rows = {}
    for block in re.split(r"\n### Row ", PLAN_MD.read_text(encoding="utf-8"))[1:]:
        row_id = block.split("\n", 1)[0].strip()
        rows[row_id] = dict(re.findall(r"^- `(\w+)`: (.*)$", block, re.M))
    return rows


def test_every_row_is_an_obligation_or_the_heading(shipped_plan):
    rows = transcription()
    ids = {o.id for o in shipped_plan.obligations}
    assert set(rows) - ids == {"8"}
    assert ids - set(rows) == {"res-2", "res-3.2", "res-4"}
    assert [h.id for h in shipped_plan.file.headings] == ["8"]


def test_titles_forms_and_deadlines_are_the_plans_own_words(shipped_plan):
    for row_id, row in transcription().items():
        if row_id == "8":
            heading = shipped_plan.file.headings[0]
            assert heading.title_kk == row["activity_kk"]
            continue
        obligation = shipped_plan.obligation(row_id)
        assert obligation.title_kk == row["activity_kk"], row_id
        assert obligation.form_kk == row["form_kk"], row_id
        assert obligation.deadline_kk == row["deadline_kk"], row_id
        assert obligation.responsible_kk == row["responsible_kk"], row_id
        assert obligation.costs_kk == row["costs_kk"], row_id
        assert obligation.financing_kk == row["source_kk"], row_id


def test_responsible_codes_match_the_printed_list(shipped_plan):
    """Every code's abbreviation appears in the printed list, and every abbreviation has a code."""
    abbreviations = {}
    for code, agency in shipped_plan.file.agencies.items():
        if agency.kind != "akimat":
            for name in (agency.short_kk, *agency.aliases_kk):
                abbreviations[name] = code
    for obligation in shipped_plan.obligations:
        if obligation.responsible == "all" or obligation.id.startswith("res-"):
            continue
        printed = obligation.responsible_kk
        codes = {party_code(r) for r in obligation.responsible}
        for office in codes & set(shipped_plan.file.offices):  # row 1: the working body, its holders by year
            codes.discard(office)
            codes.update(t.agency for t in shipped_plan.file.offices[office].held_by)
        mentioned = {code for name, code in abbreviations.items() if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", printed)}
        if "akimats" in codes:
            assert "әкімдіктері" in printed, obligation.id
            codes.discard("akimats")
        else:
            assert "әкімдіктері" not in printed, obligation.id
        # "ІІМ" also appears inside the Karaganda academy's name.
        if "karaganda-academy" in codes and printed.count("ІІМ") == 1:
            mentioned.discard("mvd")
        assert codes == mentioned, obligation.id


def test_akimats_group_membership_is_dated(shipped_plan):
    group = shipped_plan.file.groups["akimats"]
    before = shipped_plan.members_on(group, D(2022, 6, 7))
    after = shipped_plan.members_on(group, D(2022, 6, 8))
    assert len(before) == len(after) == 20  # membership lists all; existence is dated per agency
    existing = lambda day: {a for a in after if shipped_plan.agency_on(a, day)}  # noqa: E731
    assert len(existing(D(2022, 6, 7))) == 17
    assert existing(D(2022, 6, 8)) - existing(D(2022, 6, 7)) == {"akimat-abai", "akimat-jetisu", "akimat-ulytau"}


def test_astana_was_nur_sultan_until_17_september_2022(shipped_plan):
    assert shipped_plan.display_name("akimat-astana", D(2022, 9, 16)) == "Нұр-Сұлтан қаласының әкімдігі"
    assert shipped_plan.display_name("akimat-astana", D(2022, 9, 17)) == "Астана қаласының әкімдігі"
    assert shipped_plan.display_name("akimat-astana", D(2021, 1, 1), "ru") == "Акимат города Нур-Султана"


def test_codes_named_by_the_contract_exist(shipped_plan):
    contract = (
        "labour mvd finance health mes enlightenment justice mfa gpo knb info digital culture defence "
        "anticorruption supreme-court iom winrock hr-ombudsman child-ombudsman karaganda-academy "
        "gpo-academy justice-academy"
    ).split()
    regions = (
        "abai akmola aktobe almaty-region atyrau east-kazakhstan jambyl jetisu west-kazakhstan karaganda "
        "kostanay kyzylorda mangystau pavlodar north-kazakhstan turkistan ulytau astana almaty shymkent"
    ).split()
    agencies = shipped_plan.file.agencies
    assert set(contract) <= set(agencies)
    assert {f"akimat-{r}" for r in regions} == {c for c, a in agencies.items() if a.kind == "akimat"}


def test_by_agreement_bodies_are_marked(shipped_plan):
    marked = {c for c, a in shipped_plan.file.agencies.items() if a.by_agreement}
    assert {"gpo", "knb", "supreme-court", "iom", "winrock", "karaganda-academy"} <= marked
    assert not marked & {"labour", "mvd", "finance", "akimat-almaty"}


def test_the_shipped_file_is_utf8_without_tabs():
    text = Path(ROOT / "obligations.toml").read_text(encoding="utf-8")
    assert "\t" not in text
