"""Schemathesis against the live API (uvicorn on loopback, a synced store with the shipped plan),
once with a reviewer's token and once with an agency's: no 5xx, and every response conforming to
`/api/v1/openapi.json` (status codes, content types, schemas, headers). The examples are bounded so
that a run takes well under a minute on two cores; the figures are printed at the end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import scheduler.api.runner
from scheduler.api.describe import document
from tests.integration.test_api import api  # noqa: F401 - the fixture

EXAMPLES = int(os.environ.get("SCHEDULER_SCHEMATHESIS_EXAMPLES", "40"))
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance,negative_data_rejection,unsupported_method,allow_header_conformance,"
          "missing_required_header,ignored_auth")


def schemathesis(base: str, token: str, report: Path) -> tuple[int, str]:
    st = Path(sys.executable).with_name("st")
    if not st.exists():
        pytest.skip("schemathesis is not installed (the `test` extra pins it)")
    result = subprocess.run(
        [str(st), "run", f"{base}/api/v1/openapi.json", "--header", f"Authorization: Bearer {token}",
         "--checks", CHECKS, "--max-examples", str(EXAMPLES), "--workers", "1", "--phases", "examples,coverage,fuzzing",
         "--seed", "20221220", "--no-color", "--request-timeout", "20", "--suppress-health-check", "all"],
        capture_output=True, text=True, timeout=600, cwd=report, env={**os.environ, "NO_COLOR": "1"})
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("role", ["reviewer", "agency:finance"])
def test_schemathesis_finds_nothing(api, role, monkeypatch, tmp_path, record_property):  # noqa: F811
    monkeypatch.setitem(scheduler.api.runner.LIMITS, "token", 10**6)
    monkeypatch.setitem(scheduler.api.runner.LIMITS, "address", 10**6)
    token = api.token("fuzzer", role)
    started = time.monotonic()
    code, output = schemathesis(api.base, token, tmp_path)
    took = time.monotonic() - started
    tested = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated", output)
    from sqlmodel import select

    from scheduler.store.db import session
    from scheduler.store.tables import EventRow

    with session(api.service.engine) as db:
        writes = len(db.exec(select(EventRow).where(EventRow.actor == "token:fuzzer")).all())
    note = (f"{role} ({api.service.engine.dialect.name}): {tested.group(1) if tested else '?'} operations, "
            f"{cases.group(1) if cases else '?'} examples, {took:.1f} s, {writes} write(s) recorded"
            + ("" if code == 0 else ", FAILED"))
    record_property("schemathesis", note)
    print("\nschemathesis " + note)
    assert code == 0, output[-12000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    assert tested and selected and int(tested.group(1)) == int(selected.group(2)) >= len(document()["paths"]) - 1, \
        output[-3000:]  # every operation tested (Schemathesis leaves out the document's own)
