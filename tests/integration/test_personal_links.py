"""Personal links, sessions, the focal point's page and the secretariat's review, over real HTTP
(uvicorn on loopback) on SQLite and PostgreSQL; the links come from real emails (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from scheduler.app import links, sessions, users
from scheduler.app.links import personal_link
from scheduler.app.tick import tick
from scheduler.store.db import session
from scheduler.store.tables import EventRow, FileRow, OccurrenceRow, WebSessionRow
from scheduler.web.app import create_app
from tests.integration.web_client import Client, field, serve
from tests.smtp import free_port

NOW = dt.datetime(2022, 12, 9, 3, 0, tzinfo=dt.timezone.utc)  # 09:00 in Almaty: the due date of 7:finance:2022
CREDENTIAL = ("admin", "correct horse")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+)")


class Site:
    def __init__(self, service, base, clock):
        self.service, self.base, self.clock = service, base, clock

    def at(self, moment):
        self.clock[0] = moment

    def client(self, auth=None):
        return Client(self.base, auth)

    def link(self, email, moment=None):
        with session(self.service.engine) as db:
            return personal_link(self.service, db, email, moment or self.clock[0])[0]

    def signed_in(self, email):
        client = self.client()
        status, headers, _ = client.get(self.link(email))
        assert status == 303, status
        return client

    def row(self, oid):
        with session(self.service.engine) as db:
            return db.get(OccurrenceRow, oid)

    def events(self, oid):
        with session(self.service.engine) as db:
            return list(db.exec(select(EventRow).where(EventRow.occurrence_id == oid).order_by(EventRow.id)))


@pytest.fixture
def site(make_service, database_url, smtp_server):
    servers = []

    def start(base_url=None, credential=CREDENTIAL):
        port = free_port()
        service = make_service(database_url, smtp_server)
        service.settings = service.settings.model_copy(update={"base_url": base_url or f"http://127.0.0.1:{port}"})
        clock = [NOW]
        app = create_app(lambda: service, lambda: clock[0], credential)
        servers.append(serve(app, port))
        return Site(service, f"http://127.0.0.1:{port}", clock)

    yield start
    for stop in servers:
        stop()


def test_every_deadline_email_carries_a_personal_link_that_signs_its_person_in(site, smtp_server):
    web = site()
    tick(web.service, NOW)
    messages = [m for m in smtp_server.mailbox.messages if m["X-Scheduler-Step"] != "digest"]
    assert messages
    for message in messages:
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        found = LINK.search(text)
        assert found and found.group(1).startswith(web.base + "/l/"), message["To"]
        assert found.group(1) in html
    aigul = next(m for m in messages if "aigul@minfin.example.kz" in m["To"])
    url = LINK.search(aigul.get_body(("plain",)).get_content()).group(1)
    assert "2023 жылғы 7 қаңтар" in aigul.get_body(("plain",)).get_content(), "the link's last day, in Kazakh"

    browser = web.client()
    status, headers, body = browser.get(url)
    assert status == 303 and headers["location"] == "/my" and "/l/" not in headers["location"]
    cookie = next(c for c in browser.set_cookies if c.startswith("scheduler_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags and "secure" not in flags
    status, headers, page = browser.get("/my")
    assert status == 200 and headers["cache-control"] == "no-store" and '<html lang="kk">' in page
    assert "7:finance:2022" in page and "2022 жылғы 9 желтоқсан" in page
    assert ":mvd:" not in page, "only her own agencies"
    assert 'name="occurrence" value="7:finance:2022"' in page
    with session(web.service.engine) as db:
        stored = db.exec(select(WebSessionRow)).one()
    assert stored.email == "aigul@minfin.example.kz" and stored.id_hash != browser.cookies["scheduler_session"]


def test_an_altered_expired_or_revoked_link_shows_nothing(site):
    web = site()
    url = web.link("aigul@minfin.example.kz")
    payload, mac = url.rsplit("/", 1)[1].split(".")
    other = web.link("askar@mvd.example.kz").rsplit("/", 1)[1].split(".")[0]
    for token in (payload + "." + mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB"), other + "." + mac, payload,
                  payload + "x." + mac, "garbage"):
        client = web.client()
        status, _, page = client.get("/l/" + token)
        assert status == 403 and "7:finance:2022" not in page and not client.cookies, token
    # expired: good for SCHEDULER_LINK_DAYS (30) days
    web.at(NOW + dt.timedelta(days=30))
    client = web.client()
    status, _, page = client.get(url)
    assert status == 410 and "7:finance:2022" not in page and not client.cookies
    web.at(NOW + dt.timedelta(days=29, hours=23))
    assert web.client().get(url)[0] == 303
    # revoked: the person's generation moves on; her open sessions end too
    signed_in = web.signed_in("aigul@minfin.example.kz")
    assert signed_in.get("/my")[0] == 200
    generation, ended = links.revoke(web.service.engine, "Aigul@minfin.example.kz", NOW)
    assert generation == 1 and ended == 2
    status, _, page = web.client().get(url)
    assert status == 410 and "7:finance:2022" not in page
    status, headers, page = signed_in.get("/my")
    assert status == 303 and headers["location"] == "/signin?next=%2Fmy" and "7:finance:2022" not in page
    assert web.client().get(web.link("aigul@minfin.example.kz"))[0] == 303, "a link minted after it works"
    # someone who is neither a contact nor a user gets nothing, even with a well-signed link
    assert web.client().get(web.link("stranger@example.kz"))[0] == 410


def test_sessions_time_out_and_sign_out(site):
    web = site()
    browser = web.signed_in("aigul@minfin.example.kz")
    web.at(NOW + dt.timedelta(minutes=119))
    assert browser.get("/my")[0] == 200
    web.at(NOW + dt.timedelta(minutes=119 + 121))
    status, headers, page = browser.get("/my")
    assert status == 303 and "7:finance:2022" not in page, "idle for more than 120 minutes"
    assert headers["location"] == "/signin?next=%2Fmy" and "www-authenticate" not in headers
    web.at(NOW)
    browser = web.signed_in("aigul@minfin.example.kz")
    for hours in range(1, 12):
        web.at(NOW + dt.timedelta(hours=hours))
        assert browser.get("/my")[0] == 200
    web.at(NOW + dt.timedelta(hours=12))
    assert browser.get("/my")[0] == 303, "12 hours after sign-in, used or not: to the sign-in page"
    web.at(NOW)
    browser = web.signed_in("aigul@minfin.example.kz")
    page = browser.get("/my")[2]
    assert browser.post_form("/signout", {"csrf": "0" * 64})[0] == 403
    cookie = browser.cookies["scheduler_session"]
    status, _, _ = browser.post_form("/signout", {"csrf": field(page, "csrf", "sign-out-form")})
    assert status == 200 and "scheduler_session" not in browser.cookies
    with session(web.service.engine) as db:
        assert db.get(WebSessionRow, sessions.digest(cookie)).revoked_at is not None
    browser.cookies["scheduler_session"] = cookie
    assert browser.get("/my")[0] == 303, "a signed-out session is over, whoever kept its cookie"


def test_behind_https_the_cookie_is_secure_and_host_only(site):
    web = site(base_url="https://deadlines.example.gov.kz")
    url = web.link("aigul@minfin.example.kz")
    assert url.startswith("https://deadlines.example.gov.kz/l/")
    client = web.client()
    status, _, _ = client.get("/l/" + url.rsplit("/", 1)[1])
    assert status == 303
    cookie = client.set_cookies[0]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert cookie.startswith("__Host-scheduler_session=") and {"secure", "httponly", "samesite=lax", "path=/"} <= flags
    assert "domain" not in cookie.lower()


def test_a_focal_point_answers_several_deadlines_with_a_document_and_sees_only_her_agencies(site):
    web = site()
    browser = web.signed_in("aigul@minfin.example.kz")
    page = browser.get("/my")[2]
    token = field(page, "csrf", "answer-form")
    fields = [("csrf", token), ("occurrence", "7:finance:2022"), ("occurrence", "6:finance:2022"),
              ("ref", "12-3/45"), ("ref_date", "2022-12-08"), ("text", "2022 жылы 14 іс-шара өткізілді")]
    # another agency's occurrence is not found, and nothing at all is recorded
    status, _, _ = browser.post("/my/answer", [*fields, ("occurrence", "7:mvd:2022")], [("files", "Хат.pdf", PDF)])
    assert status == 404 and web.row("7:finance:2022").state == "open"
    assert browser.get("/occurrences/7:mvd:2022")[0] == 404
    # a document judged by its content: HTML named .pdf is refused, nothing recorded
    status, _, page = browser.post("/my/answer", fields, [("files", "x.pdf", b"<html><script>alert(1)</script>")])
    assert status == 400 and "x.pdf: PDF, DOCX, XLSX, PNG немесе JPEG құжаты емес" in page and "12-3/45" in page and web.row("7:finance:2022").state == "open"
    # no token, a forged one, another site
    assert browser.post("/my/answer", fields[1:])[0] == 403
    assert browser.post("/my/answer", [("csrf", "0" * 64), *fields[1:]])[0] == 403
    status, _, _ = browser.call("/my/answer", data=b"csrf=" + token.encode(), headers={"Origin": "https://evil.example"},
                                content_type="application/x-www-form-urlencoded")
    assert status == 403
    status, headers, _ = browser.post("/my/answer", fields, [("files", "Хат 12-3-45.pdf", PDF)])
    assert status == 303 and headers["location"] == "/my?done=answer"
    for oid in ("7:finance:2022", "6:finance:2022"):
        row = web.row(oid)
        assert row.state == "submitted" and row.next_step_at is None
        event = web.events(oid)[-1]
        assert (event.actor, event.action, event.client) == ("aigul@minfin.example.kz", "submit", "127.0.0.1")
    with session(web.service.engine) as db:
        stored = db.exec(select(FileRow).where(FileRow.occurrence_id == "7:finance:2022")).one()
    assert stored.name == "Хат 12-3-45.pdf" and stored.content == PDF and stored.content_type == "application/pdf"
    status, headers, body = browser.call(f"/files/{stored.id}")
    assert status == 200 and body == PDF and headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("attachment;") and "UTF-8''%D0%A5%D0%B0%D1%82" in headers["content-disposition"]
    assert headers["x-content-type-options"] == "nosniff"
    page = browser.get("/my?done=answer")[2]
    assert 'id="done"' in page and 'id="a-7:finance:2022"' in page
    # another agency's focal point can neither see nor download it
    other = web.signed_in("focal@gpo.example.kz")
    assert other.get(f"/files/{stored.id}")[0] == 404
    assert other.get("/occurrences/7:finance:2022")[0] == 404
    assert "7:finance:2022" not in other.get("/my")[2]
    # the coordinator's focal point (the Ministry of Internal Affairs in 2022) reads the whole plan,
    # as her digest's links need, and answers nothing but her own
    askar = web.signed_in("askar@mvd.example.kz")
    status, _, page = askar.get("/occurrences/7:finance:2022")
    assert status == 200 and "<form method=\"post\" action=\"/my/answer\"" not in page and "/act\"" not in page
    assert "7:finance:2022" not in askar.get("/my")[2]
    # a supervisor sees his agency's page but has no form to answer with
    ivanov = web.signed_in("ivanov@minfin.example.kz")
    page = ivanov.get("/my")[2]
    assert '<html lang="ru">' in page and "Мои сроки" in page and 'name="occurrence"' not in page
    assert ivanov.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", "17:finance:2022"),
                                      ("text", "x")])[0] == 403


def test_asking_for_more_time_reaches_the_secretariat(site):
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    browser = web.signed_in("aigul@minfin.example.kz")
    page = browser.get("/my")[2]
    fields = [("csrf", field(page, "csrf", "answer-form")), ("csrf_extension", field(page, "csrf_extension")),
              ("occurrence", "7:finance:2022"), ("until", "2022-12-20")]
    status, _, page = browser.post("/my/extension", fields)
    assert status == 400 and "Себебін көрсетіңіз" in page
    status, headers, _ = browser.post("/my/extension", [*fields, ("reason", "хат № 5, 5 желтоқсан")])
    assert status == 303
    row = web.row("7:finance:2022")
    assert row.state == "open" and row.extension_requested == dt.date(2022, 12, 20) and row.due == dt.date(2022, 12, 9)
    assert web.events("7:finance:2022")[-1].action == "request-extension"
    reviewer = web.signed_in("reviewer@gov.kz")
    status, _, queue = reviewer.get("/review")
    assert status == 200 and "7:finance:2022" in queue and "хат № 5, 5 желтоқсан" in queue
    page = reviewer.get("/occurrences/7:finance:2022")[2]
    assert 'id="do-refuse-extension"' in page and 'value="2022-12-20"' in page
    status, _, _ = reviewer.post_form("/occurrences/7:finance:2022/act", {
        "csrf": field(page, "csrf", "do-extend"), "version": field(page, "version", "do-extend"),
        "action": "extend", "until": "2022-12-20", "reason": "хат № 5"})
    assert status == 303
    row = web.row("7:finance:2022")
    assert row.due == dt.date(2022, 12, 20) and row.extension_requested is None
    event = web.events("7:finance:2022")[-1]
    assert (event.actor, event.action, event.client) == ("reviewer@gov.kz", "extend", "127.0.0.1")


def test_the_secretariat_reviews_answers_and_every_decision_is_an_event(site):
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    users.add(web.service.engine, "observer@gov.kz", "observer", NOW)
    aigul = web.signed_in("aigul@minfin.example.kz")
    page = aigul.get("/my")[2]
    assert aigul.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", "7:finance:2022"),
                                     ("ref", "12-3/45"), ("text", "ақпарат")])[0] == 303
    reviewer = web.signed_in("reviewer@gov.kz")
    status, headers, _ = reviewer.get(web.link("reviewer@gov.kz"))
    assert headers["location"] == "/review", "staff who are no contact land on the queue"
    queue = reviewer.get("/review")[2]
    assert 'href="/occurrences/7:finance:2022"' in queue.split('id="new-answers"')[1].split("</ul>")[0]

    def decide(client, action, version=None, **extra):
        page = client.get("/occurrences/7:finance:2022")[2]
        form = f"do-{action}"
        fields = {"csrf": field(page, "csrf", form), "version": version or field(page, "version", form),
                  "action": action, **extra}
        return client.post_form("/occurrences/7:finance:2022/act", fields)

    assert decide(reviewer, "return")[0] == 400, "a reason is needed"
    assert decide(reviewer, "return", reason="the table is missing")[0] == 303
    assert web.row("7:finance:2022").state == "returned" and web.row("7:finance:2022").next_step_at is not None
    page = aigul.get("/my")[2]
    assert "the table is missing" in page and 'value="7:finance:2022"' in page
    assert aigul.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", "7:finance:2022"),
                                     ("text", "кесте қосылды")], [("files", "table.pdf", PDF)])[0] == 303
    stale = field(reviewer.get("/occurrences/7:finance:2022")[2], "version", "do-accept")
    assert decide(reviewer, "accept")[0] == 303
    status, _, body = decide(reviewer, "close", version=stale, reason="x")
    assert status == 409 and "Бет ескірді: осы уақытта мерзімді басқа біреу өзгертті." in body
    assert web.row("7:finance:2022").state == "accepted"
    # observers and focal points see the page, never the buttons, and cannot post a decision
    observer = web.signed_in("observer@gov.kz")
    page = observer.get("/occurrences/7:finance:2022")[2]
    assert 'id="decisions"' not in page and "кесте қосылды" in page
    status, _, _ = observer.post_form("/occurrences/7:finance:2022/act", {
        "csrf": field(page, "csrf", "answer-form") if 'id="answer-form"' in page else "", "action": "reopen",
        "reason": "x"})
    assert status == 403
    assert 'id="decisions"' not in aigul.get("/occurrences/7:finance:2022")[2]
    assert decide(reviewer, "reopen", reason="accepted by mistake")[0] == 303
    assert decide(reviewer, "close", reason="not applicable")[0] == 303
    # the admin's Basic credential acts too
    admin = web.client(CREDENTIAL)
    assert decide(admin, "reopen", reason="closed by mistake")[0] == 303
    actions = [(e.actor, e.action, e.to_state) for e in web.events("7:finance:2022")]
    assert actions == [
        ("aigul@minfin.example.kz", "submit", "submitted"), ("reviewer@gov.kz", "return", "returned"),
        ("aigul@minfin.example.kz", "submit", "submitted"), ("reviewer@gov.kz", "accept", "accepted"),
        ("reviewer@gov.kz", "reopen", "submitted"), ("reviewer@gov.kz", "close", "closed"),
        ("admin", "reopen", "submitted")]
    history = admin.get("/occurrences/7:finance:2022")[2].split('id="events"')[1]
    assert history.count("<tr data-action") == 7 and "the table is missing" in history and "table.pdf" in history
