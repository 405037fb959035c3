"""Sign-in by an emailed one-time link, over real HTTP (uvicorn on loopback) on SQLite and
PostgreSQL, the emails received by a real SMTP server (aiosmtpd): the request form, the answer that
never tells whether the address is known, the link that works once and for 15 minutes, the
throttles, the form's token and Origin check."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from scheduler.app import users
from scheduler.store.db import session
from scheduler.store.tables import SignInRow, WebSessionRow
from tests.conftest import ROOT
from tests.integration.test_personal_links import NOW, site  # noqa: F401 - the fixture
from tests.integration.web_client import field

ONCE = re.compile(r"(https?://\S+/s/[A-Za-z0-9_-]+)")
AIGUL = "aigul@minfin.example.kz"
ASKED = "sign-in link asked for"
BROWSER_SCRIPT = ROOT / "tests" / "js" / "signin.mjs"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO, logger="scheduler")
    return caplog


def eventually(check, what: str):
    """Wait for what happens after the answer (the email goes out after it); not a timing check."""
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def handled(caplog, count: int) -> list[str]:
    """The sign-in log lines, once `count` requests have been dealt with after their answers."""
    lines = lambda: [r.getMessage() for r in caplog.records if r.getMessage().startswith(ASKED)]  # noqa: E731
    eventually(lambda: len(lines()) >= count, f"{count} sign-in request(s) dealt with")
    return lines()


def ask(client, email: str, lang: str | None = None):
    query = f"?lang={lang}" if lang else ""
    page = client.get("/signin" + query)[2]
    return client.post_form("/signin" + query, {"csrf": field(page, "csrf", "sign-in-form"), "email": email})


def link_in(message) -> str:
    return ONCE.search(message.get_body(("plain",)).get_content()).group(1)


def open_link(client, url: str):
    """A one-time link opened as a person opens it: its page, then the page's button."""
    status, headers, page = client.get(url)
    if status != 200:
        return status, headers, page
    assert 'id="confirm-form"' in page, "the link's page asks before it signs in"
    return client.post_form("/s/" + url.rsplit("/", 1)[1], {"csrf": field(page, "csrf", "confirm-form")})


