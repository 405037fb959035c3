"""Edge inputs over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL: dates at the ends of
the calendar, numbers past the id column, NUL in paths, query strings and forms, extensions to
9999-12-31, documents over the limit, and an unexpected error. Each ends as a page in the reader's
language with a 4xx status (500 for the error), the security headers on it, and nothing stored
changed; with an https base URL every answer carries HSTS."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import uvicorn
from sqlmodel import func, select

from scheduler.answers.files import TooLarge, check_upload
from scheduler.app import users
from scheduler.app.links import personal_link
from scheduler.store.db import session
from scheduler.store.tables import EventRow, FileRow, OccurrenceRow, SubmissionRow
from scheduler.web.app import create_app
from tests.integration.web_client import Client, field
from tests.smtp import free_port

NOW = dt.datetime(2022, 12, 9, 3, 0, tzinfo=dt.timezone.utc)  # 09:00 in Almaty: 7:finance:2022 is due
CREDENTIAL = ("admin", "correct horse")
OID = "7:finance:2022"
AIGUL = "aigul@minfin.example.kz"  # finance's focal point, Kazakh in the contacts
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Each language's words for the refusals (the web catalog's translations of web/words.py).
NUL_WORDS = {"kk": "сақтауға болмайтын таңба", "ru": "символ, который нельзя сохранить",
             "en": "a character that cannot be kept"}
NO_DOCUMENT = {"kk": "Мұндай құжат табылмады.", "ru": "Такого документа нет.", "en": "No such document."}
OUT_OF_DASHBOARD = {"kk": "тақта көрсететін күндерден тыс", "ru": "вне дат, которые показывает панель",
                    "en": "is outside the dates the dashboard shows"}
DATE_RANGE = {"kk": "аралығында болуы керек", "ru": "дата должна лежать в пределах", "en": "the date must lie between"}


def assert_guarded(headers: dict, status: int | None = None) -> None:
    """The headers every answer carries (web/security.py)."""
    assert "default-src 'self'" in headers.get("content-security-policy", ""), headers
    assert headers.get("x-frame-options") == "DENY"
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") in ("no-referrer", "same-origin")
    assert headers.get("cache-control") == "no-store"


def assert_page(status: int, headers: dict, body: str, expected: int, lang: str, words: str) -> None:
    assert status == expected, (status, body[:500])
    assert headers["content-type"].startswith("text/html"), headers
    assert f'<html lang="{lang}">' in body and words in body, body[:2000]
    assert "Traceback" not in body
    assert_guarded(headers)


class Site:
    def __init__(self, service, base):
        self.service, self.base = service, base

    def client(self, auth=None, lang=None) -> Client:
        client = Client(self.base, auth)
        if lang:
            client.cookies["lang"] = lang  # the reader's language, as the pages' switch remembers it
        return client

    def signed_in(self, email, lang=None) -> Client:
        client = self.client(lang=lang)
        with session(self.service.engine) as db:
            link = personal_link(self.service, db, email, NOW)[0]
        assert client.get(link)[0] == 303
        return client

    def stored(self) -> tuple:
        """Everything the requests here could change: the occurrences' rows, events, answers, files."""
        with session(self.service.engine) as db:
            rows = tuple((r.id, r.state, r.due, r.extended_until, r.extension_requested, r.version)
                         for r in db.exec(select(OccurrenceRow).order_by(OccurrenceRow.id)))
            counts = tuple(db.exec(select(func.count()).select_from(t)).one() for t in (EventRow, SubmissionRow, FileRow))
        return rows, counts


@pytest.fixture
def site(make_service, database_url):
    servers = []

    def start(base_url: str | None = None, current=None, **settings) -> Site:
        port = free_port()
        service = make_service(database_url)
        service.settings = service.settings.model_copy(update={"base_url": base_url or f"http://127.0.0.1:{port}",
                                                               **settings})
        app = create_app(current or (lambda: service), lambda: NOW, CREDENTIAL)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                               access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        servers.append((server, thread))
        return Site(service, f"http://127.0.0.1:{port}")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


