"""`scheduler new-plan`: a skeleton plan that a secretariat fills in without an engineer. It passes
`validate` as written and expands; it never overwrites a file and writes nothing on bad options; and
the mistakes people make filling it in are refused with the file, the line and what to write."""

import json
import re
import tomllib

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance
NAME = "plan-2024-2026.toml"


@pytest.fixture
def skeleton(scheduler):
    done = scheduler("new-plan", NAME, "--from", "2024", "--to", "2026", "--id", "kz-tip-2024-2026",
                     "--title-kk", "Адам саудасына қарсы 2024 – 2026 жылдарға арналған іс-шаралар жоспары")
    assert done.returncode == 0, done.stderr
    return done, scheduler.cwd / NAME


def test_the_skeleton_validates_and_expands_as_written(scheduler, skeleton):
    done, path = skeleton
    assert f"passes `scheduler validate --plan {NAME}`" in done.stdout
    checked = scheduler("validate", "--plan", NAME)
    assert checked.returncode == 0, checked.stderr
    assert f"{NAME}: plan kz-tip-2024-2026" in checked.stdout and "period 2024–2026" in checked.stdout
    assert "obligations: 3 (1 annual, 1 once, 1 quarterly)" in checked.stdout
    listed = scheduler("expand", "--plan", NAME, "--from", "2024-01-01", "--to", "2026-12-31", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    periods = {(r["obligation"], r["period"]) for r in records if r["agency"] == "mvd"}
    assert {("1", "2024"), ("1", "2026"), ("2", "2024-Q1"), ("2", "2026-Q4")} <= periods
    assert {r["id"] for r in records if r["obligation"] == "3"} == {"3:justice:2024-07-01"}

    plan = tomllib.loads(path.read_text(encoding="utf-8"))
    assert plan["plan"]["title_kk"] == "Адам саудасына қарсы 2024 – 2026 жылдарға арналған іс-шаралар жоспары"
    assert plan["plan"]["period"] == {"from": 2024, "to": 2026}
    # and 2027, when the report on 2026 is due (the commented `dates` example at the end of the file)
    assert plan["office"]["vak-working-body"]["held_by"] == [{"agency": "mvd", "years": [2024, 2025, 2026, 2027]}]
    assert [step["step"] for step in plan["policy"]["ladder"]] == [
        "reminder-14d", "reminder-7d", "reminder-1wd", "due", "escalation-1wd", "escalation-5wd", "period-start"]
    assert plan["policy"]["ladder"][-1]["anchor"] == "period-start"  # an event's reminder early in its period
    assert {r["kind"] for r in records if r["obligation"] == "2"} == {"event"}  # the quarterly example is a training


def test_every_field_is_explained_in_kazakh_and_russian(skeleton):
    _, path = skeleton
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    first_row = lines.index("[[obligation]]")
    # every key of [plan], [policy] and the first example row carries its comment in both languages
    explained = [*range(lines.index("[plan]") + 1, lines.index("[policy]") - 2),
                 *range(lines.index("[policy]") + 1, lines.index("[policy]") + 7),
                 *range(first_row + 1, lines.index("", first_row))]
    for number in explained:
        line = lines[number]
        if line.strip():
            assert re.search(r"# kk: .+ \| ru: .+", line), line
    for kind in ("once", "annual", "half-yearly", "quarterly", "monthly", "within", "year-end", "dates"):
        assert f'kind = "{kind}"' in text
    for value in ('"previous"', '"next"', '"none"', '"working-days"', '"recipient-focal"', '"international-organisation"'):
        assert value in text


def test_the_directory_is_the_shipped_plans_less_the_bodies_abolished_before_it(skeleton):
    _, path = skeleton
    new = tomllib.loads(path.read_text(encoding="utf-8"))
    shipped = tomllib.loads((ROOT / "obligations.toml").read_text(encoding="utf-8"))
    # БҒМ (mes) ceased to exist on 2022-06-10: a 2024–2026 plan neither lists it nor names it predecessor
    expected = {code: body for code, body in shipped["agency"].items() if code != "mes"}
    expected["enlightenment"] = {k: v for k, v in expected["enlightenment"].items() if k not in ("predecessor", "note")}
    assert new["agency"] == expected
    assert new["group"] == shipped["group"]
    assert new["office"].keys() == shipped["office"].keys()


def test_it_never_overwrites_a_file(scheduler, skeleton):
    _, path = skeleton
    path.write_text("# my work\n", encoding="utf-8")
    again = scheduler("new-plan", NAME, "--from", "2024", "--to", "2026")
    assert again.returncode == 2
    assert f"{NAME} already exists: new-plan never overwrites a file" in again.stderr
    assert "Traceback" not in again.stderr
    assert path.read_text(encoding="utf-8") == "# my work\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--from", "2026", "--to", "2024"], "--to 2024 is before --from 2026"),
        (["--from", "24"], "years are written in full"),
        (["--id", "План 2024"], "--id 'План 2024': lowercase Latin letters"),
        (["--title-kk", "  "], "--title-kk: give the title as one line of text"),
    ],
)
def test_bad_options_write_nothing(scheduler, options, message):
    done = scheduler("new-plan", "new.toml", *options)
    assert done.returncode == 2
    assert "nothing written" in done.stderr and message in done.stderr
    assert not (scheduler.cwd / "new.toml").exists()


