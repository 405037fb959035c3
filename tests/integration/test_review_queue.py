"""The reviewer's day over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL: answers accepted
from the queue, one or several at once, after a confirmation (one stale item named, the others
accepted, each an `accept` event with its notice); every decision followed by a page saying what
happened; a paper backlog of one body entered in one form for several deadlines (a bad item named
and nothing stored); an extension shown as the plan's date and the date in force; people by name."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from scheduler.answers import Actor
from scheduler.app import answer, users
from scheduler.store.db import session
from scheduler.store.ledger import aware
from scheduler.store.tables import EventRow, FileRow, NotificationRow, SubmissionRow
from tests.integration.test_personal_links import NOW, PDF, site  # noqa: F401 - the fixture
from tests.integration.web_client import field

AIGUL = "aigul@minfin.example.kz"
REVIEWER = "reviewer@gov.kz"
FINANCE_KK, FINANCE_RU = "Қазақстан Республикасы Қаржы министрлігі", "Министерство финансов Республики Казахстан"
ANSWERED = ["7:finance:2022", "6:finance:2022", "17:finance:2022", "23:finance:2022"]
ALMATY = dt.timezone(dt.timedelta(hours=6))


def submit(web, oid, by=AIGUL):
    answer.submit(web.service.engine, web.service.timing, oid, at=NOW, now=NOW, actor=Actor(by, "focal", frozenset({"finance"})),
                  ref="12-3/45", text="ақпарат")


def visible(page: str) -> str:
    """The text a reader sees: tags, attributes and the style block left out."""
    body = page.split("<body", 1)[1] if "<body" in page else page
    body = re.sub(r"<style.*?</style>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def picks(page: str) -> dict[str, str]:
    """{occurrence: the `pick` value of its checkbox} in the queue."""
    return {v.rpartition("|")[0]: v for v in re.findall(r'name="pick" value="([^"]+)"', page.split('id="confirm-accept"')[0])}


def accept_events(web, oid):
    return [e for e in web.events(oid) if e.action == "accept"]


def told(web, step):
    with session(web.service.engine) as db:
        return list(db.exec(select(NotificationRow).where(NotificationRow.step == step)))


def test_answers_are_accepted_from_the_queue_one_or_several_confirmed_and_a_stale_one_is_named(site):  # noqa: F811
    web = site()
    users.add(web.service.engine, REVIEWER, "reviewer", NOW)
    users.add(web.service.engine, "other@gov.kz", "reviewer", NOW)
    for oid in ANSWERED:
        submit(web, oid)
    reviewer = web.signed_in(REVIEWER)
    queue = reviewer.get("/review")[2]
    shown = picks(queue)
    assert sorted(shown) == sorted(ANSWERED) and 'id="accept-selected"' in queue and 'href="/"' in queue
    seen = visible(queue)
    assert "Айгүл Серікова" in seen and AIGUL not in seen, "people by name"
    for code in ANSWERED + ["finance"]:
        assert code not in seen, code
    token = field(queue, "csrf", "accept-form")

    # One click on an answer's own button, then the confirmation.
    status, _, confirm = reviewer.post_form("/review/accept", {"csrf": token, "one": shown["7:finance:2022"]})
    assert status == 200 and 'id="confirm-accept"' in confirm
    assert f"{FINANCE_KK} — № 7, 2022 жыл" in visible(confirm.split('id="confirm-accept"')[1].split("</form>")[0])
    assert web.row("7:finance:2022").state == "submitted", "asking is not deciding"
    confirmed = [("csrf", field(confirm, "csrf", "confirm-accept-form")), ("confirm", "yes")] + \
        [("pick", v) for v in re.findall(r'name="pick" value="([^"]+)"', confirm.split('id="confirm-accept-form"')[1].split("</form>")[0])]
    assert [v for k, v in confirmed if k == "pick"] == [shown["7:finance:2022"]]
    status, headers, _ = reviewer.post_form("/review/accept", confirmed)
    assert status == 303 and headers["location"].startswith("/review?accepted=7%3Afinance%3A2022")
    page = reviewer.get(headers["location"].split("#")[0])[2]
    assert f"Жауап қабылданды: {FINANCE_KK} — № 7, 2022 жыл." in visible(page)
    assert web.row("7:finance:2022").state == "accepted"
    [event] = accept_events(web, "7:finance:2022")
    assert (event.actor, event.from_state, event.to_state, event.client) == (REVIEWER, "submitted", "accepted", "127.0.0.1")

    # Several at once: one of them accepted by another reviewer meanwhile, one already accepted above.
    answer.act(web.service.engine, web.service.timing, "17:finance:2022", "accept", now=NOW,
               actor=Actor("other@gov.kz", "reviewer"))
    several = [("csrf", token), ("confirm", "yes")] + [("pick", shown[oid]) for oid in ANSWERED]
    reviewer.cookies["lang"] = "ru"
    status, headers, _ = reviewer.post_form("/review/accept", several)
    assert status == 303
    query = parse_qs(urlsplit(headers["location"]).query)
    assert query["accepted"] == ["6:finance:2022", "23:finance:2022"]
    assert query["refused"] == ["7:finance:2022|already_accepted|accepted", "17:finance:2022|already_accepted|accepted"]
    page = visible(reviewer.get(headers["location"].split("#")[0])[2])
    assert "2 ответа приняты; 2 не приняты: уже принят ранее." in page, page
    assert f"✕ {FINANCE_RU} — № 17, 2022 год: уже принят ранее" in page
    assert f"✓ {FINANCE_RU} — № 6, 2022 год" in page
    for oid in ("6:finance:2022", "23:finance:2022"):
        assert web.row(oid).state == "accepted"
        [event] = accept_events(web, oid)
        assert (event.actor, event.from_state, event.to_state) == (REVIEWER, "submitted", "accepted")
    assert [e.actor for e in accept_events(web, "17:finance:2022")] == ["other@gov.kz"], "nothing written for it again"
    assert len(accept_events(web, "7:finance:2022")) == 1
    # each acceptance is told to the focal point, as a single one is
    assert sorted(n.occurrence_id for n in told(web, "answer-accepted") if n.recipient == AIGUL) == sorted(ANSWERED)
    assert 'id="no-answers"' in reviewer.get("/review")[2]

    # A version the queue showed that someone changed meanwhile (returned, answered again): named.
    submit(web, "8.4:finance:2022")
    queue = reviewer.get("/review")[2]
    stale = picks(queue)["8.4:finance:2022"]
    answer.act(web.service.engine, web.service.timing, "8.4:finance:2022", "return", now=NOW,
               actor=Actor("other@gov.kz", "reviewer"), reason="кесте жоқ")
    submit(web, "8.4:finance:2022")
    status, headers, _ = reviewer.post_form("/review/accept", [("csrf", token), ("confirm", "yes"), ("pick", stale)])
    page = visible(reviewer.get(headers["location"].split("#")[0])[2])
    assert "0 ответов приняты" not in page and "1 не принят: тем временем изменён другим сотрудником; сейчас: представлено" in page
    assert web.row("8.4:finance:2022").state == "submitted" and not accept_events(web, "8.4:finance:2022")


def test_accepting_refuses_a_bad_form_and_anyone_who_does_not_decide(site):  # noqa: F811
    web = site()
    users.add(web.service.engine, REVIEWER, "reviewer", NOW)
    users.add(web.service.engine, "observer@gov.kz", "observer", NOW)
    submit(web, "7:finance:2022")
    reviewer = web.signed_in(REVIEWER)
    queue = reviewer.get("/review")[2]
    token = field(queue, "csrf", "accept-form")
    status, _, page = reviewer.post_form("/review/accept", {"csrf": token})
    assert status == 400 and "Кемінде бір іс-шараны белгілеңіз." in visible(page) and 'id="problem"' in page
    assert reviewer.post_form("/review/accept", {"csrf": "forged", "pick": "7:finance:2022|1", "confirm": "yes"})[0] == 403
    # an id that is no deadline is named, and does not stop the others
    status, headers, _ = reviewer.post_form("/review/accept", [("csrf", token), ("confirm", "yes"), ("pick", "99:finance:2022|1"),
                                                               ("pick", picks(queue)["7:finance:2022"])])
    assert status == 303
    page = visible(reviewer.get(headers["location"].split("#")[0])[2])
    assert "1 жауап қабылданды; 1 жауап қабылданбады: мұндай іс-шара табылмады." in page, page
    assert f"✕ {FINANCE_KK} — № 99, 2022 жыл: мұндай іс-шара табылмады" in page
    assert web.row("7:finance:2022").state == "accepted"
    answer.act(web.service.engine, web.service.timing, "7:finance:2022", "reopen", now=NOW, reason="қайта қарау")
    observer = web.signed_in("observer@gov.kz")
    page = observer.get("/review")[2]
    assert 'id="accept-form"' not in page and 'name="pick"' not in page
    assert observer.post_form("/review/accept", {"csrf": token, "pick": "7:finance:2022|1", "confirm": "yes"})[0] == 403
    assert web.row("7:finance:2022").state == "submitted" and len(accept_events(web, "7:finance:2022")) == 1


def test_every_decision_on_a_deadlines_page_ends_with_what_happened(site):  # noqa: F811
    web = site()
    users.add(web.service.engine, REVIEWER, "reviewer", NOW)
    submit(web, "7:finance:2022")
    reviewer = web.signed_in(REVIEWER)

    def decide(action, lang="kk", **extra):
        page = reviewer.get(f"/occurrences/7:finance:2022?lang={lang}")[2]
        form = f"do-{action}"
        status, headers, _ = reviewer.post_form("/occurrences/7:finance:2022/act", {
            "csrf": field(page, "csrf", form), "version": field(page, "version", form), "action": action, **extra})
        assert status == 303 and headers["location"] == f"/occurrences/7:finance:2022?done={action}#done"
        return visible(reviewer.get(headers["location"].split("#")[0])[2])

    assert f"Жауап қабылданды: {FINANCE_KK} — № 7, 2022 жыл." in decide("accept")
    assert f"Ответ возвращён на доработку: {FINANCE_RU} — № 7, 2022 год. Органу сообщат причину." in decide(
        "return", "ru", reason="нет таблицы")
    page = decide("extend", "ru", until="2022-12-20", reason="письмо № 5")
    assert f"Срок продлён до 20 декабря 2022 г.: {FINANCE_RU} — № 7, 2022 год." in page
    assert "по плану: 9 декабря 2022 г.; продлено до: 20 декабря 2022 г." in page
    page = decide("close", "kk", reason="қатысы жоқ")
    assert f"Мерзім бақылаудан алынды: {FINANCE_KK} — № 7, 2022 жыл." in page
    page = decide("reopen", "ru", reason="по ошибке")
    assert f"Последнее решение отменено: {FINANCE_RU} — № 7, 2022 год. Сейчас: возвращено на доработку." in page
    # the history names people, and the notices by their human names: no step codes on the screen
    history = page.split("История")[-1] if "История" in page else page
    assert "Айгүл Серікова" in history
    for code in ("answer-accepted", "answer-returned", "extension-granted", "deadline-closed", "deadline-reopened",
                 "answer-acknowledged", "answer-received", "7:finance:2022"):
        assert code not in page, code
    assert "ответ принят (органу)" in page and "срок снят с контроля (органу)" in page


def test_the_plans_date_and_the_extended_one_are_both_said(site):  # noqa: F811
    web = site()
    users.add(web.service.engine, REVIEWER, "reviewer", NOW)
    answer.act(web.service.engine, web.service.timing, "6:finance:2022", "extend", now=NOW,
               actor=Actor(REVIEWER, "reviewer"), until=dt.date(2022, 12, 20), reason="хат № 5")
    reviewer = web.signed_in(REVIEWER)
    for lang, said in (("ru", "по плану: 9 декабря 2022 г.; продлено до: 20 декабря 2022 г."),
                       ("kk", "жоспар бойынша: 2022 жылғы 9 желтоқсан; ұзартылған мерзімі: 2022 жылғы 20 желтоқсан")):
        page = reviewer.get(f"/occurrences/6:finance:2022?lang={lang}")[2]
        due = visible(page.split('id="due"')[1].split("</td>")[0])
        assert said in " ".join(due.split()), (lang, due)
    # a request for more time in the queue: the plan's date, the date in force and the date asked for
    answer.act(web.service.engine, web.service.timing, "6:finance:2022", "request-extension", now=NOW,
               actor=Actor(AIGUL, "focal", frozenset({"finance"})), until=dt.date(2022, 12, 27), reason="ескі деректер")
    page = visible(reviewer.get("/review?lang=ru")[2])
    assert "по плану: 9 декабря 2022 г.; продлено до: 20 декабря 2022 г.; запрошено до: 27 декабря 2022 г." in " ".join(page.split())
    assert "Айгүл Серікова" in page


def backlog_fields(page, ids, **given):
    fields = {"csrf": field(page, "csrf", "backlog-form"), "agency": "finance", "received": "2022-01-15",
              "ref": "12-3/45", "ref_date": "2022-01-14", "text": "2021 жылғы ақпарат", **given}
    return [(k, v) for k, v in fields.items() if v is not None] + [("occurrence", oid) for oid in ids]


BACKLOG = ["7:finance:2021", "6:finance:2021", "17:finance:2021"]


def test_a_paper_backlog_of_one_body_is_entered_in_one_form(site):  # noqa: F811
    web = site()
    users.add(web.service.engine, REVIEWER, "reviewer", NOW)
    reviewer = web.signed_in(REVIEWER)
    assert 'href="/review/paper"' in reviewer.get("/review")[2]
    page = reviewer.get("/review/paper")[2]
    assert 'id="body-form"' in page and 'id="backlog-form"' not in page
    page = reviewer.get("/review/paper?agency=finance&lang=ru")[2]
    for oid in BACKLOG:
        assert f'name="occurrence" value="{oid}"' in page, oid
    seen = visible(page)
    assert "№ 7, 2021 год" in seen and "7:finance:2021" not in seen and "finance" not in seen

    def stored():
        with session(web.service.engine) as db:
            return db.exec(select(EventRow)).all(), db.exec(select(SubmissionRow)).all(), db.exec(select(FileRow)).all()

    # Bad forms: the item named, nothing stored.
    cases = [(BACKLOG + ["7:mvd:2021"], {}, "Министерство внутренних дел Республики Казахстан — № 7, 2021 год: это не ожидающий исполнения срок этого органа."),
             (BACKLOG + ["99:finance:2021"], {}, f"{FINANCE_RU} — № 99, 2021 год: это не ожидающий исполнения срок этого органа."),
             (BACKLOG, {"received": "2022-12-10"}, "Дата поступления не может быть в будущем."),
             (BACKLOG, {"received": ""}, "Укажите дату поступления письма."),
             ([], {}, "Отметьте хотя бы одно мероприятие."),
             (BACKLOG, {"ref_date": "2022-01-20"}, "Дата исходящего письма не может быть позже даты его поступления."),
             (BACKLOG, {"agency": "nope"}, "Такого органа в плане нет.")]
    for ids, given, message in cases:
        status, _, shown = reviewer.post("/review/paper", backlog_fields(page, ids, **given), [("files", "Хат 12-3-45.pdf", PDF)])
        assert status == 400 and message in visible(shown), (ids, given, visible(shown)[:3000])
        assert "agency" in given or "2021 жылғы ақпарат" in shown, "what she typed is kept"
    assert stored() == ([], [], [])

    status, headers, _ = reviewer.post("/review/paper", backlog_fields(page, BACKLOG), [("files", "Хат 12-3-45.pdf", PDF)])
    assert status == 303
    assert parse_qs(urlsplit(headers["location"]).query)["recorded"] == BACKLOG
    said = visible(reviewer.get(headers["location"].split("#")[0])[2])
    assert "3 ответа, поступивших на бумаге, зарегистрированы." in said and f"{FINANCE_RU} — № 6, 2021 год" in said
    for oid in BACKLOG:
        row = web.row(oid)
        assert row.state == "submitted" and row.next_step_at is None, oid
        [event] = web.events(oid)
        details = json.loads(event.details)
        assert (event.action, event.actor, event.client) == ("submit", REVIEWER, "127.0.0.1")
        assert details["submitted_at"] == "2022-01-15T00:00:00+06:00" and details["ref"] == "12-3/45"
        assert details["files"][0]["name"] == "Хат 12-3-45.pdf"
    events, submissions, files = stored()
    assert len(events) == 3 and len(submissions) == 3 and len(files) == 3
    assert {aware(s.submitted_at).astimezone(ALMATY).date() for s in submissions} == {dt.date(2022, 1, 15)}
    # they wait in the queue for a decision, and are gone from the backlog form
    queue = reviewer.get("/review")[2]
    assert all(f'href="/occurrences/{oid}"' in queue.split('id="new-answers"')[1] for oid in BACKLOG)
    again = reviewer.get("/review/paper?agency=finance")[2]
    assert not any(f'name="occurrence" value="{oid}"' in again for oid in BACKLOG)
    # the single paper entry on a deadline's page stays
    assert 'id="paper-form"' in reviewer.get("/occurrences/23:finance:2021")[2]
    # observers read, and may not enter
    users.add(web.service.engine, "observer@gov.kz", "observer", NOW)
    observer = web.signed_in("observer@gov.kz")
    assert observer.get("/review/paper?agency=finance")[0] == 403
    assert 'href="/review/paper"' not in observer.get("/review")[2]
