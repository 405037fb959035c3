"""The people's pages in a real browser (Debian's Chromium through playwright-core), in Kazakh and
Russian at 1280 and 390 px: the page's language, no sideways scrolling on a phone, no Kazakh letters
in Russian pages, no agency or step codes shown, and no serious or critical axe-core violation.
Screenshots go to test-artifacts/pages/."""

import datetime as dt
import json
import re
import shutil
import subprocess

import pytest

from scheduler.app import users
from scheduler.app.tick import tick
from tests.conftest import ROOT
from tests.integration.test_personal_links import NOW, PDF, site  # noqa: F401 - the fixture
from tests.integration.web_client import field

SCRIPT = ROOT / "tests" / "js" / "pages.mjs"
ARTIFACTS = ROOT / "test-artifacts" / "pages"
OID = "7:finance:2022"
PAGES = {"my", "occurrence-focal", "occurrence-reviewer", "queue", "message-refusal", "message-sign-in", "signin",
         "dashboard-refusal", "signin-ended"}


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'scheduler.db'}"


def test_every_page_in_kazakh_and_russian_on_a_laptop_and_a_phone(site):  # noqa: F811
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "axe-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    tick(web.service, NOW)  # the notifications the reviewer's page lists
    web.at(NOW + dt.timedelta(hours=2))
    aigul = web.signed_in("aigul@minfin.example.kz")
    page = aigul.get("/my")[2]
    assert aigul.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", OID),
                                     ("ref", "12-3/45"), ("ref_date", "2022-12-08"), ("text", "2022: 14")],
                      [("files", "hat.pdf", PDF)])[0] == 303
    # The official Russian names of some regions keep their Kazakh letters (область Жетісу, область
    # Ұлытау): proper names, like people's, and the only Kazakh letters a Russian page may show.
    russian_names = " ".join(web.service.plan.display_name(code, NOW.date(), "ru") for code in web.service.plan.file.agencies)
    codes = {"agencies": sorted(web.service.plan.file.agencies),
             "steps": [step.step for step in web.service.plan.file.policy.ladder],
             "names": sorted(set(re.findall(r"\w*[әғқңөұүһіӘҒҚҢӨҰҮҺІ]\w*", russian_names)))}
    assert codes["names"] and len(codes["names"]) < 5, codes["names"]
    # People appear by name (the history, who sent an answer): a Kazakh name keeps its letters on a Russian page.
    codes["names"] += ["Айгүл", "Серікова"]
    result = subprocess.run(["node", str(SCRIPT), web.base, web.link("aigul@minfin.example.kz"),
                             web.link("reviewer@gov.kz"), OID, ARTIFACTS, json.dumps(codes)],
                            capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    (ARTIFACTS / "pages.json").write_text(json.dumps(seen, ensure_ascii=False, indent=1), encoding="utf-8")
    assert {(s["name"], s["lang"], s["width"]) for s in seen} == {
        (name, lang, width) for name in PAGES for lang in ("kk", "ru") for width in (1280, 390)}
    for shown in seen:
        where = (shown["name"], shown["lang"], shown["width"])
        assert shown["htmlLang"] == shown["lang"], where
        assert shown["landmarks"] == ["header", "nav", "main"], where
        # the sign-in page reached from another keeps where it leads (`next`) when the language is switched
        kept = {"signin-ended": "?next=%2Freview%3Flang%3D{}&", "message-sign-in": "?next=%2Fmy%3Flang%3D{}&"}.get(
            shown["name"], "?").format(shown["lang"])
        assert shown["switch"] == [f"{kept}lang=kk", f"{kept}lang=ru", f"{kept}lang=en"], where
        assert shown["width"] != 390 or shown["scrollWidth"] <= 390, where
        assert shown["kazakh"] == [], (where, shown["kazakh"])
        assert shown["codes"] == [] and shown["stepCodes"] == [], (where, shown["codes"], shown["stepCodes"])
        assert shown["serious"] == [], (where, shown["serious"])
    statuses = {s["name"]: s["status"] for s in seen}
    assert statuses["message-refusal"] == 403 and statuses["message-sign-in"] == 303 and statuses["queue"] == 200
    assert statuses["dashboard-refusal"] == 403 and statuses["signin-ended"] == 303
