"""Text typed as a formula stays text in what the installed `scheduler` command writes: `expand
--format csv` of a plan whose names and titles begin with `=`, `+`, `-`, `@`, tab or CR, answers
given with `submit --text` in the consolidated XLSX, and the compliance report as XLSX and CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.report.cells import csv_text
from tests.integration.test_spreadsheet_text import plan_texts
from tests.unit.test_spreadsheet_cells import RISKY_AGENCIES, TYPED, assert_written_as_text, risky_plan_text

pytestmark = pytest.mark.acceptance
NOW = "2023-01-16T10:00"


def ok(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def raw_stdout(cwd: Path, *args: str) -> bytes:
    """The command's stdout as bytes: a text-mode pipe would turn a CR into a line break."""
    command = shutil.which("scheduler", path=str(Path(sys.executable).parent)) or shutil.which("scheduler")
    result = subprocess.run([command, *args], cwd=cwd, capture_output=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def risky(scheduler):
    (scheduler.cwd / "obligations.toml").write_text(risky_plan_text(), encoding="utf-8")
    return scheduler


def test_expand_csv_quotes_risky_texts_and_only_them(risky):
    span = ("expand", "--from", "2022-01-01", "--to", "2022-12-31")
    rows = list(csv.DictReader(io.StringIO(raw_stdout(risky.cwd, *span, "--format", "csv").decode(), newline="")))
    records = json.loads(ok(risky(*span, "--format", "json")))
    assert [r["id"] for r in rows] == [r["id"] for r in records]
    for row, record in zip(rows, records, strict=True):
        assert (row["nominal_due"], row["due"]) == (record["nominal_due"], record["due"])
        assert (row["title"], row["agency_name"]) == (csv_text(record["title"]), csv_text(record["agency_name"]))
    quoted = {row["title"][:2] for row in rows if row["title"].startswith("'")}
    assert quoted == {"'" + prefix for prefix in ("=", "+", "-", "@", "\t", "\r")}


def test_reports_keep_answers_names_and_titles_as_text(risky):
    from openpyxl import load_workbook

    from scheduler.plan import load_plan

    ok(risky("sync"))
    typed = {"7:finance:2022": TYPED[0], "7:mvd:2022": TYPED[2], "6:gpo:2022": TYPED[3]}
    for occurrence, text in typed.items():
        ok(risky("submit", occurrence, "--at", "2022-12-08T16:30", f"--text={text}"))
    plan = load_plan(risky.cwd / "obligations.toml")

    ok(risky("report", "--kind", "consolidated", "--year", "2022", "--lang", "ru", "--format", "xlsx",
             "--output", "c.xlsx", "--now", NOW))
    assert_written_as_text((risky.cwd / "c.xlsx").read_bytes(), [*typed.values(), *plan_texts(plan, "ru")])

    short_names = [plan.file.agencies[code].short_kk for code in RISKY_AGENCIES.values()]
    ok(risky("report", "--year", "2022", "--format", "xlsx", "--output", "r.xlsx", "--now", NOW))
    data = (risky.cwd / "r.xlsx").read_bytes()
    assert_written_as_text(data, short_names)
    table = {row[0]: row for row in load_workbook(io.BytesIO(data)).active.iter_rows(min_row=5, values_only=True)}
    assert isinstance(table[short_names[0]][1], int)  # finance, by its name

    ok(risky("report", "--year", "2022", "--format", "csv", "--output", "r.csv", "--now", NOW))
    text = (risky.cwd / "r.csv").read_bytes().decode("utf-8-sig")  # read_text would turn a CR into a line break
    rows = {r["agency"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
    assert [rows[code]["name"] for code in RISKY_AGENCIES.values()] == ["'" + name for name in short_names]
    assert rows["finance"]["on_time"] == "1" and rows["finance"]["owed"].isdigit()
