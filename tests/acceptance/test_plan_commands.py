"""`validate`, `expand` and `explain` as a user runs them, against the shipped plan."""

import csv
import io
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.acceptance

# Deadlines derived by hand from the resolution's text and Kazakhstan's 2021–2024 calendar:
# (occurrence id, nominal date, due date, recipient)
HAND_CHECKED = [
    ("7:finance:2021", "2021-12-10", "2021-12-10", None),  # a Friday
    ("7:finance:2022", "2022-12-10", "2022-12-09", None),  # Saturday → Friday
    ("7:finance:2023", "2023-12-10", "2023-12-08", None),  # Sunday → Friday
    # "within one month": a period whose last day is a day off ends on the next working day
    ("res-2:akimat-almaty:2021-03-24", "2021-03-24", "2021-03-25", None),  # Nauryz days off 21–24 March
    ("res-2:akimat-astana:2021-03-24", "2021-03-24", "2021-03-25", None),
    ("2:labour:2021-07-01", "2021-07-01", "2021-07-01", None),
    ("4:iom:2021-07-01", "2021-07-01", "2021-07-01", "government"),  # "proposals to the Government"
    ("5:akimat-shymkent:2021-07-01", "2021-07-01", "2021-07-01", "finance"),  # "proposals to the MoF"
    ("12:labour:2021-06-10", "2021-06-10", "2021-06-10", None),  # to the working body, labour itself in 2021: its own
    ("30:mvd:2021-06-01", "2021-06-01", "2021-06-01", None),
    ("1:labour:2021-H1", "2021-06-30", "2021-06-30", None),
    ("1:labour:2021-H2", "2021-12-31", "2021-12-31", None),
    ("1:mvd:2022-H1", "2022-06-30", "2022-06-30", None),
    ("1:mvd:2022-H2", "2022-12-31", "2022-12-30", None),  # Saturday
    ("1:mvd:2023-H2", "2023-12-31", "2023-12-29", None),  # Sunday, then Saturday
    ("31:mvd:2021-Q1", "2021-03-31", "2021-03-31", None),  # after adoption on 24 February: counts
    ("31:mvd:2021-Q3", "2021-09-30", "2021-09-30", None),
    ("31:karaganda-academy:2023-Q3", "2023-09-30", "2023-09-29", None),
    ("32:gpo:2022-Q4", "2022-12-31", "2022-12-30", None),
    ("34:akimat-ulytau:2022-Q2", "2022-06-30", "2022-06-30", None),  # Ulytau oblast exists from 8 June 2022
    ("16:akimat-astana:2022", "2022-02-10", "2022-02-10", None),
    ("16:akimat-shymkent:2023", "2023-02-10", "2023-02-10", None),
    ("36:mvd:2023-12-31", "2023-12-31", "2023-12-29", None),
    ("36:interested-bodies:2023-12-31", "2023-12-31", "2023-12-29", None),
    ("res-3.2:labour:2021", "2022-01-20", "2022-01-20", None),  # labour receives 2021's: its own report
    ("res-3.2:mvd:2021", "2022-01-20", "2022-01-20", "labour"),
    ("res-3.2:mvd:2022", "2023-01-20", "2023-01-20", None),  # ІІМ receives 2022's: its own report
    ("res-3.2:labour:2022", "2023-01-20", "2023-01-20", "mvd"),
    ("res-3.2:akimat-abai:2022", "2023-01-20", "2023-01-20", "mvd"),
    ("res-3.2:winrock:2023", "2024-01-20", "2024-01-19", "mvd"),  # Saturday
    ("res-4:labour:2021", "2022-02-10", "2022-02-10", "government"),
    ("res-4:mvd:2022", "2023-02-10", "2023-02-10", "government"),
    ("res-4:mvd:2023", "2024-02-10", "2024-02-09", "government"),  # Saturday
    ("8.3:mes:2021", "2021-12-10", "2021-12-10", "labour"),  # ОМ did not exist yet: БҒМ owes it
    ("8.3:enlightenment:2022", "2022-12-10", "2022-12-09", "mvd"),
    ("6:mvd:2021", "2021-12-10", "2021-12-10", "labour"),
    ("6:mvd:2022", "2022-12-10", "2022-12-09", None),  # ІІМ holds the working body in 2022
]

