"""The user guides' screenshots (docs/kk, docs/ru), taken from the running pages in Debian's Chromium
each time the manual is built (`make docs`, `make test`), so the guides never show stale pages: a
focal point's reminder email, her page opened from its personal link and her answered deadline on a
390 px phone; the secretariat's sign-in page, queue, an occurrence's page and the dashboard on a
laptop. Each in Kazakh and in Russian, checked as a reader would see it: the page in her language
whatever the browser's, its own words, no sideways scrolling on the phone."""

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

SCRIPT = ROOT / "tests" / "js" / "guide.mjs"
EMAIL_LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+\?items=[^\s>]+)")
OUT = ROOT / "docs" / "screenshots"
FOCAL = {"kk": ("aigul@minfin.example.kz", "7:finance:2022"), "ru": ("focal@enbek.example.kz", None)}
# What each page says, in each language, where a reader looks first.
WORDS = {
    "email": {"kk": "Мерзім", "ru": "Срок"},
    "my": {"kk": "Электрондық хатыңыздағы мерзімдер", "ru": "Сроки из вашего письма"},  # opened on the email's
    "answered": {"kk": "Жауап", "ru": "Ответ"},
    "signin": {"kk": "Кіру", "ru": "Вход"},
    "queue": {"kk": "Хатшылық", "ru": "Секретариат"},
    "occurrence": {"kk": "Тарихы", "ru": "История"},
    "dashboard": {"kk": "Кім кешіктіріп жатыр", "ru": "Кто опаздывает"},
}


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'scheduler.db'}"


def test_the_guides_screenshots_show_each_page_in_its_readers_language(site, smtp_server, tmp_path):  # noqa: F811
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "playwright-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    OUT.mkdir(parents=True, exist_ok=True)
    web = site()
    for lang in ("kk", "ru"):
        users.add(web.service.engine, f"reviewer-{lang}@gov.kz", "reviewer", NOW, language=lang)
    tick(web.service, NOW)  # 9 December 2022, 09:00 in Almaty
    web.at(NOW + dt.timedelta(hours=2))
    shots = []
    for lang, (email, _) in FOCAL.items():
        received = [m for m in smtp_server.mailbox.to(email) if m["X-Scheduler-Step"] != "digest"]
        assert received, f"no reminder to {email}"
        message = received[0]
        html = tmp_path / f"{lang}-email.html"
        html.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
        link = EMAIL_LINK.search(message.get_body(("plain",)).get_content()).group(1)  # her page on its deadlines
        answered = message["X-Scheduler-Occurrences"].split(", ")[0]
        # She answers her first deadline (as the page's form does), so the guide can show it answered.
        client = web.signed_in(email)
        page = client.get("/my")[2]
        assert client.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", answered),
                                          ("ref", "12-3/45"), ("ref_date", "2022-12-08"), ("text", "2022: 14")],
                           [("files", "hat.pdf", PDF)])[0] == 303
        other = "ru-RU" if lang == "kk" else "en-US"  # a browser in another language: the page follows her
        shots += [
            {"name": f"{lang}-email-390", "width": 390, "file": str(html)},
            {"name": f"{lang}-my-390", "width": 390, "link": link, "browserLocale": other},  # lands on /my?items=
            {"name": f"{lang}-answered-390", "width": 390, "link": web.link(email), "browserLocale": other,
             "path": f"/occurrences/{answered}"},
            {"name": f"{lang}-signin-1280", "width": 1280, "path": f"/signin?lang={lang}"},
            {"name": f"{lang}-queue-1280", "width": 1280, "link": web.link(f"reviewer-{lang}@gov.kz"), "path": "/review"},
            {"name": f"{lang}-occurrence-1280", "width": 1280, "link": web.link(f"reviewer-{lang}@gov.kz"),
             "path": f"/occurrences/{answered}"},
            {"name": f"{lang}-dashboard-1280", "width": 1280, "link": web.link(f"reviewer-{lang}@gov.kz"), "path": "/"},
        ]
    result = subprocess.run(["node", str(SCRIPT), web.base, str(OUT), json.dumps(shots)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert [s["name"] for s in seen] == [s["name"] for s in shots]
    wrong = []
    for shown in seen:
        lang, kind, width = shown["name"].split("-")
        if shown["status"] != 200 or shown["htmlLang"] != lang:
            wrong.append((shown["name"], shown["status"], shown["htmlLang"]))
        if shown["scrollWidth"] > int(width):
            wrong.append((shown["name"], "scrolls sideways", shown["scrollWidth"]))
        if WORDS[kind][lang] not in shown["text"]:
            wrong.append((shown["name"], shown["path"], "does not say", WORDS[kind][lang], shown["text"][:600]))
        assert (OUT / f"{shown['name']}.png").stat().st_size > 5_000
    assert wrong == [], "\n".join(map(str, wrong))
    # The guides show exactly these: a screenshot named in a guide and not taken fails the manual's build.
    named = {p.name for guide in (ROOT / "docs").glob("*/*.md") for p in OUT.glob("*.png")
             if f"screenshots/{p.name}" in guide.read_text(encoding="utf-8")}
    assert named == {f"{s['name']}.png" for s in shots}
