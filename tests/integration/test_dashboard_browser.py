"""The dashboard in a real browser: Debian's Chromium driven by playwright-core (tests/js)."""

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT
from tests.integration.test_dashboard import CREDENTIAL, served  # noqa: F401 - the fixture

SCRIPT = ROOT / "tests" / "js" / "dashboard.mjs"
ARTIFACTS = ROOT / "test-artifacts"


def test_log_in_record_a_submission_and_see_it(served):  # noqa: F811
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "playwright-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    base, service = served()
    ARTIFACTS.mkdir(exist_ok=True)
    result = subprocess.run(["node", str(SCRIPT), base, *CREDENTIAL, "7:finance:2022", str(ARTIFACTS)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["dashboardStatus"] == 200 and seen["withoutCredential"] == 401
    assert seen["overdueRows"] > 0 and seen["calendarLinks"] > 0
    assert seen["before"] == "not submitted"
    assert seen["after"].startswith("submitted ") and "Хат № 12-3/45" in seen["after"] and seen["formGone"]
    assert "default-src 'self'" in seen["policy"] and seen["policyViolations"] == [], seen["policyViolations"]
    assert seen["headerRule"] == "solid", "the page's own style block is allowed by the policy"
    assert seen["phoneWidth"] <= 400, "the dashboard fits a phone without sideways scrolling"
    assert service.history("7:finance:2022")[1].note == "Хат № 12-3/45"
    for name in ("dashboard-laptop.png", "occurrence-after-submission.png", "dashboard-phone.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000, name
