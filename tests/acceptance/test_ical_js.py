"""Feeds as Mozilla's ical.js (Thunderbird's parser) reads them, run with node."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.acceptance
SCRIPT = Path(__file__).resolve().parent.parent / "js" / "parse_ics.mjs"


def ical_js(data: bytes) -> dict:
    if not shutil.which("node") or not (SCRIPT.parent / "node_modules" / "ical.js").exists():
        pytest.skip("ical.js tests need node and `npm ci --prefix tests/js` (make test runs it)")
    result = subprocess.run(["node", str(SCRIPT)], input=data, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def test_ical_js_reads_the_whole_plan_as_expand_lists_it(scheduler):
    args = ("expand", "--from", "2021-01-01", "--to", "2024-12-31")
    feed = subprocess.run([sys.executable, "-m", "scheduler", *args, "--format", "ics"], cwd=scheduler.cwd,
                          capture_output=True, timeout=60).stdout
    parsed = ical_js(feed)
    records = json.loads(scheduler(*args, "--format", "json").stdout)
    assert parsed["refresh"] == "PT12H" and parsed["name"] == "kz-tip-2021-2023"
    assert sorted((e["uid"].split("@")[0], e["start"]) for e in parsed["events"]) == sorted((r["id"], r["due"]) for r in records)
    assert all(e["allDay"] for e in parsed["events"])
    astana = next(e for e in parsed["events"] if e["uid"].startswith("16:akimat-astana:2022@"))
    assert (astana["start"], astana["end"]) == ("2022-02-10", "2022-02-11")
    assert astana["summary"].startswith("Нұр-Сұлтан қаласының әкімдігі: 16.")  # named as on the date
    assert "мемлекеттік әлеуметтік тапсырысты" in astana["description"]