# --- dates at the ends of the calendar on the dashboard ------------------------------------------


@pytest.mark.parametrize("query", ["day=9999-12-31", "day=0001-01-01", "month=9999-12", "month=0001-01",
                                   "year=9999", "year=0000"])
def test_a_dashboard_period_past_the_calendars_ends_is_refused_in_the_readers_language(site, query):
    web = site()
    before = web.stored()
    for lang, client in (("kk", web.client(CREDENTIAL)), ("ru", web.client(CREDENTIAL, lang="ru"))):
        status, headers, body = client.get(f"/?{query}")
        assert_page(status, headers, body, 400, lang, OUT_OF_DASHBOARD[lang])
        assert query.partition("=")[2] in body, "the value refused is named"
    status, headers, body = web.client(CREDENTIAL).get(f"/?{query}&lang=en")
    assert_page(status, headers, body, 400, "en", "that filter was left out")
    # the ends of what is taken are still shown
    assert web.client(CREDENTIAL).get("/?day=2200-12-31&lang=en")[0] == 200
    assert web.client(CREDENTIAL).get("/?month=1900-01&lang=en")[0] == 200
    assert web.stored() == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_a_page_number_in_other_digits_is_the_first_page(site):
    web = site()
    status, headers, _ = web.client(CREDENTIAL).get("/?page=%C2%B2")  # '²': str.isdigit() says yes, int() says no
    assert status == 200
    assert_guarded(headers)


# --- numbers past the id column, NUL in paths, query strings and forms ----------------------------


def test_a_document_number_past_the_id_column_is_no_document(site):
    web = site()
    aigul = web.signed_in(AIGUL)
    for lang, client in (("kk", aigul), ("ru", web.client(CREDENTIAL, lang="ru")), ("en", web.client(CREDENTIAL, lang="en"))):
        # 2**31: one past PostgreSQL's integer; '²' and '1_0' are taken by int() but are no ids
        for number in ("99999999999999999999", "2147483648", "%C2%B2", "1_0", "-1", "0"):
            status, headers, body = client.get(f"/files/{number}")
            assert_page(status, headers, body, 404, lang, NO_DOCUMENT[lang])


def test_nul_in_a_path_or_a_query_string_is_refused_before_any_handler(site):
    web = site()
    before = web.stored()
    admin = web.client(CREDENTIAL, lang="ru")
    for path in ("/occurrences/7%00:finance:2022", "/occurrences/7:finance:2022%00/act", "/agencies/fin%00ance",
                 "/feeds/%00.ics", "/l/ab%00c", "/files/1%00", "/?q=a%00b", "/?agency=%00",
                 "/my?owed=%00", "/reports/consolidated?year=2022&plan=%00", "/occurrences/7:finance:2022?x=%00"):
        status, headers, body = admin.get(path)
        assert_page(status, headers, body, 400, "ru", NUL_WORDS["ru"])
    status, headers, body = web.client().get("/occurrences/7%00:finance:2022?lang=en")
    assert_page(status, headers, body, 400, "en", NUL_WORDS["en"])
    assert web.stored() == before


