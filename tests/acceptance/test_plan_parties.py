"""What the plan's text asks of its parties, as `expand`, `explain` and `validate` show it: placeholders
(named with no addressee) listed but left out of "all"; a body's own report; the source of each date
of the 2022 reorganisations."""

import json

import pytest

from tests.acceptance.test_bad_input import assert_clean_failure, break_plan

pytestmark = pytest.mark.acceptance

PLACEHOLDERS = {"ngos", "interested-bodies"}


def expand(scheduler, *args):
    result = scheduler("expand", "--from", "2021-01-01", "--to", "2024-12-31", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_paragraph_3_2_is_owed_by_the_bodies_the_plan_names_not_by_placeholders(scheduler):
    rows = expand(scheduler, "--obligation", "res-3.2")
    assert not {r["agency"] for r in rows} & PLACEHOLDERS
    by_id = {r["id"]: r for r in rows}
    # every body the plan names with a measure of its own that year, in each year's directory: 41 in 2021,
    # 43 from 2022 (ОМ for БҒМ, 3 new oblasts; the human-rights commission's rows ended on 1 July 2021)
    assert [sum(r["period"] == year for r in rows) for year in ("2021", "2022", "2023")] == [41, 43, 43]
    assert "res-3.2:hr-commission:2021" in by_id and "res-3.2:hr-commission:2022" not in by_id
    assert by_id["res-3.2:akimat-abai:2022"]["recipient"] == "mvd"
    assert by_id["res-3.2:winrock:2023"]["due"] == "2024-01-19"


def test_placeholders_stay_listed_where_the_plan_names_them(scheduler):
    ids = {r["id"] for r in expand(scheduler)}
    assert {"17:ngos:2021", "17:ngos:2023", "36:interested-bodies:2023-12-31", "36:mvd:2023-12-31"} <= ids
    out = scheduler("explain", "36:interested-bodies:2023-12-31").stdout
    assert "placeholder  named by the plan with no addressee: listed, never mailed, not counted in compliance" in out


def test_a_body_never_reports_to_itself(scheduler):
    rows = {r["id"]: r for r in expand(scheduler, "--obligation", "res-3.2")}
    assert rows["res-3.2:labour:2021"]["recipient"] is None  # Еңбекмині collects 2021's information
    assert rows["res-3.2:mvd:2021"]["recipient"] == "labour"
    assert rows["res-3.2:mvd:2022"]["recipient"] is None and rows["res-3.2:mvd:2023"]["recipient"] is None
    assert rows["res-3.2:labour:2022"]["recipient"] == "mvd"
    out = scheduler("explain", "res-3.2:mvd:2022").stdout
    assert "recipient    none — its own report" in out and "goes into the consolidated report it compiles" in out
    # the same for any row whose recipient is the working body while it holds it (row 6 in 2022)
    assert "recipient    none — its own report: the information goes to office vak-working-body, held in 2022 by mvd" \
        in scheduler("explain", "6:mvd:2022").stdout
    assert "recipient    labour" in scheduler("explain", "6:mvd:2021").stdout
    # a calendar feed says so too
    ics = scheduler("expand", "--from", "2023-01-20", "--to", "2023-01-20", "--agency", "mvd", "--format", "ics").stdout
    unfolded = ics.replace("\r\n ", "").replace("\n ", "")
    event = unfolded[unfolded.index("UID:res-3.2:mvd:2022"):]
    assert "Кімге: ешкімге: бұл органның өз ақпараты" in event[:event.index("END:VEVENT")]


def test_explain_gives_the_source_of_the_dates_that_decided(scheduler):
    out = scheduler("explain", "8.3:mes:2021").stdout  # ОМ did not exist yet: БҒМ owes it
    assert "mes answers for its successor enlightenment" in out and "No. 872 of 11 June 2022" in out
    out = scheduler("explain", "res-3.2:akimat-abai:2022").stdout
    assert "akimat-abai exists from 2022-06-08" in out and "No. 887 of 3 May 2022" in out
    out = scheduler("explain", "res-3.2:akimat-astana:2021").stdout
    assert "akimat-astana was called Akimat of Nur-Sultan city until 2022-09-16" in out
    assert "17 September 2022 amending the Constitution" in out
    assert "dates" not in scheduler("explain", "7:finance:2022").stdout.split("\ndue")[0]  # nothing dated decided


def test_a_dated_group_member_shows_its_source(scheduler):
    break_plan(scheduler, '  "akimat-ulytau",\n', '  { agency = "akimat-ulytau", from = 2022-06-08, source = "Decree No. 887" },\n')
    assert "akimat-ulytau is a member of akimats from 2022-06-08 — source: Decree No. 887" in \
        scheduler("explain", "res-3.2:akimat-ulytau:2022").stdout


def test_a_placeholder_cannot_receive(scheduler):
    line = break_plan(scheduler, 'recipient = "mvd"', 'recipient = "ngos"', after='id = "res-3.2"')
    assert_clean_failure(scheduler("validate"), f"obligations.toml:{line}:", "recipient 'ngos' is a placeholder")


def test_a_source_needs_a_date(scheduler):
    line = break_plan(scheduler, 'short_kk = "ІІМ"\n', 'short_kk = "ІІМ"\nsource = "Decree No. 1"\n')
    assert_clean_failure(scheduler("validate"), "obligations.toml:", "agency mvd", "source dates valid_from / valid_until")
    assert line


def test_contacts_for_a_placeholder_are_refused(scheduler):
    (scheduler.cwd / "contacts.csv").write_text(
        "agency,name,email,role,language\nmvd,Асқар,askar@example.kz,focal,kk\nngos,Ann,ann@example.kz,focal,en\n",
        encoding="utf-8",
    )
    assert_clean_failure(scheduler("validate"), "contacts.csv:3: ann@example.kz: agency 'ngos' is a placeholder")
