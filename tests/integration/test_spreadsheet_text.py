"""Text typed as a formula stays text in the spreadsheets the running system writes: answers
recorded through the real use case (SQLite and PostgreSQL) in the consolidated XLSX, and agency
names and titles of a plan that begin with `=`, `+`, `-`, `@`, tab or CR in the dashboard's
downloads (`/report/<year>.xlsx` and `.csv`) over real HTTP; each file read back with openpyxl, its
sheets' own XML and the csv module."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import urllib.request

import pytest

from scheduler.app import answer, reports
from scheduler.plan import load_plan
from scheduler.report import body_name
from scheduler.report.cells import risky
from scheduler.web.app import create_app
from tests.integration.test_delivery import at
from tests.integration.web_client import serving
from tests.smtp import free_port
from tests.unit.test_spreadsheet_cells import (
    RISKY_AGENCIES,
    RISKY_OBLIGATIONS,
    TYPED,
    assert_written_as_text,
    risky_plan_text,
)

D = dt.date
TODAY = D(2023, 1, 16)
NOW = dt.datetime(2023, 1, 16, 5, 0, tzinfo=dt.timezone.utc)
CREDENTIAL = ("admin", "correct horse")
ANSWERED = ("7:finance:2022", "7:mvd:2022", "6:finance:2022", "6:mvd:2022", "6:labour:2022", "6:gpo:2022")


@pytest.fixture(scope="module")
def shipped_plan(tmp_path_factory):
    """The plan `make_service` syncs: the shipped one, with risky names and titles."""
    path = tmp_path_factory.mktemp("plan") / "obligations.toml"
    path.write_text(risky_plan_text(), encoding="utf-8")
    return load_plan(path)


def plan_texts(plan, lang: str) -> list[str]:
    """The risky agency names and row titles as the report in `lang` prints them."""
    names = [plan.display_name(code, D(2022, 12, 9), lang, short=lang == "kk") for code in RISKY_AGENCIES.values()]
    titles = [getattr(plan.obligation(n), f"title_{lang}") or plan.obligation(n).title_kk
              for n in RISKY_OBLIGATIONS.values()]
    assert all(risky(text) for text in names + titles)
    return names + titles


def test_answers_typed_as_formulas_stay_text_in_the_consolidated_xlsx(database_url, make_service):
    service = make_service(database_url)
    for occurrence, text in zip(ANSWERED, TYPED, strict=True):
        answer.submit(service.engine, service.timing, occurrence, at=at(12, 8), now=at(12, 8, 10), ref="12-3/45",
                      ref_date=D(2022, 12, 8), text=text)
    stored = {a.occurrence: a.text for a in reports.answers(service.engine, service.timing.zone, 2022)}
    # the store keeps an answer without the blanks around it: "\t=1+2" is kept as "=1+2"
    assert [stored[o] for o in ANSWERED] == [t.strip() for t in TYPED]
    for lang in ("kk", "ru"):
        report = reports.consolidated(service.engine, service.plan, service.timing.zone, lang=lang, year=2022,
                                      today=TODAY)
        assert_written_as_text(reports.write(report, "xlsx"), [*(stored[o] for o in ANSWERED),
                                                               *plan_texts(service.plan, lang)])
    service.engine.dispose()


@pytest.fixture
def served(make_service, tmp_path):
    """The dashboard over real HTTP on a SQLite store of the risky plan."""
    service = make_service(f"sqlite:///{tmp_path / 'web.db'}")
    port = free_port()
    app = create_app(lambda: service, lambda: NOW, CREDENTIAL)
    with serving(app, port):
        yield f"http://127.0.0.1:{port}", service
    service.engine.dispose()


def download(url: str) -> bytes:
    request = urllib.request.Request(url)
    request.add_header("Authorization", "Basic " + base64.b64encode(":".join(CREDENTIAL).encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return response.read()


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_dashboards_xlsx_keeps_names_and_titles_as_text(served, lang):
    from openpyxl import load_workbook

    base, service = served
    data = download(f"{base}/report/2022.xlsx?lang={lang}")
    table_names = [body_name(service.plan, code, D(2022, 12, 9), lang) for code in RISKY_AGENCIES.values()]
    names = [service.plan.display_name(code, D(2022, 12, 9), lang) for code in RISKY_AGENCIES.values()]
    assert_written_as_text(data, table_names)  # the table's names, in the page's language
    _summary, items = load_workbook(io.BytesIO(data)).worksheets
    lines = list(items.iter_rows(min_row=5, values_only=True))
    assert {line[0] for line in lines} >= set(names), "every risky agency's deadlines, named as typed"
    for number in RISKY_OBLIGATIONS.values():
        titles = {line[2] for line in lines if line[1] == number}
        assert titles and all(risky(title) for title in titles), number
    assert_written_as_text(data, [*names, *(line[2] for line in lines if line[1] in RISKY_OBLIGATIONS.values())])
    assert all(isinstance(line[4], dt.datetime) for line in lines), "the dates stay dates"


def test_the_dashboards_csv_quotes_risky_names_and_leaves_the_counts(served):
    base, service = served
    text = download(f"{base}/report/2022.csv").decode("utf-8-sig")
    rows = {r["agency"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
    for code in RISKY_AGENCIES.values():
        assert rows[code]["name"] == "'" + service.plan.file.agencies[code].short_kk, code
    assert all(value.isdigit() for row in rows.values() for name, value in row.items()
               if name not in ("agency", "name", "on_time_percent"))
    assert all(row["on_time_percent"] == "" or float(row["on_time_percent"]) >= 0 for row in rows.values())
    assert rows["total"]["name"] == "Барлық органдар" and int(rows["total"]["owed"]) == sum(
        int(r["owed"]) for code, r in rows.items() if code != "total")
