"""Every link of an email opens for the person it was sent to, in a real browser: the daemon's own
tick writes the Monday digest (to the coordinator's focal points) and the escalations after a miss
(to the agency's supervisors, then to the focal points of the body the information is owed to)
through a real SMTP server (aiosmtpd on loopback); the site is served over HTTP (uvicorn on
loopback); Debian's Chromium (playwright-core, tests/js/heads.mjs) opens each reader's personal link
from her email, then clicks every other link it holds. None answers 401, 403 or 404, none sends her
to the sign-in page, and every page is in her language (Kazakh and Russian readers). Screenshots of
each email, the page she lands on and the read-only view at 390 and 1280 px go to
test-artifacts/email-links/."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import urllib.request
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from scheduler.app.links import personal_link
from scheduler.app.tick import tick
from scheduler.web.app import create_app
from tests.conftest import ROOT
from tests.integration.web_client import serving
from tests.smtp import free_port

ALMATY = ZoneInfo("Asia/Almaty")
SCRIPT = ROOT / "tests" / "js" / "heads.mjs"
ARTIFACTS = ROOT / "test-artifacts" / "email-links"
MONDAY = dt.datetime(2022, 12, 12, 9, 0, tzinfo=ALMATY)  # 7:finance:2022 and its row fell due on Friday the 9th
LATER = dt.datetime(2022, 12, 19, 9, 0, tzinfo=ALMATY)  # 5 working days after (16-17 December are holidays): the body owed the information is told
KAZAKH = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
PHONE = "+7 7172 74 00 00"
CONTACTS = f"""agency,name,email,role,language,phone
mvd,Асқар Нұрланов,askar@mvd.example.kz,focal,kk,
mvd,Ольга Петрова,olga@mvd.example.kz,focal,ru,
finance,Айгүл Серікова,aigul@minfin.example.kz,focal,kk,{PHONE}
finance,Пётр Иванов,ivanov@minfin.example.kz,supervisor,ru,
finance,Серік Ахметов,serik@minfin.example.kz,supervisor,kk,
finance,Head of Finance,head@minfin.example.kz,head,en,
"""
# people's names, and the official Russian names of two oblasts that keep their Kazakh letters
PEOPLE = [line.split(",")[1] for line in CONTACTS.splitlines()[1:]] + ["Жетісу", "Ұлытау"]
# (name of the screenshots, step, address, language)
READERS = [
    ("digest-kk", "digest", "askar@mvd.example.kz", "kk"),
    ("digest-ru", "digest", "olga@mvd.example.kz", "ru"),
    ("escalation-supervisor-kk", "escalation-1wd", "serik@minfin.example.kz", "kk"),
    ("escalation-supervisor-ru", "escalation-1wd", "ivanov@minfin.example.kz", "ru"),
    ("escalation-recipient-ru", "escalation-5wd", "olga@mvd.example.kz", "ru"),
]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])


def hrefs(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return list(dict.fromkeys(parser.hrefs))


def raw_codes(text: str, codes: set[str]) -> set[str]:
    """The codes a reader should never read: the plan's bodies', its periods' (2022-Q1), the
    resolution's paragraphs' (res-3.2), outside the links."""
    words = re.sub(r"https?://\S+", " ", text)
    found = {c for c in codes if re.search(rf"(?<![\w/.:@-]){re.escape(c)}(?![\w/-])", words)}  # an address's domain aside
    found |= set(re.findall(r"(?<![\w/])(?:res-\d[\d.]*|\d{4}-[QH]\d)(?![\w/])", words))
    return found


@pytest.fixture
def site(make_service, contacts_file, smtp_server):
    """The shipped plan with the contacts above, its emails of 12 and 19 December 2022 sent through
    a real SMTP server, and the site served on loopback as `run` serves it (the plan's clock on the
    19th, sessions on the wall clock)."""
    contacts_file.write_text(CONTACTS, encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = make_service(f"sqlite:///{contacts_file.parent / 'links.db'}", smtp_server)
    service.settings.base_url = base
    tick(service, MONDAY)
    tick(service, LATER)
    now = LATER + dt.timedelta(hours=1)
    app = create_app(lambda: service, lambda: now, None, wall=lambda: dt.datetime.now(dt.timezone.utc))
    with serving(app, port):
        yield base, service, smtp_server.mailbox


def test_every_link_of_every_email_opens_for_its_reader(site, tmp_path):
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (SCRIPT.parent / "node_modules" / "playwright-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    base, service, mailbox = site
    codes = set(service.plan.file.agencies) | set(service.plan.file.offices)
    readers, feeds, sizes = [], [], {}
    for name, step, address, language in READERS:
        found = [m for m in mailbox.by_step(step) if address in m["To"]]
        assert found, (name, [(m["To"], m["X-Scheduler-Step"]) for m in mailbox.messages])
        message = found[0]  # the first of its kind (the digest goes out again on the 19th)
        size = len(message.as_bytes())
        assert size < 100_000, (name, size)  # Gmail clips a message at about 102 KB
        sizes[name] = size
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        links = hrefs(html)
        assert links and all(link in text for link in links), f"{name}: the plain text carries the same links"
        assert all(link.startswith(base + "/") for link in links), links
        # One personal link (the button: her page, or her deadlines `?items=`); item links may go
        # through the same token (`?next=/occurrences/…`), and are clicked as the others are.
        personal = [link for link in links if "/l/" in link and "occurrences" not in link]
        assert len(personal) == 1, f"{name}: one personal link: {links}"
        token = personal[0].split("/l/")[1].split("?")[0]
        assert all(link.split("/l/")[1].split("?")[0] == token for link in links if "/l/" in link), name
        assert text.index(personal[0]) < min(text.index(link) for link in links if link != personal[0]), \
            f"{name}: the personal link comes first"
        # no code where a reader reads words: subject, text (the links aside)
        assert not raw_codes(message["Subject"] + "\n" + text, codes), (name, raw_codes(message["Subject"] + text, codes))
        if language == "ru":
            rest = message["Subject"] + text
            for person in PEOPLE:  # people's names are as they write them
                rest = rest.replace(person, "")
            assert not KAZAKH.search(rest), (name, re.findall(r"\S*[әғқңөұүһіӘҒҚҢӨҰҮҺІ]\S*", rest)[:5])
        if "supervisor" in name:  # who the focal point is, and how to reach her
            assert f"Айгүл Серікова, aigul@minfin.example.kz, {PHONE}" in text and \
                f"Айгүл Серікова, aigul@minfin.example.kz, {PHONE}" in html, name
        page = tmp_path / f"{name}.html"
        page.write_text(html, encoding="utf-8")
        others = [link for link in links if link != personal[0]]
        feeds += [link for link in others if "/feeds/" in link]
        clicked = [link for link in others if "/feeds/" not in link]
        view = next((link for link in clicked if "/?" in link and "overdue" in link),
                    next((link for link in clicked if "/occurrences/" in link), None))
        readers.append({"name": name, "personal": personal[0], "links": clicked, "email": str(page), "view": view,
                        "lang": language, "step": step})
    digest = next(r for r in readers if r["step"] == "digest")
    assert any("/occurrences/" in link for link in digest["links"]) and any("/?" in link for link in digest["links"])

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    spec = tmp_path / "readers.json"
    spec.write_text(json.dumps(readers), encoding="utf-8")
    result = subprocess.run(["node", str(SCRIPT), str(spec), str(ARTIFACTS)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    statuses: dict[int, int] = {}
    for reader in readers:
        got = seen[reader["name"]]
        landing = got["personal"]
        assert landing["status"] == 200 and "/signin" not in landing["landed"], (reader["name"], landing["landed"])
        if reader["step"] == "digest":
            assert landing["landed"] == base + "/", "the digest's link opens the dashboard"
        assert landing["lang"] == reader["lang"], (reader["name"], landing["lang"])
        assert len(got["links"]) == len(reader["links"]) > 0
        for visit in got["links"]:
            statuses[visit["status"]] = statuses.get(visit["status"], 0) + 1
            assert visit["status"] == 200, (reader["name"], visit["url"], visit["status"], visit["text"][:300])
            assert "/signin" not in visit["landed"], (reader["name"], visit["url"])
            assert visit["lang"] == reader["lang"], (reader["name"], visit["url"], visit["lang"])
            assert not raw_codes(visit["text"], codes), (reader["name"], visit["url"], raw_codes(visit["text"], codes))
        assert got["widths"]["390"] <= 390, (reader["name"], "the email fits a phone")
    for feed in feeds:
        with urllib.request.urlopen(feed, timeout=10) as response:
            assert response.status == 200
    clicked = sum(len(r["links"]) for r in readers)
    print(f"clicked {clicked} links of {len(readers)} emails after their personal links: statuses {statuses}; "
          f"{len(feeds)} feed(s) fetched; sizes {sizes}; links per email {({r['name']: len(r['links']) for r in readers})}")
    assert set(statuses) == {200}
    for reader in readers:
        for width in (390, 1280):
            assert (ARTIFACTS / f"{reader['name']}-email-{width}.png").is_file()
            assert (ARTIFACTS / f"{reader['name']}-view-{width}.png").is_file()


def test_a_recipients_focal_point_reads_what_is_owed_to_her_body_and_nothing_else(site):
    """The focal points of a body information is owed to (here the Ministry of Finance, which the
    akimats and the Ministry of Internal Affairs report a row to) are told of a miss by escalation-5wd,
    whose links are those deadlines' pages: they open for her; another body's deadline owed to
    someone else does not, and she answers none of them."""
    from sqlmodel import select

    from scheduler.store.db import session
    from scheduler.store.tables import OccurrenceRow
    from tests.integration.web_client import Client

    base, service, _ = site
    with session(service.engine) as db:
        rows = db.exec(select(OccurrenceRow).where(OccurrenceRow.status == "active")).all()
    owed = next(r for r in rows if r.recipient == "finance" and r.agency != "finance")
    other = next(r for r in rows if r.agency == "mvd" and r.recipient not in ("finance", None))
    browser = Client(base)
    with session(service.engine) as db:
        url, _ = personal_link(service, db, "aigul@minfin.example.kz", LATER)
    assert browser.get(url)[0] == 303
    status, _, page = browser.get(f"/occurrences/{owed.id}")
    assert status == 200 and 'action="/my/answer"' not in page
    assert browser.get(f"/occurrences/{other.id}")[0] == 404
    assert browser.get("/")[0] == 403, "the dashboard is the secretariat's and the coordinator's"
