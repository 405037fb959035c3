"""Broken plans: each gives one PlanError naming the file, the line and the obligation or table."""

import pytest

from scheduler.errors import PlanError
from scheduler.plan import load_plan
from tests.conftest import MINIMAL_PLAN, SHIPPED_PLAN


def problems_of(write_plan, text):
    path = write_plan(text)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return path, [str(p) for p in caught.value.problems]


def line_of(text, needle, occurrence=1):
    """1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def test_minimal_plan_loads(write_plan):
    plan = load_plan(write_plan(MINIMAL_PLAN))
    assert [o.id for o in plan.obligations] == ["7"]


def test_toml_syntax_error_names_line_and_column(write_plan):
    text = MINIMAL_PLAN.replace('responsible = ["labour", "mvd"]', 'responsible = ["labour", "mvd"')
    path, found = problems_of(write_plan, text)
    assert len(found) == 1
    assert found[0].startswith(f"{path}: TOML syntax")
    assert f"line {line_of(text, 'responsible') + 1}" in found[0]


def test_impossible_calendar_date_is_a_syntax_error_with_its_line(write_plan):
    text = MINIMAL_PLAN.replace("adopted = 2021-02-24", "adopted = 2021-02-30")
    _, found = problems_of(write_plan, text)
    assert f"line {line_of(text, 'adopted')}" in found[0]


def test_unknown_agency_names_line_and_obligation(write_plan):
    text = MINIMAL_PLAN.replace('["labour", "mvd"]', '["labour", "labor"]')
    path, found = problems_of(write_plan, text)
    assert found == [
        f"{path}:{line_of(text, 'responsible')}: obligation 7: unknown agency or group 'labor': did you mean 'labour'?"
    ]


def test_duplicate_obligation_id(write_plan):
    second = MINIMAL_PLAN[MINIMAL_PLAN.index("[[obligation]]") :]
    text = MINIMAL_PLAN + "\n" + second
    path, found = problems_of(write_plan, text)
    line = line_of(text, 'id = "7"', 2)
    first = line_of(text, 'id = "7"', 1)
    assert found == [f"{path}:{line}: obligation 7: duplicate id '7', already used on line {first}"]


def test_impossible_annual_day(write_plan):
    text = MINIMAL_PLAN.replace("month = 12, day = 10", "month = 2, day = 30")
    path, found = problems_of(write_plan, text)
    assert found == [f"{path}:{line_of(text, 'due =')}: obligation 7: due.annual: month 2 has no day 30"]


def test_rule_with_no_deadline_in_the_period(write_plan):
    text = MINIMAL_PLAN.replace('{ kind = "annual", month = 12, day = 10 }', '{ kind = "year-end", year = 2030 }')
    path, found = problems_of(write_plan, text)
    assert found == [
        f"{path}:{line_of(text, 'due =')}: obligation 7: its rule yields no deadline between the "
        "adoption (2021-02-24) and the end of the period (2023-12-31)"
    ]


def test_one_off_before_adoption(write_plan):
    text = MINIMAL_PLAN.replace('{ kind = "annual", month = 12, day = 10 }', '{ kind = "once", date = 2020-12-01 }')
    path, found = problems_of(write_plan, text)
    assert found == [
        f"{path}:{line_of(text, 'due =')}: obligation 7: date 2020-12-01 is before the plan's adoption (2021-02-24)"
    ]


def test_year_scope_outside_the_period(write_plan):
    text = MINIMAL_PLAN.replace('["labour", "mvd"]', '[{ party = "labour", years = [2021, 2025] }, "mvd"]')
    path, found = problems_of(write_plan, text)
    assert found == [
        f"{path}:{line_of(text, 'responsible')}: obligation 7: year scope 2025 is outside the plan's period 2021–2023"
    ]


def test_recipient_must_be_an_agency(write_plan):
    text = MINIMAL_PLAN + 'recipient = "ministry-of-everything"\n'
    path, found = problems_of(write_plan, text)
    assert found == [
        f"{path}:{line_of(text, 'recipient')}: obligation 7: recipient 'ministry-of-everything' is not an "
        "agency, an office or 'government'"
    ]


def test_missing_title(write_plan):
    text = MINIMAL_PLAN.replace('title_kk = "Талдау нәтижелері"\n', "")
    path, found = problems_of(write_plan, text)
    assert found == [f"{path}:{line_of(text, '[[obligation]]')}: obligation 7: title_kk: required key is missing"]


def test_empty_title(write_plan):
    text = MINIMAL_PLAN.replace('title_kk = "Талдау нәтижелері"', 'title_kk = ""')
    _, found = problems_of(write_plan, text)
    assert 'obligation 7: title_kk: empty: write the text between the quotes (title_kk = "…")' in found[0]


def test_misspelt_key_is_reported_not_ignored(write_plan):
    text = MINIMAL_PLAN.replace("responsible =", "responsable =")
    path, found = problems_of(write_plan, text)
    line = line_of(text, "responsable")
    # the first message, with the key meant; then the "missing responsible" it causes
    assert found[0] == (f"{path}:{line}: obligation 7: responsable: unknown key: did you mean 'responsible'? "
                        "(write responsible = …)")
    assert found[1:] == [f"{path}:{line_of(text, '[[obligation]]')}: obligation 7: responsible: required key is missing"]


def test_wrong_type(write_plan):
    text = MINIMAL_PLAN.replace("month = 12", 'month = "December"')
    _, found = problems_of(write_plan, text)
    assert "obligation 7: due.annual.month: 'December' is not a number: write the month as a number, month = 12" in found[0]


def test_unknown_rule_kind(write_plan):
    text = MINIMAL_PLAN.replace('kind = "annual"', 'kind = "weekly"')
    _, found = problems_of(write_plan, text)
    assert "obligation 7: due: unknown rule kind 'weekly': write kind = one of: once, annual, half-yearly" in found[0]


def test_predecessor_cycle(write_plan):
    text = MINIMAL_PLAN.replace(
        'name_kk = "Еңбек министрлігі"', 'name_kk = "Еңбек министрлігі"\npredecessor = "mvd"'
    ).replace('name_kk = "Ішкі істер министрлігі"', 'name_kk = "Ішкі істер министрлігі"\npredecessor = "labour"')
    path, found = problems_of(write_plan, text)
    assert f"{path}:{line_of(text, 'predecessor', 1)}: agency labour: predecessors go round in a circle: labour → mvd → labour" in found


def test_unknown_group_member_and_office_holder(write_plan):
    text = MINIMAL_PLAN + (
        '\n[group.everyone]\nname_kk = "барлығы"\nmembers = ["labour", "nobody"]\n'
        '\n[office.secretariat]\nname_kk = "хатшылық"\nheld_by = [{ agency = "ghost", years = [2021] }]\n'
    )
    path, found = problems_of(write_plan, text)
    assert f"{path}:{line_of(text, 'members')}: group everyone: member 'nobody' is not an agency" in found
    assert f"{path}:{line_of(text, 'held_by')}: office secretariat: holder 'ghost' is not an agency" in found


def test_office_without_holder_in_a_deadline_year(write_plan):
    text = MINIMAL_PLAN.replace('recipient', 'x') + (
        'recipient = "secretariat"\n'
        '\n[office.secretariat]\nname_kk = "хатшылық"\nheld_by = [{ agency = "labour", years = [2021, 2022] }]\n'
    )
    path, found = problems_of(write_plan, text)
    assert found == [
        f"{path}:{line_of(text, 'recipient')}: obligation 7: recipient office secretariat has no holder in 2023 "
        "(deadline 2023-12-10)"
    ]


def test_every_problem_is_reported_at_once(write_plan):
    text = MINIMAL_PLAN.replace('["labour", "mvd"]', '["labor", "mvd"]') + 'recipient = "nobody"\n'
    _, found = problems_of(write_plan, text)
    assert len(found) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b"schema = 1\n\x00\x01\x02", "this is a binary file"),
        (b'schema = 1\n# caf\xe9\n', "not UTF-8 text"),
    ],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "plan.toml"
    path.write_bytes(content)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(PlanError, match="no such file"):
        load_plan(tmp_path / "absent.toml")


def test_error_in_the_shipped_plan_points_at_the_edited_line(write_plan):
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    start = text.index('id = "23"')
    edited = text[:start] + text[start:].replace('"anticorruption"', '"anti-corruption"', 1)
    path, found = problems_of(write_plan, edited)
    line = edited[: edited.index('"anti-corruption"')].count("\n") + 1
    assert found == [f"{path}:{line}: obligation 23: unknown agency or group 'anti-corruption': did you mean 'anticorruption'?"]
