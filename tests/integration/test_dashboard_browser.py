"""The dashboard in a real browser: Debian's Chromium driven by playwright-core (tests/js)."""

import datetime as dt
import json
import shutil
import subprocess

import pytest

from scheduler.app import pages
from scheduler.app.answer import operator_submit
from tests.conftest import ROOT
from tests.integration.test_dashboard import CREDENTIAL, NOW, served  # noqa: F401 - the fixture

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
    assert seen["dashboardStatus"] == 200 and seen["withoutCredential"] == 303 and not seen["prompted"]
    assert seen["withoutCredentialTo"] == "/signin?next=%2F"
    assert seen["overdueRows"] > 0 and seen["calendarLinks"] > 0
    seen["before"], seen["after"] = (text.lstrip("○✉✓↩—⚠ ") for text in (seen["before"], seen["after"]))  # the state's sign
    assert seen["before"] == "not submitted"
    assert seen["after"].startswith("submitted ") and "Хат № 12-3/45" in seen["after"] and seen["formGone"]
    assert "default-src 'self'" in seen["policy"] and seen["policyViolations"] == [], seen["policyViolations"]
    assert seen["headerRule"] == "solid", "the page's own style block is allowed by the policy"
    assert seen["phoneWidth"] <= 400, "the dashboard fits a phone without sideways scrolling"
    assert pages.history(service.engine, "7:finance:2022")[1].note == "Хат № 12-3/45"
    for name in ("dashboard-laptop.png", "occurrence-after-submission.png", "dashboard-phone.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000, name


def test_the_pages_in_kazakh_and_russian_on_a_laptop_and_a_phone(served):  # noqa: F811
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "axe-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    import re

    base, service = served()
    operator_submit(service, "7:finance:2022", dt.datetime(2022, 12, 8, 6, 0, tzinfo=dt.timezone.utc), "Хат", NOW, None)
    folder = ARTIFACTS / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["node", str(SCRIPT), base, *CREDENTIAL, "7:finance:2022", str(folder), "pages"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    codes = set(service.plan.file.agencies) | {step.step for step in service.plan.policy.ladder}
    for name, page in seen.items():
        if not isinstance(page, dict):
            continue
        lang, width = name.split("-")[1], int(name.split("-")[2])
        assert page["status"] == 200 and page["lang"] == lang, name
        assert page["axe"] == [], (name, page["axe"])
        assert page["policyViolations"] == [], (name, page["policyViolations"])
        assert page["landmarks"] == 4, name
        assert page["small"] == [], (name, page["small"])
        if width == 390:
            assert page["width"] <= 390, (name, page["width"])
        text = page["text"]
        shown = {c for c in codes if re.search(rf"(?<![\w/-]){re.escape(c)}(?![\w/-])", text)}
        assert not shown, (name, shown)
        if lang == "ru":
            # The two oblasts whose official Russian names keep their Kazakh letters (Decree of 8 June 2022).
            rest = text.replace("Жетісу", "").replace("Ұлытау", "")
            assert not re.search("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]", rest), (name, re.findall(r"\S*[әғқңөұүһіӘҒҚҢӨҰҮҺІ]\S*", rest)[:5])
        if name.startswith("home"):
            assert page["svg"] == 2, name
    assert seen["switched"] == "ru", "the switch's choice is remembered"
    assert seen["dayHeading"] == "Deadlines on 9 December 2022"
    for lang in ("kk", "ru"):
        for width in (1280, 390):
            assert (folder / f"dashboard-{lang}-{width}.png").stat().st_size > 10_000
