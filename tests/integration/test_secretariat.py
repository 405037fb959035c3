"""The secretariat's remaining tools over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL:
an answer received on paper entered with its date, a whole history closed in one step from the
queue, the consolidated report downloaded from the pages, refusals in the reader's language, and
observers who read everything and change nothing."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

from sqlmodel import select

from scheduler.app import users
from scheduler.store.db import session
from scheduler.store.ledger import aware
from scheduler.store.tables import EventRow, OccurrenceRow, SubmissionRow
from tests.integration.queries import due_between
from tests.integration.test_personal_links import CREDENTIAL, NOW, PDF, site  # noqa: F401 - the fixture
from tests.integration.web_client import field

ALMATY = dt.timezone(dt.timedelta(hours=6))
PAPER = "7:finance:2021"  # due 2021-12-10: a year behind when the secretariat starts on 2022-12-09
FINANCE_2021 = {"2:finance:2021-07-01", "17:finance:2021", "23:finance:2021", "6:finance:2021", "7:finance:2021",
                "8.4:finance:2021"}


def staff(web, email="reviewer@gov.kz", role="reviewer"):
    users.add(web.service.engine, email, role, NOW)
    return web.signed_in(email)


def paper_fields(page, **given):
    fields = {"csrf": field(page, "csrf", "paper-form"), "received": "2022-01-15", "ref": "12-3/45",
              "ref_date": "2022-01-14", "text": "2021 жылы 9 іс-шара өткізілді"}
    return [(k, v) for k, v in {**fields, **given}.items() if v is not None]


def submissions(web, oid):
    with session(web.service.engine) as db:
        return list(db.exec(select(SubmissionRow).where(SubmissionRow.occurrence_id == oid)))


def test_an_answer_received_on_paper_is_recorded_with_the_day_it_came(site):  # noqa: F811
    web = site()
    reviewer = staff(web)
    page = reviewer.get(f"/occurrences/{PAPER}")[2]
    assert 'id="paper-form"' in page and 'name="received"' in page and 'min="2021-02-24"' in page
    assert 'action="/my/answer"' not in page, "the secretariat records on paper, with the day it came"
    status, headers, _ = reviewer.post(f"/occurrences/{PAPER}/answer", paper_fields(page),
                                       [("files", "Хат 12-3-45.pdf", PDF)])
    assert status == 303 and headers["location"] == f"/occurrences/{PAPER}?done=answer"
    row = web.row(PAPER)
    assert row.state == "submitted" and row.next_step_at is None
    [stored] = submissions(web, PAPER)
    assert aware(stored.submitted_at).astimezone(ALMATY) == dt.datetime(2022, 1, 15, tzinfo=ALMATY)
    assert (stored.ref, stored.ref_date, stored.by) == ("12-3/45", dt.date(2022, 1, 14), "reviewer@gov.kz")
    [event] = web.events(PAPER)
    details = json.loads(event.details)
    assert (event.action, event.actor, event.from_state, event.to_state, event.client) == (
        "submit", "reviewer@gov.kz", "open", "submitted", "127.0.0.1")
    assert details["submitted_at"] == "2022-01-15T00:00:00+06:00" and details["files"][0]["name"] == "Хат 12-3-45.pdf"
    page = reviewer.get(f"/occurrences/{PAPER}?done=answer")[2]
    assert 'id="done"' in page and "2022 жылғы 15 қаңтар, 00:00" in page and 'id="paper-form"' not in page
    assert 'id="do-accept"' in page, "now the secretariat decides on it as on any answer"
    # the day it came is today: recorded as of now; the admin's Basic credential may do it too
    admin = web.client(CREDENTIAL)
    page = admin.get("/occurrences/17:finance:2021")[2]
    status, _, _ = admin.post("/occurrences/17:finance:2021/answer",
                              paper_fields(page, received="2022-12-09", ref_date=None, ref=None))
    assert status == 303
    assert aware(submissions(web, "17:finance:2021")[0].submitted_at) == NOW
    assert web.events("17:finance:2021")[0].actor == "admin"


def test_a_day_received_in_the_future_or_before_the_plan_is_refused_on_the_page(site):  # noqa: F811
    web = site()
    reviewer = staff(web)
    page = reviewer.get(f"/occurrences/{PAPER}")[2]
    cases = [("2022-12-10", "kk", "Келіп түскен күн болашақта болмайды."),
             ("2021-02-23", "kk", "Келіп түскен күн жоспар қабылданған күннен (2021 жылғы 24 ақпан) ерте болмайды."),
             ("2022-12-10", "ru", "Дата поступления не может быть в будущем."),
             ("2021-01-05", "ru", "Дата поступления не может быть раньше утверждения плана (24 февраля 2021 г.)."),
             ("", "ru", "Укажите дату поступления письма."),
             ("15.01.2022", "kk", "Күн дұрыс емес.")]
    for received, lang, message in cases:
        reviewer.cookies["lang"] = lang
        status, _, shown = reviewer.post(f"/occurrences/{PAPER}/answer", paper_fields(page, received=received),
                                         [("files", "Хат.pdf", PDF)])
        assert status == 400, (received, status)
        assert f'<html lang="{lang}">' in shown and message in shown, (received, lang)
        assert 'id="problem"' in shown and "2021 жылы 9 іс-шара өткізілді" in shown, "what she typed is kept"
    # the letter dated after the day it came
    reviewer.cookies["lang"] = "ru"
    status, _, shown = reviewer.post(f"/occurrences/{PAPER}/answer", paper_fields(page, ref_date="2022-01-20"))
    assert status == 400 and "Дата исходящего письма не может быть позже даты его поступления." in shown
    assert web.row(PAPER).state == "open" and not web.events(PAPER) and not submissions(web, PAPER)
    with session(web.service.engine) as db:
        assert not db.exec(select(EventRow)).all(), "nothing stored"


def test_closing_an_agencys_2021_history_from_the_queue(site):  # noqa: F811
    web = site()
    reviewer = staff(web)
    # one of them was answered already: it stays as it is
    page = reviewer.get(f"/occurrences/{PAPER}")[2]
    assert reviewer.post(f"/occurrences/{PAPER}/answer", paper_fields(page))[0] == 303
    queue = reviewer.get("/review")[2]
    assert 'id="close-form"' in queue and '<option value="finance">' in queue
    token = field(queue, "csrf", "close-form")
    selection = {"csrf": token, "agency": "finance", "year": "2021", "before": "", "reason": "before the secretariat started"}
    # a selection that is not one: refused on the page, nothing changes
    for bad, message in (({"agency": "nope"}, "Мұндай орган жоспарда жоқ."), ({"agency": "", "year": ""}, "Органды, жылды немесе күнді таңдаңыз."),
                         ({"year": "twenty"}, "Жыл дұрыс емес."), ({"reason": ""}, "Себебін көрсетіңіз.")):
        status, _, shown = reviewer.post_form("/review/close", {**selection, **bad})
        assert status == 400 and message in shown, bad
    status, _, shown = reviewer.post_form("/review/close", selection)
    owed = sorted(FINANCE_2021 - {PAPER})
    assert status == 200 and "Бақылаудан алынатын мерзімдер саны: 5." in shown and 'id="confirm-close-form"' in shown
    assert all(web.row(oid).state == "open" for oid in owed), "counting closes nothing"
    assert all(web.row(oid).next_step_at is not None for oid in owed), "their ladders are planned"
    confirm = {**selection, "confirm": "yes", "count": field(shown, "count", "confirm-close-form")}
    assert confirm["count"] == "5"
    status, _, stale = reviewer.post_form("/review/close", {**confirm, "count": "4"})
    assert status == 409 and "қазір 5 мерзім" in stale and all(web.row(oid).state == "open" for oid in owed)
    status, headers, _ = reviewer.post_form("/review/close", confirm)
    assert status == 303 and headers["location"] == "/review?closed=5"
    assert "Бақылаудан алынды: 5" in reviewer.get(headers["location"])[2]
    for oid in owed:
        row = web.row(oid)
        assert (row.state, row.next_step_at) == ("closed", None), oid
        [event] = web.events(oid)
        assert (event.action, event.actor, event.from_state, event.to_state, event.client) == (
            "close", "reviewer@gov.kz", "open", "closed", "127.0.0.1")
        assert json.loads(event.details) == {"reason": "before the secretariat started"}
    assert web.row(PAPER).state == "submitted" and len(web.events(PAPER)) == 1
    assert web.row("7:finance:2022").state == "open" and web.row("7:mvd:2021").state == "open", "nothing else"
    history = reviewer.get("/occurrences/6:finance:2021")[2].split('id="events"')[1]
    assert 'data-action="close"' in history and "before the secretariat started" in history
    # the same again finds nothing left to close
    status, _, shown = reviewer.post_form("/review/close", selection)
    assert status == 200 and "Таңдауға сәйкес жауап күтілетін мерзім жоқ." in shown and 'id="confirm-close-form"' not in shown


def test_the_consolidated_report_downloads_from_the_pages(site):  # noqa: F811
    from docx import Document
    from openpyxl import load_workbook

    web = site()
    reviewer = staff(web)
    page = reviewer.get(f"/occurrences/{PAPER}")[2]
    assert reviewer.post(f"/occurrences/{PAPER}/answer", paper_fields(page))[0] == 303
    queue = reviewer.get("/review")[2]
    for lang in ("kk", "ru"):
        for fmt in ("docx", "xlsx"):
            assert f'href="/reports/consolidated?year=2021&amp;lang={lang}&amp;format={fmt}"' in queue
    assert 'id="report-form"' in queue and '<option value="all">' in queue

    status, headers, body = reviewer.call("/reports/consolidated?year=2021&lang=ru&format=docx")
    assert status == 200 and headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert headers["content-disposition"] == 'attachment; filename="consolidated-2021-ru.docx"'
    cells = [cell.text for table in Document(io.BytesIO(body)).tables for row in table.rows for cell in row.cells]
    assert any("№ 12-3/45" in c and "2021 жылы 9 іс-шара өткізілді" in c and "15 января 2022" in c for c in cells), cells[:40]

    status, headers, body = web.client(CREDENTIAL).call("/reports/consolidated?year=2021&lang=kk&format=xlsx")
    assert status == 200 and headers["content-disposition"] == 'attachment; filename="consolidated-2021-kk.xlsx"'
    sheet = load_workbook(io.BytesIO(body)).active
    [row] = [r for r in sheet.iter_rows(values_only=True) if "2021 жылы 9 іс-шара өткізілді" in r]
    assert dt.datetime(2022, 1, 15) in row and any("12-3/45" in str(v) for v in row), row

    status, headers, body = reviewer.call("/reports/consolidated?year=all&lang=kk&format=xlsx")
    assert status == 200 and headers["content-disposition"] == 'attachment; filename="consolidated-all-kk.xlsx"'
    assert load_workbook(io.BytesIO(body)).active.max_row > 100
    for query in ("year=1990&lang=kk&format=docx", "year=2021&lang=xx&format=docx", "year=2021&lang=kk&format=pdf",
                  "lang=kk&format=docx", "year=20x1&lang=kk&format=docx"):
        status, _, shown = reviewer.get(f"/reports/consolidated?{query}")
        assert status == 404 and "Мұндай есеп жоқ." in shown, query
    # a focal point is no member of the secretariat
    aigul = web.signed_in("aigul@minfin.example.kz")
    status, _, shown = aigul.get("/reports/consolidated?year=2021&lang=kk&format=docx")
    assert status == 403 and "Бұл бет тек хатшылыққа арналған." in shown and "PK" not in shown
    assert web.client().get("/reports/consolidated?year=2021&lang=kk&format=docx")[0] == 303, "to the sign-in page"


def test_an_observer_reads_everything_and_changes_nothing(site):  # noqa: F811
    web = site()
    users.add(web.service.engine, "observer@gov.kz", "observer", NOW)
    observer = web.client()
    status, headers, _ = observer.get(web.link("observer@gov.kz"))
    assert status == 303 and headers["location"] == "/review"
    status, _, queue = observer.get("/review")
    assert status == 200 and 'id="report-form"' in queue
    assert 'id="close-form"' not in queue and 'method="post"' not in queue.split("</nav>", 1)[1], "no form that changes anything"
    status, headers, body = observer.call("/reports/consolidated?year=2022&lang=kk&format=docx")
    assert status == 200 and body[:2] == b"PK"
    status, _, page = observer.get(f"/occurrences/{PAPER}")
    assert status == 200 and PAPER in page and 'id="events"' in page
    assert 'id="decisions"' not in page and 'id="paper-form"' not in page and 'id="answer-form"' not in page
    assert "<button" not in page.split("</nav>", 1)[1], "no buttons on the page"
    for path, fields in ((f"/occurrences/{PAPER}/act", {"action": "close", "reason": "x"}),
                         ("/review/close", {"agency": "finance", "year": "2021", "reason": "x", "confirm": "yes"})):
        for lang, words in (("kk", "Шешімді тек хатшылықтың қараушылары мен әкімшілері қабылдайды."),
                            ("ru", "Решения принимают только рецензенты и администраторы секретариата.")):
            observer.cookies["lang"] = lang
            status, _, shown = observer.post_form(path, {"csrf": "0" * 64, **fields})
            assert status == 403 and words in shown and f'<html lang="{lang}">' in shown, (path, lang)
    observer.cookies["lang"] = "kk"
    status, _, shown = observer.post(f"/occurrences/{PAPER}/answer", [("csrf", "x"), ("received", "2022-01-15"), ("text", "x")])
    assert status == 403 and "Шешімді тек" in shown
    assert web.row(PAPER).state == "open" and not web.events(PAPER)
    with session(web.service.engine) as db:
        assert all(r.state == "open" for r in db.exec(select(OccurrenceRow).where(OccurrenceRow.agency == "finance")))


def test_refusals_speak_the_readers_language(site):  # noqa: F811
    web = site()
    aigul = web.signed_in("aigul@minfin.example.kz")  # her contacts' language: kk
    ivanov = web.signed_in("ivanov@minfin.example.kz")  # ru
    for who, lang, words in ((aigul, "kk", "Бұл бет тек хатшылыққа арналған."), (ivanov, "ru", "Эта страница только для секретариата.")):
        status, _, shown = who.get("/review")
        assert status == 403 and f'<html lang="{lang}">' in shown and words in shown and "for the secretariat" not in shown
    for who, lang, words in ((aigul, "kk", "Мұндай іс-шара табылмады."), (ivanov, "ru", "Такого мероприятия нет.")):
        status, _, shown = who.get("/occurrences/7:mvd:2022")
        assert status == 404 and words in shown and "no such occurrence" not in shown
        status, _, shown = who.get("/files/999")
        assert status == 404 and {"kk": "Мұндай құжат табылмады.", "ru": "Такого документа нет."}[lang] in shown
    page = aigul.get("/my")[2]
    status, _, shown = aigul.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", "7:mvd:2022"),
                                                 ("text", "x")])
    assert status == 404 and "Мұндай іс-шара табылмады." in shown
    status, _, shown = ivanov.post("/my/answer", [("csrf", field(ivanov.get("/my")[2], "csrf", "answer-form")),
                                                  ("occurrence", "7:finance:2022"), ("text", "x")])
    assert status == 403 and "Вы не можете отвечать за этот орган." in shown

    reviewer = staff(web)
    oid = "7:finance:2022"

    def decide(lang, **fields):
        reviewer.cookies["lang"] = lang
        page = reviewer.get(f"/occurrences/{oid}")[2]
        form = {"csrf": field(page, "csrf", "do-close"), "version": field(page, "version", "do-close"), **fields}
        return reviewer.post_form(f"/occurrences/{oid}/act", form)

    for lang, words in (("kk", "Мұндай әрекет жоқ."), ("ru", "Такого действия нет.")):
        status, _, shown = decide(lang, action="delete")
        assert status == 400 and words in shown and f'href="/occurrences/{oid}"' in shown
    for lang, words, reason in (("kk", "Ештеңе тіркелмеді", "Себебін көрсетіңіз."), ("ru", "Ничего не записано", "Укажите причину.")):
        status, _, shown = decide(lang, action="close")
        assert status == 400 and words in shown and reason in shown, "the reason is shown"
        assert "a reason is needed" not in shown and oid not in shown.split("<main")[1].replace(f'href="/occurrences/{oid}"', "")
    for lang, words in (("kk", "Бет ескірді: осы уақытта мерзімді басқа біреу өзгертті."),
                        ("ru", "Страница устарела: за это время срок изменил кто-то другой.")):
        status, _, shown = decide(lang, action="close", reason="x", version="7")
        assert status == 409 and words in shown and f'href="/occurrences/{oid}"' in shown
    assert web.row(oid).state == "open" and not web.events(oid)
    status, _, shown = decide("ru", action="close", reason="не применимо")
    assert status == 303 and web.row(oid).state == "closed"


def test_the_dashboard_links_every_occurrence_it_lists_to_its_page(site):  # noqa: F811
    web = site()
    status, _, month = web.client(CREDENTIAL).get("/?month=2022-12")
    assert status == 200 and "day=2022-12-09" in month  # the calendar's day opens its whole list
    pages, address = [], "/?day=2022-12-09"
    while address:  # the day's list comes a page at a time (web/dashboard/view.py: DAY_PAGE_SIZE)
        status, _, page = web.client(CREDENTIAL).get(address)
        assert status == 200
        pages.append(page)
        following = re.search(r'href="(/\?[^"]+)#list" rel="next"', page)
        address = following.group(1).replace("&amp;", "&") if following else None
    ninth = due_between(web.service, dt.date(2022, 12, 9), dt.date(2022, 12, 9))[dt.date(2022, 12, 9)]
    assert len(ninth) > 3 and len(pages) > 1
    for oid, _, _ in ninth:
        assert any(f'href="/occurrences/{oid}?lang=kk"' in page for page in pages), oid
