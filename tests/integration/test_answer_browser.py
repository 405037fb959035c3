"""The answer loop end to end in a real browser (Debian's Chromium through playwright-core): the
focal point's link is taken from a real email received over SMTP (aiosmtpd); she answers with a
document on her phone; the reviewer returns it; a later tick sends the next step of the ladder,
whose email carries a link again; she answers again; the reviewer accepts; the history shows all of
it. Screenshots in Kazakh and Russian, 1280 and 390 px wide, go to test-artifacts/."""

import datetime as dt
import json
import re
import shutil
import subprocess

import pytest

from scheduler.app import users
from scheduler.app.tick import tick
from tests.conftest import ROOT
from tests.integration.test_personal_links import LINK, NOW, PDF, site  # noqa: F401 - the fixture

SCRIPT = ROOT / "tests" / "js" / "answer.mjs"
ARTIFACTS = ROOT / "test-artifacts"
OID = "7:finance:2022"


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'scheduler.db'}"


def node(*args):
    result = subprocess.run(["node", str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def link_in(message):
    return LINK.search(message.get_body(("plain",)).get_content()).group(1)


def test_answer_return_resume_answer_again_accept_in_a_browser(site, smtp_server, tmp_path):  # noqa: F811
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "playwright-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    ARTIFACTS.mkdir(exist_ok=True)
    document = tmp_path / "Хат 12-3-45.pdf"
    document.write_bytes(PDF)
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    reviewer_link = web.link("reviewer@gov.kz")  # what `scheduler links issue reviewer@gov.kz` prints

    tick(web.service, NOW)  # 9 December 2022, 09:00 in Almaty: the due date
    due = [m for m in smtp_server.mailbox.to("aigul@minfin.example.kz") if OID in m["X-Scheduler-Occurrences"]]
    assert [m["X-Scheduler-Step"] for m in due] == ["due"]
    web.at(NOW + dt.timedelta(hours=2))
    first = node("first", web.base, link_in(due[0]), reviewer_link, OID, ARTIFACTS, document)
    assert first["focalLanded"] == "/my" and first["lang"] == "kk" and first["listed"] == 1
    assert {"name": "scheduler_session", "httpOnly": True, "sameSite": "Lax", "secure": False} in first["cookies"]
    assert first["done"] and first["phoneWidth"] <= 390 and first["phoneWidthAfter"] <= 390
    assert first["reviewerLanded"] == "/review" and first["queued"] == 1
    assert first["documents"] == ["Хат 12-3-45.pdf"] and first["downloaded"] == "Хат 12-3-45.pdf"
    assert first["afterReturn"].startswith("↩ пысықтауға қайтарылды"), first["afterReturn"]
    assert first["returnSaid"].startswith("Жауап пысықтауға қайтарылды: Қазақстан Республикасы Қаржы министрлігі — № 7, 2022 жыл.")
    assert web.row(OID).state == "returned"

    # The ladder resumes: the next step due after the return is the escalation a working day late.
    smtp_server.mailbox.messages.clear()
    escalation_at = dt.datetime(2022, 12, 12, 3, 0, tzinfo=dt.timezone.utc)
    tick(web.service, escalation_at)
    again = [m for m in smtp_server.mailbox.to("aigul@minfin.example.kz") if OID in m["X-Scheduler-Occurrences"]]
    assert sorted(m["X-Scheduler-Step"] for m in again) == ["decisions", "escalation-1wd"], \
        "her answer's acknowledgement and its return told in one email, with the reason, and the ladder's next step"
    told = next(m for m in again if m["X-Scheduler-Step"] == "decisions").get_body(("plain",)).get_content()
    assert "Кесте жоқ: 2-қосымшаны толтырыңыз" in told and "- Жауап пысықтауға қайтарылды:" in told
    escalation = next(m for m in again if m["X-Scheduler-Step"] == "escalation-1wd")
    web.at(escalation_at + dt.timedelta(hours=1))
    second = node("second", web.base, link_in(escalation), reviewer_link, OID, ARTIFACTS, document)
    assert second["focalLanded"] == "/my" and "Кесте жоқ: 2-қосымшаны толтырыңыз" in second["returnedNote"]
    assert second["langRu"] == "ru" and second["phoneLang"] == "ru"
    assert second["phoneWidthRu"] <= 390 and second["reviewerPhoneWidth"] <= 390 and second["laptopWidth"] <= 1280
    assert second["afterAccept"].startswith("✓ қабылданды"), second["afterAccept"]
    assert second["acceptSaid"] == "Жауап қабылданды: Қазақстан Республикасы Қаржы министрлігі — № 7, 2022 жыл."
    assert second["history"] == ["submit", "return", "submit", "accept"]
    for words in ("aigul@minfin.example.kz", "reviewer@gov.kz", "Кесте жоқ", "12-3/45", "12-3/51", "Хат 12-3-45.pdf"):
        assert words in second["historyText"], words
    assert first["violations"] == [] and second["violations"] == [], "the pages need nothing the policy refuses"

    events = web.events(OID)
    assert [(e.actor, e.action) for e in events] == [
        ("aigul@minfin.example.kz", "submit"), ("reviewer@gov.kz", "return"),
        ("aigul@minfin.example.kz", "submit"), ("reviewer@gov.kz", "accept")]
    assert all(e.client == "127.0.0.1" for e in events)
    assert web.row(OID).state == "accepted" and web.row(OID).next_step_at is None
    smtp_server.mailbox.messages.clear()
    tick(web.service, dt.datetime(2022, 12, 16, 3, 0, tzinfo=dt.timezone.utc))  # the 5-day escalation's day
    listing = [(m["X-Scheduler-Step"], m["To"].addresses[0].addr_spec) for m in smtp_server.mailbox.messages
               if OID in (m["X-Scheduler-Occurrences"] or "")]
    assert sorted(listing) == [("answer-received", "reviewer@gov.kz"), ("decisions", "aigul@minfin.example.kz")], \
        "no step of the ladder; the second answer told to the reviewer, its receipt and acceptance to the focal point"
    for name in ("my-kk-390", "my-kk-1280", "my-ru-1280", "my-ru-390", "queue-kk-1280", "occurrence-ru-390-accepted",
                 "occurrence-kk-1280-accepted"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000, name
    assert re.fullmatch(r"https?://127\.0\.0\.1:\d+/l/\S+", reviewer_link)