def test_nul_in_a_forms_field_is_refused_and_nothing_is_recorded(site):
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    before = web.stored()
    aigul = web.signed_in(AIGUL)  # Kazakh: her page, and the refusal, in Kazakh
    page = aigul.get("/my")[2]
    token = field(page, "csrf", "answer-form")
    answers = [
        [("csrf", token), ("occurrence", OID), ("text", "ақпарат\x00жіберілді")],  # the answer's text
        [("csrf", token), ("occurrence", OID + "\x00"), ("text", "ақпарат")],  # the occurrence's id
        [("csrf", token), ("occurrence", OID), ("ref", "12-3/45\x00")],
    ]
    for fields in answers:
        status, headers, body = aigul.post("/my/answer", fields, [("files", "Хат.pdf", PDF)])
        assert_page(status, headers, body, 400, "kk", NUL_WORDS["kk"])
    status, headers, body = aigul.post("/my/extension", [("csrf_extension", field(page, "csrf_extension")),
                                                         ("occurrence", OID), ("until", "2022-12-30"),
                                                         ("reason", "кесте\x00")])
    assert_page(status, headers, body, 400, "kk", NUL_WORDS["kk"])
    # a urlencoded form: the reviewer's decision, and the dashboard's note
    reviewer = web.signed_in("reviewer@gov.kz", lang="en")
    page = reviewer.get(f"/occurrences/{OID}")[2]
    status, headers, body = reviewer.post_form(f"/occurrences/{OID}/act", {
        "csrf": field(page, "csrf", "do-extend"), "version": field(page, "version", "do-extend"), "action": "extend",
        "until": "2022-12-30", "reason": "the table\x00is missing"})
    assert_page(status, headers, body, 400, "en", NUL_WORDS["en"])
    admin = web.client(CREDENTIAL, lang="ru")
    page = admin.get(f"/occurrences/{OID}")[2]
    token = page.split('/submit">')[1].split('name="csrf" value="')[1].split('"')[0]
    status, headers, body = admin.post_form(f"/occurrences/{OID}/submit", {"csrf": token, "note": "No.\x0012"})
    assert_page(status, headers, body, 400, "ru", NUL_WORDS["ru"])
    assert web.stored() == before
    # the same forms without the NUL are recorded
    page = aigul.get("/my")[2]
    assert aigul.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", OID),
                                     ("text", "ақпарат жіберілді")], [("files", "Хат.pdf", PDF)])[0] == 303


# --- extensions: within the plan's span plus some years ----------------------------------------------


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01", "2100-01-01", "2020-12-31"])
def test_an_extension_beyond_the_plans_span_is_refused_in_the_readers_language(site, until):
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    before = web.stored()
    for lang in ("kk", "ru", "en"):
        reviewer = web.signed_in("reviewer@gov.kz", lang=lang)
        page = reviewer.get(f"/occurrences/{OID}")[2]
        status, headers, body = reviewer.post_form(f"/occurrences/{OID}/act", {
            "csrf": field(page, "csrf", "do-extend"), "version": field(page, "version", "do-extend"),
            "action": "extend", "until": until, "reason": "the data came late"})
        assert_page(status, headers, body, 400, lang, DATE_RANGE[lang])
        assert until in body
    # the focal point asking for it is refused the same way
    aigul = web.signed_in(AIGUL)
    page = aigul.get("/my")[2]
    status, headers, body = aigul.post("/my/extension", [("csrf_extension", field(page, "csrf_extension")),
                                                         ("occurrence", OID), ("until", until), ("reason", "кеш")])
    assert_page(status, headers, body, 400, "kk", DATE_RANGE["kk"])
    assert until in body and "2028 жылғы 31 желтоқсан" in body, "the last day an extension may name, said in Kazakh"
    assert web.stored() == before
    # the last day of the span is granted
    reviewer = web.signed_in("reviewer@gov.kz")
    page = reviewer.get(f"/occurrences/{OID}")[2]
    assert reviewer.post_form(f"/occurrences/{OID}/act", {
        "csrf": field(page, "csrf", "do-extend"), "version": field(page, "version", "do-extend"),
        "action": "extend", "until": "2028-12-31", "reason": "the data came late"})[0] == 303


def test_closing_a_history_before_a_day_past_the_calendars_ends_is_refused(site):
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    before = web.stored()
    reviewer = web.signed_in("reviewer@gov.kz", lang="ru")
    token = field(reviewer.get("/review")[2], "csrf", "close-form")
    for day in ("9999-12-31", "0001-01-01"):
        status, headers, body = reviewer.post_form("/review/close", {"csrf": token, "before": day, "reason": "старое"})
        assert_page(status, headers, body, 400, "ru", DATE_RANGE["ru"])
    status, headers, _ = reviewer.get("/review?closed=%C2%B2")
    assert status == 200
    assert web.stored() == before