ABSENT = [
    "16:akimat-astana:2021",  # 10 February 2021 is before the adoption
    "res-2:akimat-abai:2021-03-24",  # Abai oblast did not exist yet
    "34:akimat-ulytau:2022-Q1",
    "8.3:enlightenment:2021",
    "1:labour:2022-H1",  # row 1 is the Ministry of Labour's only in 2021
    "1:mvd:2021-H2",
    "res-4:mvd:2021",
    "8:mvd:2022",  # row 8 is a heading
    "res-3.2:ngos:2021",  # paragraph 3.2 is owed by the bodies the plan names, not by placeholders
    "res-3.2:interested-bodies:2022",
]


@pytest.fixture(scope="module")
def full_expansion(tmp_path_factory):
    from tests.conftest import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "expand", "--plan", str(ROOT / "obligations.toml"),
         "--from", "2021-01-01", "--to", "2024-12-31", "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_validate_passes_on_the_shipped_plan(scheduler):
    result = scheduler("validate")
    assert result.returncode == 0, result.stderr
    assert "plan kz-tip-2021-2023" in result.stdout
    assert result.stdout.rstrip().endswith("OK")


def test_expand_json_has_the_contract_fields_sorted(full_expansion):
    assert full_expansion, "no occurrences"
    for record in full_expansion:
        assert {"id", "obligation", "agency", "period", "nominal_due", "due", "recipient", "title"} <= set(record)
        assert "2021-01-01" <= record["due"] <= "2024-12-31"
    keys = [(r["due"], r["id"]) for r in full_expansion]
    assert keys == sorted(keys)
    assert len({r["id"] for r in full_expansion}) == len(full_expansion)


@pytest.mark.parametrize(("occurrence", "nominal", "due", "recipient"), HAND_CHECKED, ids=[h[0] for h in HAND_CHECKED])
def test_hand_checked_deadlines(full_expansion, occurrence, nominal, due, recipient):
    found = {r["id"]: r for r in full_expansion}
    assert occurrence in found
    record = found[occurrence]
    assert (record["nominal_due"], record["due"], record["recipient"]) == (nominal, due, recipient)


@pytest.mark.parametrize("occurrence", ABSENT)
def test_occurrences_the_plan_does_not_create(full_expansion, occurrence):
    assert occurrence not in {r["id"] for r in full_expansion}


def test_counts_follow_the_dated_groups(full_expansion):
    by_obligation = {}
    for record in full_expansion:
        by_obligation.setdefault(record["obligation"], []).append(record)
    # res-2: the 14 oblasts and 3 cities of March 2021
    assert len(by_obligation["res-2"]) == 17
    # row 16: 17 akimats in February 2022, 20 in February 2023
    periods = [r["period"] for r in by_obligation["16"]]
    assert (periods.count("2022"), periods.count("2023")) == (17, 20)
    # res-4: one consolidated report a year, three in all
    assert sorted(r["id"] for r in by_obligation["res-4"]) == ["res-4:labour:2021", "res-4:mvd:2022", "res-4:mvd:2023"]


def test_title_is_the_kazakh_text(full_expansion):
    record = next(r for r in full_expansion if r["id"] == "7:finance:2022")
    assert record["title"].startswith("Адам саудасының қылмыстарынан жәбірленушілерге")