def _in_rows(old, new, nth=1):
    """Edit the n-th occurrence of `old` among the example rows (the comments above them hold the
    same words); returns the edited text and the 1-based line of the edit."""

    def edit(text):
        start = text.index("\n[[obligation]]\n")
        at = start
        for _ in range(nth):
            at = text.index(old, at + 1)
        edited = text[:at] + new + text[at + len(old):]
        return edited, edited[:at].count("\n") + 1

    return edit


def _drop_second_title(text):
    start = text.index('id = "2"')
    line = text.index("title_kk = ", start)
    end = text.index("\n", line) + 1
    edited = text[:line] + text[end:]
    return edited, edited[:start].count("\n")  # reported on the row's [[obligation]] line


MISTAKES = [
    ("misspelt-agency", _in_rows('responsible = ["mvd", "labour"]', 'responsible = ["mvd", "labor"]'),
     "obligation 2: unknown agency or group 'labor': did you mean 'labour'?"),
    ("name-for-code", _in_rows('responsible = ["justice"]', 'responsible = ["ІІМ"]'),
     "obligation 3: responsible: 'ІІМ' is a body's name, not its code: write its code 'mvd'"),
    ("date-with-dots", _in_rows("date = 2024-07-01 }", "date = 10.12.2024 }"),
     "write dates as 2024-12-10 (year-month-day, without quotes), not 10.12.2024"),
    ("quoted-date-with-dots", _in_rows("date = 2024-07-01 }", 'date = "10.12.2024" }'),
     "obligation 3: due.once.date: '10.12.2024' is not a date: write dates as 2024-12-10"),
    ("month-in-kazakh", _in_rows("month = 12", 'month = "желтоқсан"'),
     "obligation 1: due.annual.month: 'желтоқсан' is not a number: write the month as a number, month = 12"),
    ("month-in-kazakh-unquoted", _in_rows("month = 12", "month = желтоқсан"),
     "write the month as a number, month = 12"),
    ("unknown-rule-kind", _in_rows('kind = "quarterly"', 'kind = "quartely"'),
     "obligation 2: due: unknown rule kind 'quartely' (did you mean 'quarterly'?): write kind = one of: once, annual"),
    ("missing-title", _drop_second_title, "obligation 2: title_kk: required key is missing"),
    ("duplicate-id", _in_rows('id = "2"', 'id = "1"'), "obligation 1: duplicate id '1', already used on line"),
    ("deadline-after-the-plan", _in_rows("date = 2024-07-01 }", "date = 2027-07-01 }"),
     "obligation 3: date 2027-07-01 is after the plan's period 2024–2026: write a date from 2024-01-01 to 2026-12-31"),
    ("responsible-not-a-list", _in_rows('responsible = ["justice"]', 'responsible = "justice"'),
     'obligation 3: responsible = "justice": write a list in square brackets, responsible = ["justice"]'),
    ("shift-misspelt", _in_rows('due = { kind = "once"', 'shift = "prev"\ndue = { kind = "once"'),
     "obligation 3: shift: 'prev' is not allowed (did you mean 'previous'?): write one of: 'previous', 'next' or 'none'"),
]


@pytest.mark.parametrize(("name", "edit", "hint"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_mistake_filling_it_in_names_file_line_and_what_to_write(scheduler, skeleton, name, edit, hint):
    _, path = skeleton
    text, line = edit(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    done = scheduler("validate", "--plan", NAME)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert hint in done.stderr
    syntax = f"{NAME}: TOML syntax: " in done.stderr
    assert (f"(at line {line}, column" if syntax else f"{NAME}:{line}: ") in done.stderr, done.stderr