# --- a document over the limit: both sizes exactly, in each language -----------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_a_document_over_the_limit_is_refused_with_both_sizes_exact(site):
    web = site(max_upload_mb=1)
    before = web.stored()
    over = PDF + b"0" * ((1 << 20) + 1 - len(PDF))  # one byte over: "1.0 MB" as the limit is "1 MB"
    said = {"kk": "1,0 МБ (1\xa0048\xa0577 байт) шектен асады, шек — 1 МБ (1\xa0048\xa0576 байт)",
            "ru": "1,0 МБ (1\xa0048\xa0577 байт) — больше допустимого, 1 МБ (1\xa0048\xa0576 байт)",
            "en": "1.0 MB (1,048,577 bytes) is more than the limit, 1 MB (1,048,576 bytes)"}
    for lang in ("kk", "ru", "en"):
        aigul = web.signed_in(AIGUL, lang=lang)
        page = aigul.get("/my")[2]
        status, headers, body = aigul.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")),
                                                          ("occurrence", OID), ("ref", "12-3/45")],
                                           [("files", "Хат.pdf", over)])
        assert_page(status, headers, body, 400, lang, said[lang])
    assert web.stored() == before


def test_the_size_refusal_states_both_sizes():
    with pytest.raises(TooLarge) as refused:
        check_upload("Хат.pdf", PDF + b"0" * (20 << 20), 20 << 20, size=21 << 20)
    assert str(refused.value) == ("Хат.pdf: 21.0 MB (22 020 096 bytes) is more than the limit, 20 MB (20 971 520 bytes), "
                                  "set by SCHEDULER_MAX_UPLOAD_MB")
    assert (refused.value.size, refused.value.limit) == (21 << 20, 20 << 20)


# --- an unexpected error: the 500 page, its headers, no traceback ---------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_an_unexpected_error_answers_500_with_the_headers_and_no_traceback(site, monkeypatch):
    web = site()

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/scheduler/var/db password=hunter2")

    monkeypatch.setattr("scheduler.feeds.serve.feed", broken)
    for lang, client in (("kk", web.client()), ("ru", web.client(lang="ru")), ("en", web.client(lang="en"))):
        status, headers, body = client.get("/feeds/" + "A" * 32 + ".ics")
        assert_page(status, headers, body, 500, lang,
                    {"kk": "Біз жақта қате орын алды", "ru": "На нашей стороне произошла ошибка",
                     "en": "Something went wrong on our side"}[lang])
        assert "secret internals" not in body and "RuntimeError" not in body and "hunter2" not in body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_when_even_the_error_page_fails_the_plain_500_carries_the_headers(site):
    def no_service():
        raise RuntimeError("no service")

    web = site(current=no_service)
    status, headers, body = web.client().get("/healthz")
    assert status == 500 and body.strip() == "Internal Server Error"
    assert_guarded(headers)


# --- HSTS -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database plays no part
def test_behind_https_every_answer_carries_hsts_and_over_http_none(site, monkeypatch):
    https = site(base_url="https://plan.example.kz")
    http = site()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("scheduler.feeds.serve.feed", broken)
    # A year, and neither includeSubDomains nor preload: other sites may live under the ministry's domain.
    for web, expected in ((https, "max-age=31536000"), (http, None)):
        client = web.client(CREDENTIAL)
        answers = [client.get("/"), client.get("/healthz"), client.get("/nothing-here"), web.client().get("/"),
                   client.get("/?day=9999-12-31"), client.get("/files/1%00"), client.get(f"/feeds/{'A' * 32}.ics")]
        assert [a[0] for a in answers] == [200, 200, 404, 303, 400, 400, 500]
        for status, headers, _ in answers:
            assert headers.get("strict-transport-security") == expected, (status, headers)