def test_a_focal_point_asks_for_a_link_by_email_and_it_signs_her_in_once(site, smtp_server, logged):  # noqa: F811
    web = site()
    browser = web.client()
    status, headers, page = browser.get("/signin")
    assert status == 200 and '<html lang="kk">' in page and headers["cache-control"] == "no-store"
    assert '<label for="email">' in page and 'type="email" id="email" name="email"' in page and 'id="send"' in page
    status, _, answer = ask(browser, "  Aigul@MinFin.example.kz ")
    assert status == 200 and 'id="sent"' in answer and "15 минут" in answer
    eventually(lambda: smtp_server.mailbox.to(AIGUL), "the email")
    [message] = smtp_server.mailbox.to(AIGUL)
    assert message["From"].addresses[0].addr_spec == "scheduler@ministry.example.kz"
    assert message["From"].addresses[0].display_name, "named as every other email is (the working body)"
    assert message["Subject"] == "Кіруге арналған сілтеме"
    assert message["To"] == f"Айгүл Серікова <{AIGUL}>" and message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    url = link_in(message)
    assert url.startswith(web.base + "/s/") and url in html and 'href="' + url + '"' in html
    assert "2022 жылғы 9 желтоқсан, сағат 09:15" in text and "15 минут" in text, "ends 15 minutes later, Almaty time"
    assert "елемеңіз" in text and "бір рет" in text
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43, "256 random bits"
    with session(web.service.engine) as db:
        row = db.exec(select(SignInRow)).one()
    assert row.id_hash == hashlib.sha256(token.encode()).hexdigest() and row.email == AIGUL
    assert row.client == "127.0.0.1" and row.used_at is None
    # the link signs her in, as the personal link does: a session, its cookie, her page
    web.at(NOW + dt.timedelta(minutes=14))
    phone = web.client()
    for _ in range(2):  # a mail scanner that fetches the link does not use it up
        status, _, page = web.client().get(url)
        assert status == 200 and AIGUL in page and 'id="confirm"' in page
    assert web.client().post_form("/s/" + token, {"csrf": "0" * 64})[0] == 403, "the button's form token"
    status, headers, _ = open_link(phone, url)
    assert status == 303 and headers["location"] == "/my"
    cookie = next(c for c in phone.set_cookies if c.startswith("scheduler_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags and "secure" not in flags
    status, _, mine = phone.get("/my")
    assert status == 200 and "7:finance:2022" in mine and AIGUL in mine
    with session(web.service.engine) as db:
        assert db.exec(select(WebSessionRow)).one().email == AIGUL
        assert db.exec(select(SignInRow)).one().used_at is not None
    # once only
    again = web.client()
    status, _, page = open_link(again, url)
    assert status == 410 and "7:finance:2022" not in page and not again.cookies and 'href="/signin"' in page
    # the log names the address by a mark, never in clear, and never shows the token
    [line] = handled(logged, 1)
    assert line.endswith(": sent") and "from=127.0.0.1" in line
    assert "aigul" not in logged.text.lower() and token not in logged.text


def test_expired_altered_and_never_issued_links_show_nothing(site, smtp_server, logged):  # noqa: F811
    web = site()
    for _ in range(2):
        assert ask(web.client(), AIGUL)[0] == 200
    eventually(lambda: len(smtp_server.mailbox.to(AIGUL)) == 2, "two emails")
    first, second = (link_in(m) for m in smtp_server.mailbox.to(AIGUL))
    token = second.rsplit("/", 1)[1]
    for altered in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[1:], token + "x", "garbage", "x" * 300):
        client = web.client()
        status, _, page = client.get("/s/" + altered)
        assert status == 403 and "7:finance:2022" not in page and not client.cookies, altered
    web.at(NOW + dt.timedelta(minutes=15))
    client = web.client()
    status, _, page = client.get(first)
    assert status == 410 and "7:finance:2022" not in page and not client.cookies, "good for 15 minutes"
    web.at(NOW + dt.timedelta(minutes=14, seconds=59))
    assert open_link(web.client(), second)[0] == 303, "the unaltered one still works"


def test_the_answer_never_tells_whether_the_address_is_known(site, smtp_server, logged):  # noqa: F811
    web = site()
    users.add(web.service.engine, "gone@gov.kz", "reviewer", NOW)
    users.disable(web.service.engine, "gone@gov.kz", NOW)
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    answers = {email: ask(web.client(), email, "ru") for email in
               ("stranger@example.kz", "gone@gov.kz", AIGUL, "reviewer@gov.kz")}
    lines = handled(logged, 4)
    assert {(status, body) for status, _, body in answers.values()} == {answers[AIGUL][0:3:2]}, "one and the same page"
    heads = {tuple(sorted((k, v) for k, v in headers.items() if k != "date")) for _, headers, _ in answers.values()}
    assert len(heads) == 1, "the same headers too"
    status, _, page = answers[AIGUL]
    assert status == 200 and "Если этот адрес здесь известен" in page and "15 мин." in page
    assert sum(line.endswith(": unknown, nothing sent") for line in lines) == 2
    received = [m["To"] for m in smtp_server.mailbox.messages]
    assert sorted(received) == sorted([f"Айгүл Серікова <{AIGUL}>", "reviewer@gov.kz"]), "nothing to a stranger or a disabled user"
    with session(web.service.engine) as db:
        assert sorted(r.email for r in db.exec(select(SignInRow))) == [AIGUL, "reviewer@gov.kz"]
    # a reviewer who is no contact: Kazakh, and he lands on the queue
    [staff] = smtp_server.mailbox.to("reviewer@gov.kz")
    assert staff["Subject"] == "Кіруге арналған сілтеме" and "Сәлеметсіз бе" in staff.get_body(("plain",)).get_content()
    status, headers, _ = open_link(web.client(), link_in(staff))
    assert status == 303 and headers["location"] == "/review"
    # an address that is no address is asked for again (nothing about who is known)
    status, _, page = ask(web.client(), "not an address")
    assert status == 400 and 'id="problem"' in page and 'value="not an address"' in page


def test_a_link_for_someone_who_stopped_being_a_user_signs_nobody_in(site, smtp_server, logged):  # noqa: F811
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    ask(web.client(), "reviewer@gov.kz")
    eventually(lambda: smtp_server.mailbox.to("reviewer@gov.kz"), "the email")
    users.disable(web.service.engine, "reviewer@gov.kz", NOW)
    client = web.client()
    assert client.get(link_in(smtp_server.mailbox.to("reviewer@gov.kz")[0]))[0] == 410 and not client.cookies


def test_at_most_five_links_an_hour_for_an_address(site, smtp_server, logged):  # noqa: F811
    web = site()
    for count in range(1, 7):
        status, _, page = ask(web.client(), AIGUL)
        assert status == 200 and 'id="sent"' in page
        handled(logged, count)  # one after the other, so that the count is exact
    lines = handled(logged, 6)
    assert [line.rsplit(": ", 1)[1] for line in lines] == ["sent"] * 5 + ["throttled, nothing sent"]
    assert len(smtp_server.mailbox.to(AIGUL)) == 5
    web.at(NOW + dt.timedelta(minutes=61))
    ask(web.client(), AIGUL)
    assert handled(logged, 7)[-1].endswith(": sent")
    eventually(lambda: len(smtp_server.mailbox.to(AIGUL)) == 6, "a sixth email an hour later")


def test_a_client_that_asks_too_often_gets_the_same_page_and_nothing_is_sent(site, smtp_server, logged):  # noqa: F811
    web = site()
    client = web.client()
    pages = {ask(client, f"guess{n}@minfin.example.kz")[2] for n in range(30)}
    assert len(handled(logged, 30)) == 30
    status, _, page = ask(client, AIGUL)
    assert status == 200 and pages == {page}
    lines = handled(logged, 31)
    assert lines[-1].endswith(": client throttled, nothing sent")
    assert any("sign-in requests refused" in r.getMessage() for r in logged.records)
    assert not smtp_server.mailbox.messages
    with session(web.service.engine) as db:
        assert not db.exec(select(SignInRow)).all()


def test_a_cross_site_or_forged_request_is_refused(site, smtp_server, logged):  # noqa: F811
    web = site()
    client = web.client()
    page = client.get("/signin")[2]
    token = field(page, "csrf", "sign-in-form")
    status, _, body = client.call("/signin", data=f"csrf={token}&email={AIGUL}".encode(),
                                  headers={"Origin": "https://evil.example"},
                                  content_type="application/x-www-form-urlencoded")
    assert status == 403
    assert client.post_form("/signin", {"email": AIGUL})[0] == 403
    assert client.post_form("/signin", {"csrf": "0" * 64, "email": AIGUL})[0] == 403
    assert not any(r.getMessage().startswith(ASKED) for r in logged.records)
    with session(web.service.engine) as db:
        assert not db.exec(select(SignInRow)).all()


def test_visitors_without_a_session_are_offered_the_sign_in_page(site):  # noqa: F811
    web = site()
    for lang, words in (("kk", "Кіру"), ("ru", "Вход"), ("en", "Sign in")):
        status, headers, _ = web.client().get(f"/my?lang={lang}")
        assert status == 303 and "www-authenticate" not in headers
        assert headers["location"] == f"/signin?next=%2Fmy%3Flang%3D{lang}&lang={lang}"
        status, _, form = web.client().get(headers["location"])
        assert status == 200 and f'<html lang="{lang}">' in form and f"<h1>{words}</h1>" in form
        assert field(form, "next", "sign-in-form") == f"/my?lang={lang}"


def test_behind_https_the_cookie_is_secure_and_host_only(site, smtp_server, logged):  # noqa: F811
    web = site(base_url="https://deadlines.example.gov.kz")
    ask(web.client(), AIGUL)
    eventually(lambda: smtp_server.mailbox.to(AIGUL), "the email")
    url = link_in(smtp_server.mailbox.to(AIGUL)[0])
    assert url.startswith("https://deadlines.example.gov.kz/s/")
    client = web.client()
    assert open_link(client, "/s/" + url.rsplit("/", 1)[1])[0] == 303
    cookie = client.set_cookies[0]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert cookie.startswith("__Host-scheduler_session=") and {"secure", "httponly", "samesite=lax", "path=/"} <= flags


def test_two_clicks_at_once_sign_in_one_browser_only(site, smtp_server, logged):  # noqa: F811
    web = site()
    ask(web.client(), AIGUL)
    eventually(lambda: smtp_server.mailbox.to(AIGUL), "the email")
    url = link_in(smtp_server.mailbox.to(AIGUL)[0])
    start = threading.Barrier(8)

    def click(_):
        client = web.client()
        page = client.get(url)[2]
        start.wait()
        return client.post_form("/s/" + url.rsplit("/", 1)[1], {"csrf": field(page, "csrf", "confirm-form")})[0]

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(click, range(8)))
    assert statuses == [303] + [410] * 7
    with session(web.service.engine) as db:
        assert len(db.exec(select(WebSessionRow)).all()) == 1