def test_range_and_filters(scheduler):
    result = scheduler("expand", "--from", "2022-12-01", "--to", "2022-12-31", "--agency", "finance", "--format", "json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert records and all(r["agency"] == "finance" and r["due"].startswith("2022-12") for r in records)
    one = json.loads(scheduler("expand", "--obligation", "res-4", "--format", "json").stdout)
    assert [r["id"] for r in one] == ["res-4:labour:2021", "res-4:mvd:2022", "res-4:mvd:2023"]


def test_csv_matches_json(scheduler):
    args = ("expand", "--from", "2023-01-01", "--to", "2023-03-31")
    rows = list(csv.DictReader(io.StringIO(scheduler(*args, "--format", "csv").stdout)))
    records = json.loads(scheduler(*args, "--format", "json").stdout)
    assert [(r["id"], r["due"]) for r in rows] == [(r["id"], r["due"]) for r in records]


def test_table_is_aligned_by_display_width(scheduler):
    result = scheduler("expand", "--from", "2022-12-01", "--to", "2022-12-10", "--agency", "akimat-astana")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    title_column = lines[0].index("title")
    for line in lines[2:-1]:
        assert line[title_column - 2 : title_column] == "  " and line[title_column] != " "
    assert lines[-1].endswith("occurrence(s)")


def test_explain_names_the_shift_and_its_cause(scheduler):
    result = scheduler("explain", "7:finance:2022")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "nominal due  2022-12-10 (Saturday, 10 December 2022)" in out
    assert "2022-12-10 (Saturday, 10 December 2022) is not a working day: weekend" in out
    assert "due          2022-12-09 (Friday, 9 December 2022)" in out
    assert "annually, by 10 December" in out


def test_explain_names_the_holiday(scheduler):
    out = scheduler("explain", "res-2:akimat-almaty:2021-03-24").stdout
    assert "2021-03-24 (Wednesday, 24 March 2021) is not a working day: Nowruz Holiday (observed)" in out
    assert "due          2021-03-25" in out  # a period's end on a day off: the next working day
    assert "shift        to the next working day (the plan's policy for a period counted from an act" in out


def test_explain_in_kazakh_uses_the_official_date_style(scheduler):
    out = scheduler("explain", "7:finance:2022", "--lang", "kk").stdout
    assert "2022 жылғы 9 желтоқсан" in out
    assert "Қазақстан Республикасы Қаржы министрлігі" in out


def test_console_script_and_module_are_the_same_program(scheduler):
    module = subprocess.run([sys.executable, "-m", "scheduler", "--version"], capture_output=True, text=True)
    assert module.stdout == scheduler("--version").stdout != ""


def test_plan_path_from_the_environment(scheduler, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (scheduler.cwd / "obligations.toml").rename(elsewhere / "plan-2021.toml")
    assert scheduler("validate").returncode == 2
    result = scheduler("validate", env_extra={"SCHEDULER_PLAN": str(elsewhere / "plan-2021.toml")})
    assert result.returncode == 0, result.stderr


def test_ics_has_the_same_events_as_json(scheduler):
    from icalendar import Calendar

    args = ("expand", "--from", "2022-01-01", "--to", "2022-12-31", "--agency", "akimat-astana")
    records = json.loads(scheduler(*args, "--format", "json").stdout)
    result = subprocess.run([sys.executable, "-m", "scheduler", *args, "--format", "ics"], cwd=scheduler.cwd,
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    events = Calendar.from_ical(result.stdout).walk("VEVENT")
    assert sorted((str(e["UID"]).removesuffix("@obligation-scheduler"), e.decoded("DTSTART").isoformat()) for e in events) == sorted(
        (r["id"], r["due"]) for r in records
    )
    assert result.stdout == subprocess.run([sys.executable, "-m", "scheduler", *args, "--format", "ics"],
                                           cwd=scheduler.cwd, capture_output=True, timeout=60).stdout
    moved = next(e for e in events if str(e["UID"]).startswith("8.3:akimat-astana:2022@"))
    # In the plan's language: the nominal date, a Saturday, is no working day.
    assert "2022 жылғы 10 желтоқсан (сенбі) — жұмыс күні емес" in str(moved["DESCRIPTION"])
