"""A reviewer's day end to end in a real browser (Debian's Chromium through playwright-core), in
Kazakh and in Russian, on a phone (390 px) and a laptop (1280 px): her session has ended, so the
queue leads to the sign-in page (never an HTTP Basic prompt); the one-time link comes in a real
email (aiosmtpd); she is back on the queue, accepts one answer with one click and a confirmation,
reads what happened, accepts several at once, reads what happened; the focal point gets her notice
email. Screenshots of every page at both widths go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess

import pytest

from scheduler.answers import Actor
from scheduler.app import answer, sessions, users
from scheduler.app.tick import tick
from tests.conftest import ROOT
from tests.integration.test_personal_links import NOW, site  # noqa: F401 - the fixture
from tests.integration.test_sign_in import eventually, link_in

SCRIPT = ROOT / "tests" / "js" / "review.mjs"
ARTIFACTS = ROOT / "test-artifacts"
AIGUL = "aigul@minfin.example.kz"
FINANCE = {"kk": "Қазақстан Республикасы Қаржы министрлігі", "ru": "Министерство финансов Республики Казахстан"}
YEAR = {"kk": "жыл", "ru": "год"}
# Each reviewer's day: her language, her screen, the answer she accepts alone, those she accepts together.
DAYS = [("kk", 390, "reviewer-kk@gov.kz", "7:finance:2022", ["6:finance:2022", "17:finance:2022"]),
        ("ru", 1280, "reviewer-ru@gov.kz", "7:finance:2021", ["6:finance:2021", "17:finance:2021", "23:finance:2021"])]
UNTOUCHED = ["res-3.2:akimat-akmola:2021", "31:mvd:2022-Q1"]  # stay in the queue: their names, never their codes
EXTENDED = "23:finance:2022"
RAW = re.compile(r"\bres-\d|\b20\d\d-Q\d\b|\b20\d\d-H\d\b|akimat-|:finance:|:mvd:|\bfinance\b|\bmvd\b|"
                 r"answer-(accepted|received|acknowledged|returned)|extension-(granted|refused)|deadline-(closed|reopened)")
ENGLISH = re.compile(r"\b(Accept|Received|Due|submitted by|Cancel|Dashboard|Sign in|operator|answers? accepted)\b")


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'scheduler.db'}"


def node(*args):
    result = subprocess.run(["node", str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_reviewers_day_in_kazakh_and_russian_on_a_phone_and_a_laptop(site, smtp_server, tmp_path):  # noqa: F811
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "playwright-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    ARTIFACTS.mkdir(exist_ok=True)
    web = site()
    engine, timing = web.service.engine, web.service.timing
    focal = Actor(AIGUL, "focal", frozenset({"finance"}))
    for lang, _, email, one, several in DAYS:
        users.add(engine, email, "reviewer", NOW, language=lang)
        for oid in [one, *several]:
            answer.submit(engine, timing, oid, at=NOW, now=NOW, actor=focal, ref="12-3/45", text="ақпарат")
    for oid in UNTOUCHED:
        answer.submit(engine, timing, oid, at=NOW, now=NOW, ref="7-11/2")
    answer.act(engine, timing, EXTENDED, "extend", now=NOW, actor=Actor("reviewer-kk@gov.kz", "reviewer"),
               until=dt.date(2022, 12, 20), reason="хат № 5")
    tick(web.service, NOW)  # the receipts and the extension go out now: what follows is the decisions alone
    web.at(NOW + dt.timedelta(hours=1))

    for lang, width, email, one, several in DAYS:
        # a session of hers that has ended
        ended = web.signed_in(email)
        sessions.close(engine, ended.cookies["scheduler_session"], web.clock[0])
        smtp_server.mailbox.messages.clear()
        state = tmp_path / f"state-{lang}.json"
        asked = node("ask", web.base, email, lang, width, "scheduler_session", ended.cookies["scheduler_session"],
                     ARTIFACTS, state)
        assert asked["refused"] == 303 and 401 not in asked["statuses"], "the sign-in page, never a Basic prompt"
        assert (asked["path"], asked["next"], asked["lang"]) == ("/signin", "/review", lang)
        eventually(lambda: smtp_server.mailbox.to(email), "the sign-in email")  # noqa: B023
        [message] = smtp_server.mailbox.to(email)
        link = link_in(message)

        day = node("decide", link, lang, width, ARTIFACTS, state, one, ",".join(several), EXTENDED)
        assert (day["landed"], day["lang"]) == ("/review", lang), "back on the queue, in her language"
        name, year = FINANCE[lang], YEAR[lang]
        number = lambda oid: oid.split(":")[0]  # noqa: E731
        assert f"{name} — № {number(one)}, {one.rsplit(':', 1)[1]} {year}" in day["question"]
        if lang == "kk":
            assert day["afterOne"] == f"Жауап қабылданды: {name} — № 7, 2022 жыл."
            assert day["afterSeveral"].startswith("2 жауап қабылданды.\n")
            assert day["due"].split() == "2022 жылғы 20 желтоқсан жоспар бойынша: 2022 жылғы 9 желтоқсан; ұзартылған мерзімі: 2022 жылғы 20 желтоқсан".split()
        else:
            assert day["afterOne"] == f"Ответ принят: {name} — № 7, 2021 год."
            assert day["afterSeveral"].startswith("3 ответа приняты.")
            assert day["due"].split() == "20 декабря 2022 г. по плану: 9 декабря 2022 г.; продлено до: 20 декабря 2022 г.".split()
        assert len(day["confirmList"]) == len(several)
        assert day["doneVisible"] and day["dashboard"] == "/" and day["backToQueue"] == "/review" and day["backlog"] >= 1
        for oid in [one, *several]:
            assert web.row(oid).state == "accepted", oid
            [event] = [e for e in web.events(oid) if e.action == "accept"]
            assert (event.actor, event.client) == (email, "127.0.0.1")
        for page, text in day["texts"].items():
            assert not RAW.search(text), (lang, page, RAW.search(text).group(0))
            assert not ENGLISH.search(text), (lang, page, ENGLISH.search(text).group(0))
        assert all(w <= limit for key, w in day["widths"].items() for limit in [int(key.rsplit("-", 1)[1])]), day["widths"]
        assert all(w <= limit for key, w in asked["widths"].items() for limit in [int(key.rsplit("-", 1)[1])])
        assert asked["violations"] == [] and day["violations"] == [], "the pages need nothing the policy refuses"
        for page in ("signin", "queue", "confirm", "accepted-one", "confirm-several", "accepted-several", "extended", "paper"):
            for w in (390, 1280):
                assert (ARTIFACTS / f"review-{page}-{lang}-{w}.png").stat().st_size > 5_000, (page, lang, w)

    # The focal point is told, in her own language, of every answer of hers accepted: one email.
    smtp_server.mailbox.messages.clear()
    tick(web.service, NOW + dt.timedelta(hours=2))
    [told] = smtp_server.mailbox.to(AIGUL)
    accepted = [oid for _, _, _, one, several in DAYS for oid in [one, *several]]
    assert told["X-Scheduler-Step"] == "answer-accepted"
    assert sorted(o.strip() for o in told["X-Scheduler-Occurrences"].split(",")) == sorted(accepted)
    text = told.get_body(("plain",)).get_content()
    assert "Хатшылық төмендегі іс-шаралар бойынша жауабыңызды қабылдады." in text, "in Kazakh, her language"
    assert all(f"/occurrences/{oid}" in text for oid in accepted)
    assert all(web.row(oid).state == "submitted" for oid in UNTOUCHED), "what she did not pick stays"