def test_asking_for_a_link_and_opening_it_in_a_browser(site, smtp_server, logged):  # noqa: F811
    """Headless Chromium (Debian's, through playwright-core), as tests/integration/test_answer_browser.py."""
    if not shutil.which("chromium") or not shutil.which("node"):
        pytest.skip("needs Debian's chromium and node (make test installs them where it can)")
    if not (BROWSER_SCRIPT.parent / "node_modules" / "playwright-core").exists():
        pytest.skip("needs `npm ci --prefix tests/js` (make test runs it)")
    ARTIFACTS.mkdir(exist_ok=True)
    web = site()

    def node(*args):
        result = subprocess.run(["node", str(BROWSER_SCRIPT), *map(str, args)], capture_output=True, text=True,
                                timeout=240)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    asked = node("ask", web.base, "ivanov@minfin.example.kz", ARTIFACTS)
    assert asked["refused"] == 303 and asked["formPath"] == "/signin" and asked["next"] == "/my" and asked["lang"] == "ru"
    assert asked["label"] == "Адрес электронной почты" and asked["answered"] == 200
    assert "Если этот адрес здесь известен" in asked["sent"] and asked["width"] <= 390
    assert asked["violations"] == []
    eventually(lambda: smtp_server.mailbox.to("ivanov@minfin.example.kz"), "the email")
    [message] = smtp_server.mailbox.to("ivanov@minfin.example.kz")
    assert message["Subject"] == "Ссылка для входа" and "до 09:15 9 декабря 2022" in message.get_body(("plain",)).get_content()
    opened = node("open", link_in(message), ARTIFACTS)
    assert opened["opened"] == 200 and opened["status"] == 200 and opened["landed"] == "/my" and opened["listed"] >= 1
    assert {"name": "scheduler_session", "httpOnly": True, "sameSite": "Lax", "secure": False} in opened["cookies"]
    assert opened["violations"] == []
