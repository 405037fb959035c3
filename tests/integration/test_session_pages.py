"""Pages that need a session, opened without one, over real HTTP on SQLite and PostgreSQL: a browser
is sent to the sign-in page (`/signin?next=…`, never an HTTP Basic prompt) and, signed in, lands
where it was going; scripts keep HTTP Basic with the admin credential; the dashboard is for
signed-in staff with or without SCHEDULER_ADMIN_PASSWORD, and a focal point gets a 403 page in her
language; the local admin's one-time link lands on the dashboard; and under `run --clock` sessions
and sign-in links keep the wall clock while every page says it is a replay."""

from __future__ import annotations

import datetime as dt
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn

from scheduler.app import local_admin, sessions, users
from scheduler.web.app import create_app
from scheduler.web.auth import safe_next
from tests.integration.test_personal_links import CREDENTIAL, NOW, Site
from tests.integration.test_sign_in import ask, eventually, link_in, open_link
from tests.integration.web_client import Client, field
from tests.smtp import free_port

AIGUL = "aigul@minfin.example.kz"  # the finance focal point, Kazakh
IVANOV = "ivanov@minfin.example.kz"  # the finance supervisor, Russian
REVIEWER = "reviewer@gov.kz"
PAGES = ["/", "/agencies/finance", "/review", "/occurrences/7:finance:2022", "/my", "/report/2022.csv",
         "/reports/consolidated?year=2022&lang=kk&format=docx"]


@pytest.fixture
def served(make_service, database_url, smtp_server):
    """The app over HTTP; `wall`: the real time the web keeps (default: the page clock, `site.clock`)."""
    servers = []

    def start(credential=CREDENTIAL, replay=False, wall=None):
        port = free_port()
        service = make_service(database_url, smtp_server)
        service.settings = service.settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"})
        clock = [NOW]
        app = create_app(lambda: service, lambda: clock[0], credential, replay=replay,
                         wall=(lambda: wall[0]) if wall else None)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        servers.append((server, thread))
        return Site(service, f"http://127.0.0.1:{port}", clock)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def sign_in_target(location: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(location)
    return parts.path, parse_qs(parts.query)


@pytest.mark.parametrize("credential", [CREDENTIAL, None], ids=["admin-password", "no-admin-password"])
def test_no_session_leads_to_the_sign_in_page_never_to_a_basic_prompt(served, credential):
    web = served(credential=credential)
    for page in PAGES:
        status, headers, body = web.client().get(page)
        assert status == 303 and "www-authenticate" not in headers, page
        path, query = sign_in_target(headers["location"])
        assert path == "/signin" and query["next"] == [page], page
        assert "7:finance:2022" not in body
    # an ended session: the same, and its cookie is dropped
    browser = web.signed_in(AIGUL)
    sessions.close(web.service.engine, browser.cookies["scheduler_session"], NOW)
    status, headers, _ = browser.get("/my?lang=ru")
    assert status == 303 and headers["location"] == "/signin?next=%2Fmy%3Flang%3Dru&lang=ru"
    assert "scheduler_session" not in browser.cookies and "www-authenticate" not in headers
    # the sign-in page in the reader's language: ?lang=, the cookie, Accept-Language
    for lang, asked, heading in (("ru", {"Accept-Language": "ru-RU,ru;q=0.9"}, "Вход"), ("kk", {}, "Кіру"),
                                 ("en", {"Accept-Language": "en-GB"}, "Sign in")):
        status, headers, _ = web.client().call("/review", headers=asked)
        page = web.client().get(headers["location"], headers=asked)[2]
        assert f'<html lang="{lang}">' in page and f"<h1>{heading}</h1>" in page and 'id="why"' in page
        assert 'name="next" value="/review"' in page


def test_after_signing_in_by_the_emailed_link_the_browser_lands_where_it_was_going(served, smtp_server):
    web = served()
    users.add(web.service.engine, REVIEWER, "reviewer", NOW)
    browser = web.client()
    wanted = "/occurrences/7:finance:2022?lang=ru"
    location = browser.get(wanted)[1]["location"]
    page = browser.get(location)[2]
    assert 'name="next" value="/occurrences/7:finance:2022?lang=ru"' in page and '<html lang="ru">' in page
    assert 'href="?next=%2Foccurrences%2F7%3Afinance%3A2022%3Flang%3Dru&amp;lang=kk"' in page, "the switch keeps next"
    status, _, _ = browser.post_form("/signin", {"csrf": field(page, "csrf", "sign-in-form"), "email": REVIEWER,
                                                 "next": wanted})
    assert status == 200
    eventually(lambda: smtp_server.mailbox.to(REVIEWER), "the email")
    message = smtp_server.mailbox.to(REVIEWER)[0]
    text = message.get_body(("plain",)).get_content()
    url = link_in(message)
    assert f"{url}?next=%2Foccurrences%2F7%3Afinance%3A2022%3Flang%3Dru" in text
    status, headers, _ = open_link(browser, url + "?next=%2Foccurrences%2F7%3Afinance%3A2022%3Flang%3Dru")
    assert status == 303 and headers["location"] == wanted
    status, _, page = browser.get(wanted)
    assert status == 200 and '<html lang="ru">' in page
    # without `next`, or with one that leads elsewhere, a reviewer lands on the queue
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "/signin", "/s/abc", "javascript:x"):
        assert safe_next(bad) is None, bad
    ask(web.client(), REVIEWER)
    eventually(lambda: len(smtp_server.mailbox.to(REVIEWER)) == 2, "the second email")
    second = link_in(smtp_server.mailbox.to(REVIEWER)[1])
    assert open_link(web.client(), second + "?next=%2F%2Fevil.example%2F")[1]["location"] == "/review"


