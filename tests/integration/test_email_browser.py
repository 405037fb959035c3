"""The emails on a phone: one email of each kind (and an agency's notice of several kinds at once,
`decisions`), in Kazakh and Russian, built as the daemon builds them (items and letterhead from the
shipped plan), opened in Debian's Chromium (playwright-core) at 390 px and 1280 px. Nothing may be wider than the phone's screen (long Kazakh dates, agency names,
occurrence ids and links wrap), and the personal link's button is near the top. Screenshots go to
test-artifacts/emails/<kind>-<lang>-<width>.png."""

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT
from tests.unit.test_email_templates import every_email

SCRIPT = ROOT / "tests" / "js" / "emails.mjs"
ARTIFACTS = ROOT / "test-artifacts" / "emails"


def test_every_email_fits_a_phone_in_kazakh_and_russian(shipped_plan, tmp_path):
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "playwright-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    files = []
    for language in ("kk", "ru"):
        for kind, message in every_email(shipped_plan, language, reply_to="secretariat@mvd.gov.kz").items():
            page = tmp_path / f"{kind}-{language}.html"
            page.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
            files.append(page)
    result = subprocess.run(["node", str(SCRIPT), str(ARTIFACTS), *map(str, files)], capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(seen) == 2 * len(files) == 52  # 13 kinds (the notices' of one kind and of several) × 2 languages × 2 widths
    for page in seen:
        assert page["scrollWidth"] <= page["width"], page
        assert page["widest"] <= page["width"] + 0.5, page
        assert page["lang"] == page["name"].rsplit("-", 1)[1], page
        if page["width"] == 390 and page["button"] is not None:
            assert page["button"] < 400, f"{page['name']}: the link's button should show without scrolling"
    assert (ARTIFACTS / "escalation-kk-390.png").is_file() and (ARTIFACTS / "reminder-ru-1280.png").is_file()
    for name in ("decisions", "answer-acknowledged", "answer-accepted", "deadline-closed", "deadline-reopened"):
        for language in ("kk", "ru"):
            assert all((ARTIFACTS / f"{name}-{language}-{width}.png").is_file() for width in (390, 1280)), name
