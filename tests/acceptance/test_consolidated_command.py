"""The consolidated implementation report through the installed `scheduler` command: answers
entered with `submit`, `return` and `extend`, then `scheduler report --kind consolidated` as DOCX
and XLSX, opened as a reader would open them; the database is left as it was."""

import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.unit.test_consolidated import PLAN_ORDER, RESOLUTION

pytestmark = pytest.mark.acceptance
TEXT = "2022 жылы 14 іс-шара өткізілді"


def ok(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def fingerprint(path) -> str:
    with sqlite3.connect(path) as connection:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()


@pytest.fixture
def answered(scheduler):
    (scheduler.cwd / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    assert "1690 added" in ok(scheduler("sync"))
    ok(scheduler("submit", "7:finance:2022", "--at", "2022-12-09T16:30", "--ref", "12-3/45", "--ref-date", "2022-12-08",
                 "--text", TEXT, "--by", "aigul@minfin.example.kz"))
    ok(scheduler("submit", "7:mvd:2022", "--at", "2022-12-14T11:00", "--ref", "3-1/998", "--ref-date", "2022-12-13",
                 "--text", "Анализ проведён по 12 делам."))
    ok(scheduler("return", "7:mvd:2022", "--reason", "the table is missing"))
    ok(scheduler("extend", "6:finance:2022", "--to", "2022-12-20", "--reason", "letter No. 5 of 5 December"))
    return scheduler


def test_the_consolidated_docx_in_russian(answered):
    import docx

    database = answered.cwd / "var" / "scheduler.db"
    before = fingerprint(database)
    result = answered("report", "--kind", "consolidated", "--year", "2022", "--lang", "ru", "--format", "docx",
                      "--output", "out.docx", "--now", "2023-01-16T10:00")
    assert ok(result).strip() == ("out.docx: consolidated report in ru, 43 plan rows, 542 occurrences due in 2022 "
                                  "(1 submitted, 1 returned, 540 open); 1 listed with no addressee, not counted")
    assert fingerprint(database) == before, "a report changes nothing"

    document = docx.Document(answered.cwd / "out.docx")
    heading = "\n".join(p.text for p in document.paragraphs)
    assert "Сводная информация о ходе исполнения Плана" in heading and "Период: 2022 год" in heading
    assert "По состоянию на 16 января 2023 г." in heading
    rows = document.tables[0].rows
    assert [c.text for c in rows[0].cells][-1] == "Информация об исполнении"
    numbers = [r.cells[0].text for r in rows[1:] if r.cells[0].text != r.cells[1].text]
    assert numbers == PLAN_ORDER + RESOLUTION
    info = {r.cells[0].text: r.cells[5].text for r in rows[1:] if r.cells[0].text != r.cells[1].text}
    assert ("Министерство финансов Республики Казахстан — представлено (срок: 9 декабря 2022 г.)\n"
            "№ 12-3/45, 8 декабря 2022 г.; дата представления: 9 декабря 2022 г.\n" + TEXT) in info["7"]
    assert "Министерство внутренних дел Республики Казахстан — возвращено на доработку" in info["7"]
    assert "№ 3-1/998, 13 декабря 2022 г.; дата представления: 14 декабря 2022 г. (с нарушением срока)" in info["7"]
    # row 6 goes to the working body, whose 2022 holder is the plan's assumption: the report says so
    assert ("Министерство финансов Республики Казахстан — не представлено (допущение: рабочий орган МВК в 2022 году — "
            "Министерство внутренних дел Республики Казахстан (источник этого не устанавливает); "
            "срок: 20 декабря 2022 г.)") in info["6"]


def test_the_whole_plan_as_xlsx_on_stdout_and_the_compliance_report_unchanged(answered):
    from openpyxl import load_workbook

    command = shutil.which("scheduler", path=str(Path(sys.executable).parent)) or shutil.which("scheduler")
    result = subprocess.run([command, "report", "--kind", "consolidated", "--all", "--format", "xlsx",
                             "--now", "2023-01-16T10:00"], cwd=answered.cwd, capture_output=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")})
    assert result.returncode == 0 and result.stdout[:2] == b"PK", result.stderr  # the bytes, as xlsx always came
    sheet = load_workbook(io.BytesIO(result.stdout)).active
    assert sheet.title == "2021-2024" and sheet["A1"].value == "Жоспардың орындалуы туралы жиынтық ақпарат"
    finance = [[c.value for c in row] for row in sheet.iter_rows() if row[0].value == "7" and row[3].value == "Қаржымині"]
    assert [(line[6], line[7], line[9]) for line in finance] == [
        ("ұсынылмаған", None, None), ("ұсынылды", "№ 12-3/45, 2022 жылғы 8 желтоқсан", TEXT),
        ("мерзімі келмеген", None, None)]  # 2021, 2022, and 2023 not yet due on 16 January 2023

    # the default stays the compliance table, as CSV
    compliance = answered("report", "--year", "2022", "--now", "2023-01-16T10:00", "--output", "c.csv")
    assert ok(compliance).startswith("c.csv: ") and "occurrences due in 2022" in compliance.stdout
    assert (answered.cwd / "c.csv").read_text(encoding="utf-8-sig").startswith("agency,")