def test_a_personal_link_honours_next(served):
    web = served()
    link = web.link(AIGUL)
    status, headers, _ = web.client().get(link + "?next=%2Foccurrences%2F7%3Afinance%3A2022")
    assert status == 303 and headers["location"] == "/occurrences/7:finance:2022"
    for bad in ("https%3A%2F%2Fevil.example", "%2F%2Fevil.example", "%2Fl%2Fx"):
        assert web.client().get(f"{link}?next={bad}")[1]["location"] == "/my", bad


def test_scripts_keep_http_basic_with_the_admin_credential(served):
    web = served()
    for page in ("/", "/review", "/agencies/finance", "/occurrences/7:finance:2022", "/report/2022.csv"):
        assert Client(web.base, CREDENTIAL).get(page)[0] == 200, page
        status, headers, _ = Client(web.base, ("admin", "wrong")).get(page)
        assert status == 401 and headers["www-authenticate"].startswith("Basic"), page
    without = served(credential=None)
    status, headers, body = Client(without.base, CREDENTIAL).get("/")
    assert status == 401 and "www-authenticate" not in headers and "SCHEDULER_ADMIN_PASSWORD" in body


@pytest.mark.parametrize("role", ["reviewer", "observer", "admin"])
def test_signed_in_staff_read_the_dashboard_without_an_admin_password(served, role):
    web = served(credential=None)
    users.add(web.service.engine, REVIEWER, role, NOW)
    browser = web.signed_in(REVIEWER)
    for page in ("/?lang=en", "/agencies/finance?lang=en", "/report/2022.csv", "/review"):
        status, _, body = browser.get(page)
        assert status == 200, (page, body[:300])
    assert 'id="calendar"' in browser.get("/?lang=en")[2]


def test_a_focal_point_is_told_the_dashboard_is_not_hers_in_her_language(served):
    web = served(credential=None)
    browser = web.signed_in(AIGUL)
    for lang, words, link in (("kk", "Бұл бет тек хатшылыққа арналған.", "Менің мерзімдеріме өту"),
                              ("ru", "Эта страница только для секретариата.", "Перейти к моим срокам")):
        for page in (f"/?lang={lang}", f"/agencies/finance?lang={lang}", f"/review?lang={lang}"):
            status, headers, body = browser.get(page)
            assert status == 403 and "www-authenticate" not in headers, page
            assert f'<html lang="{lang}">' in body and words in body and f'href="/my" id="back" class="back">{link}<' in body
    assert browser.get("/")[0] == 403 and '<html lang="ru">' in browser.get("/")[2], "the language chosen is kept"
    assert web.signed_in(IVANOV).get("/")[2].count('<html lang="ru">') == 1, "her own language by default"


def test_the_local_admin_link_lands_on_the_dashboard(served):
    web = served(credential=None)
    url = local_admin.sign_in_url(web.service.engine, web.base, NOW)
    browser = web.client()
    status, headers, _ = open_link(browser, url)
    assert status == 303 and headers["location"] == "/"
    status, _, page = browser.get("/?lang=en")
    assert status == 200 and 'id="calendar"' in page


def test_in_a_replay_sessions_and_links_keep_the_wall_clock_and_every_page_says_replay(served, smtp_server):
    wall = [dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)]
    web = served(credential=None, replay=True, wall=wall)
    users.add(web.service.engine, REVIEWER, "reviewer", NOW)
    focal = web.signed_in(AIGUL)  # the personal link minted at the replayed time T
    reviewer = web.client()
    assert open_link(reviewer, local_admin.sign_in_url(web.service.engine, web.base, wall[0]))[0] == 303
    ask(web.client(), REVIEWER)
    eventually(lambda: smtp_server.mailbox.to(REVIEWER), "the email")
    emailed = link_in(smtp_server.mailbox.to(REVIEWER)[0])
    # the replayed clock runs 40 days ahead while ten real minutes pass
    web.at(NOW + dt.timedelta(days=40))
    wall[0] += dt.timedelta(minutes=10)
    status, _, page = focal.get("/my?lang=en")
    assert status == 200 and 'id="replay"' in page
    assert "Replay: these pages show the plan as it stood on 18 January 2023 at 09:00, not today." in page
    status, _, page = reviewer.get("/review?lang=ru")
    assert status == 200 and "Воспроизведение: страницы показывают план не на сегодня, а на 18 января 2023" in page
    status, _, page = reviewer.get("/occurrences/7:finance:2022?lang=kk")
    assert status == 200 and 'id="replay"' in page and "Қайта ойнату" in page
    assert 'class="replay"' in reviewer.get("/?lang=en")[2]
    signed = web.client()
    assert open_link(signed, emailed)[0] == 303, "the sign-in link, 10 real minutes old"
    assert signed.get("/review")[0] == 200
    # the real session lifetime still ends them
    wall[0] += dt.timedelta(hours=13)
    assert focal.get("/my")[0] == 303 and reviewer.get("/review")[0] == 303


def test_no_replay_banner_on_the_live_clock(served):
    web = served()
    assert 'id="replay"' not in web.signed_in(AIGUL).get("/my")[2]
