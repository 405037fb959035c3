"""A focal point's day end to end in a real browser (Debian's Chromium through playwright-core),
for a Kazakh-reading and a Russian-reading focal point, on a 390 px phone and a 1280 px laptop:
the deadline email comes over real SMTP (aiosmtpd); its button opens her page on exactly the
email's deadlines, first, with the earlier overdue folded below; she answers one deadline in three
taps (the button, "Answer", "Send": counted by the script, typing aside); the next tick sends her
the acknowledgement, whose link opens on the deadline answered. An item link of the email opens its
deadline in a browser without a session. Screenshots go to test-artifacts/focal/."""

import datetime as dt
import json
import re
import shutil
import subprocess

import pytest

from scheduler.app.tick import tick
from tests.conftest import ROOT
from tests.integration.test_personal_links import NOW, site  # noqa: F401 - the fixture

SCRIPT = ROOT / "tests" / "js" / "focal.mjs"
ARTIFACTS = ROOT / "test-artifacts" / "focal"
PEOPLE = {"kk": "aigul@minfin.example.kz", "ru": "focal@enbek.example.kz"}
FOCUS_LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+\?items=\S+)")
ITEM_LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+\?next=/occurrences/\S+)")
SUBJECT = {"kk": "Жауабыңыз", "ru": "Ваш ответ"}


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'scheduler.db'}"


def node(*args):
    result = subprocess.run(["node", str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_from_the_email_to_her_answer_in_three_taps(site, smtp_server, tmp_path, lang):  # noqa: F811
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "playwright-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    address = PEOPLE[lang]
    web = site()
    tick(web.service, NOW)  # 9 December 2022, 09:00 in Almaty
    email = next(m for m in smtp_server.mailbox.to(address) if m["X-Scheduler-Step"] == "due")
    ids = [i.strip() for i in email["X-Scheduler-Occurrences"].split(",")]
    assert len(ids) >= 2
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    focus_link = FOCUS_LINK.search(text).group(1)
    assert focus_link.split("?items=")[1].split(",") == ids, "the link names the email's deadlines, in its order"
    items = ITEM_LINK.findall(text)
    assert [link.rsplit("/occurrences/", 1)[1] for link in items] == ids, "every item links to its own page"
    assert f'href="{focus_link}"' in html and all(f'href="{link}"' in html for link in items)
    page = tmp_path / f"email-{lang}.html"
    page.write_text(html, encoding="utf-8")

    web.at(NOW + dt.timedelta(hours=2))
    seen = node(web.base, lang, page, items[-1], ARTIFACTS, ids[0], ids[1])
    (ARTIFACTS / f"focal-{lang}.json").write_text(json.dumps(seen, ensure_ascii=False, indent=1), encoding="utf-8")

    for width, got in seen["widths"].items():
        assert got["taps"] == 3, (width, got["taps"])  # the email's button, "Answer", "Send"
        assert got["landed"] == "/my?items=" + ",".join(ids)
        assert got["lang"] == lang, "her own language, though her browser asks for English"
        answered_before = ids[:1] if width == "1280" else []
        assert got["focus"] == ids and got["order"][:len(ids)] == ids, "the email's deadlines first, in its order"
        assert got["older"] > 0 and got["olderOpen"] is False, "the earlier overdue folded below, not removed"
        assert got["firstCardTop"] < sizes(width)[1], "the first of them on the screen on arrival"
        assert got["firstAnswerTop"] < sizes(width)[1], "and its Answer button"
        assert got["scrollWidth"] <= sizes(width)[0] and got["answerScrollWidth"] <= sizes(width)[0]
        assert got["raw"] == [] and got["answerRaw"] == [] and got["doneRaw"] == [], "no raw code on screen"
        answered = ids[0] if width == "390" else ids[1]
        assert got["answerPage"] == f"/occurrences/{answered}" and got["focused"] == "ref"
        assert got["done"] and got["status"], got
        assert got["back"] == got["landed"], "from the answer back to the email's deadlines"
        assert got["afterOrder"] == ids, "her page on the same deadlines, the answered ones still first"
        assert answered not in got["afterAnswerable"] and all(i not in got["afterAnswerable"] for i in answered_before)
        assert got["switched"] != lang and got["remembered"] == got["switched"], "?lang= switches and is remembered"
    item = seen["item"]
    assert item["status"] == 200 and item["path"] == f"/occurrences/{ids[-1]}" and item["heading"] == ids[-1]
    assert item["lang"] == lang and item["raw"] == [] and item["scrollWidth"] <= 390
    assert web.row(ids[0]).state == "submitted" and web.row(ids[1]).state == "submitted"
    assert [e.actor for e in web.events(ids[0])] == [address]

    # Her confirmation: the next tick tells her both answers came, in her language, with links
    # that open on those deadlines.
    smtp_server.mailbox.messages.clear()
    tick(web.service, NOW + dt.timedelta(hours=3))
    told = [m for m in smtp_server.mailbox.to(address)]
    assert [m["X-Scheduler-Step"] for m in told] == ["answer-acknowledged"]
    receipt = told[0]
    assert sorted(i.strip() for i in receipt["X-Scheduler-Occurrences"].split(",")) == sorted(ids[:2])
    assert receipt["Subject"].startswith(SUBJECT[lang]), receipt["Subject"]
    said = receipt.get_body(("plain",)).get_content()
    assert "12-3/45" in said and "12-3/46" in said
    landing = FOCUS_LINK.search(said).group(1)
    assert sorted(landing.split("?items=")[1].split(",")) == sorted(ids[:2])
    browser = web.client()
    status, headers, _ = browser.get(landing)
    assert status == 303 and headers["location"].startswith("/my?items=")
    status, _, shown = browser.get(headers["location"])
    assert status == 200 and f'<html lang="{lang}">' in shown
    focus = shown.split('id="focus"')[1].split("</ul>")[0]
    assert re.findall(r'data-occurrence="([^"]+)"', focus) == [i for i in ids if i in ids[:2]]
    for name in ("my", "answer", "answered"):
        for width in (390, 1280):
            assert (ARTIFACTS / f"focal-{name}-{lang}-{width}.png").stat().st_size > 5_000, (name, width)


def sizes(width: str) -> tuple[int, int]:
    return (390, 844) if width == "390" else (1280, 900)
