"""Notices — the emails that answer events cause — on SQLite and PostgreSQL, through real ticks to a
real SMTP server on loopback (aiosmtpd): answers received, batched per reviewer; an answer returned,
with a personal link that signs its recipient in over real HTTP; extensions granted and refused;
a refusal at the server failing alone; notices about answered occurrences never withdrawn; and what
`simulate` makes of them."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
import uvicorn
from icalendar import Calendar
from sqlmodel import select

from scheduler.answers import OPERATOR_ACTOR, Actor
from scheduler.answers.files import check_upload
from scheduler.app import answer, notices, standing, users
from scheduler.app.deliver import groups_of
from scheduler.app.simulate import simulate
from scheduler.app.tick import tick
from scheduler.store.db import session
from scheduler.store.ledger import aware, claim
from scheduler.store.tables import EventRow, NotificationRow
from scheduler.web.app import create_app
from tests.integration.test_delivery import at, ledger
from tests.integration.web_client import Client
from tests.smtp import Mailbox, SmtpServer, free_port

OID = "7:finance:2022"
AIGUL = "aigul@minfin.example.kz"  # finance's focal point, kk
IVANOV = "ivanov@minfin.example.kz"  # finance's supervisor, ru
ASKAR = "askar@mvd.example.kz"  # mvd's focal point: the commission's working body in 2022, the coordinator
BASE = "https://deadlines.example.gov.kz"
LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+)")
FOCAL_AIGUL = Actor(AIGUL, "focal", frozenset({"finance"}))
FOCAL_ASKAR = Actor(ASKAR, "focal", frozenset({"mvd"}))
REVIEWER = Actor("reviewer@gov.kz", "reviewer")
LABOUR = "13:labour:2022"
ENBEK = "focal@enbek.example.kz"  # labour's focal point, ru
FOCAL_ENBEK = Actor(ENBEK, "focal", frozenset({"labour"}))
# What people must not read (they stay in headers and in the links' addresses): occurrence ids, the
# resolution's codes, period labels.
RAW = [re.compile(r"\b[\w.-]+:[a-z][a-z-]*:\d{4}(-[QH]\d|-\d\d-\d\d)?\b"), re.compile(r"\bres-\d"),
       re.compile(r"\b\d{4}-[QH]\d\b")]


@pytest.fixture
def service_at(database_url, smtp_server, make_service):
    def make(smtp=smtp_server):
        service = make_service(database_url, smtp)
        service.settings = service.settings.model_copy(update={"base_url": BASE})
        return service

    return make


def staff(service, *people):
    for email, role in people:
        users.add(service.engine, email, role, at(11, 1))


def submit(service, when, oid=OID, actor=FOCAL_AIGUL, **extra):
    return answer.submit(service.engine, service.timing, oid, at=extra.pop("at", when), now=when, actor=actor, **extra)


def act(service, action, when, oid=OID, actor=REVIEWER, **extra):
    return answer.act(service.engine, service.timing, oid, action, now=when, actor=actor, **extra)


def notices_of(mailbox, kind):
    return [m for m in mailbox.messages if m["X-Scheduler-Step"] == kind]


def listed(message):
    return [i.strip() for i in message["X-Scheduler-Occurrences"].split(",")]


def to(message):
    return message["To"].addresses[0].addr_spec


def text(message):
    return message.get_body(("plain",)).get_content()


def notice_rows(service, kind=None):
    return [r for r in ledger(service) if r.event_id and (kind is None or r.step == kind)]


def agency_news(mailbox, since=0):
    """The notices to agencies' people (all but the secretariat's answers received), from `since` on."""
    return [m for m in mailbox.messages[since:] if m["X-Scheduler-Step"] in notices.STEPS - {notices.ANSWER_RECEIVED}]


def raw_codes(message):
    """Ids, codes and period labels in what people read of both parts (the links' addresses aside)."""
    parts = [re.sub(r"https?://\S+", "", message.get_body((p,)).get_content()) for p in ("plain", "html")]
    return [found.group(0) for part in parts for pattern in RAW for found in [pattern.search(part)] if found]


def test_answers_on_several_occurrences_make_one_email_per_reviewer(service_at, smtp_server):
    service = service_at()
    staff(service, ("reviewer@gov.kz", "reviewer"), ("admin@gov.kz", "admin"), ("observer@gov.kz", "observer"),
          ("gone@gov.kz", "reviewer"), (IVANOV, "reviewer"))
    users.disable(service.engine, "gone@gov.kz", at(11, 2))
    pdf = check_upload("Хат 12-3-45.pdf", b"%PDF-1.7 the letter", 20 << 20)
    table = check_upload("Кесте.pdf", b"%PDF-1.7 the table", 20 << 20)
    submit(service, at(12, 6, 15), ref="12-3/45", ref_date=dt.date(2022, 12, 5), uploads=[pdf, table])
    submit(service, at(12, 6, 16), oid="7:mvd:2022", actor=FOCAL_ASKAR, ref="МВД-77")
    submit(service, at(12, 6, 17), oid="6:finance:2022", at=at(12, 6, 11), actor=OPERATOR_ACTOR)  # from paper
    report = tick(service, at(12, 6, 17, 1))
    assert not report.errors

    received = notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED)
    assert sorted(to(m) for m in received) == ["admin@gov.kz", IVANOV, "reviewer@gov.kz"], \
        "one email per reviewer and admin; observers and disabled users are not told"
    for message in received:
        assert sorted(listed(message)) == ["6:finance:2022", "7:finance:2022", "7:mvd:2022"]
        body = text(message)
        assert f"{BASE}/occurrences/7:finance:2022" in body and f"{BASE}/occurrences/7:mvd:2022" in body
        assert f"{BASE}/review" in body and "/l/" not in body
        assert "№ 12-3/45" in body and "№ МВД-77" in body
    kazakh = next(m for m in received if to(m) == "reviewer@gov.kz")
    assert kazakh["Subject"] == "3 іс-шара бойынша жауап келді", "staff who are no contact read the plan's Kazakh"
    body = text(kazakh)
    assert "Сәлеметсіз бе," in body
    assert "Шығыс хат: № 12-3/45, 2022 жылғы 5 желтоқсан" in body and "Қоса берілген құжаттар: 2" in body
    assert "Келген уақыты: 2022 жылғы 6 желтоқсан, 11:00" in body, "when the paper letter came, not when it was typed in"
    assert "Мерзімі: 2022 жылғы 9 желтоқсан" in body and "Қаржы министрлігі" in body
    russian = next(m for m in received if to(m) == IVANOV)
    assert "Поступили ответы" in russian["Subject"] and "Уважаемый(ая) Пётр Иванов," in text(russian), \
        "a reviewer who is also a contact reads his contact's language"

    # the next ticks send nothing more; a new answer makes a new email listing only itself
    tick(service, at(12, 6, 17, 2))
    tick(service, at(12, 7, 9))
    assert len(notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED)) == 3
    submit(service, at(12, 7, 10), oid="17:finance:2022")
    tick(service, at(12, 7, 10, 1))
    later = notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED)[3:]
    assert len(later) == 3 and all(listed(m) == ["17:finance:2022"] for m in later)
    rows = notice_rows(service, notices.ANSWER_RECEIVED)
    assert len(rows) == 4 * 3 and {r.state for r in rows} == {"sent"}
    assert len({(r.occurrence_id, r.recipient, r.event_id) for r in rows}) == len(rows)


def test_without_reviewers_the_coordinator_hears_of_answers(service_at, smtp_server):
    """No enabled reviewer or admin: the answer goes where the weekly digest goes (the commission's
    working body, the Ministry of Internal Affairs in 2022). A reviewer who records an answer
    himself is not told of it."""
    service = service_at()
    submit(service, at(12, 5, 8))
    tick(service, at(12, 5, 9))  # a Monday: the digest goes out too
    received = notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED)
    digests = smtp_server.mailbox.by_step("digest")
    assert digests and {to(m) for m in received} == {to(m) for m in digests} == {ASKAR}
    assert "Құрметті Асқар Нұрланов," in text(received[0])
    # not staff: his own personal link (the deadlines' pages open for him after it), no queue's
    assert "/l/" in text(received[0]) and "/review" not in text(received[0])

    staff(service, ("reviewer@gov.kz", "reviewer"), ("admin@gov.kz", "admin"))
    submit(service, at(12, 5, 10), oid="6:finance:2022", actor=REVIEWER)
    tick(service, at(12, 5, 10, 1))
    told = notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED)[1:]
    assert [to(m) for m in told] == ["admin@gov.kz"]
    assert "/review" in text(told[0]) and "/l/" not in text(told[0]), "staff: the queue, signed in as staff sign in"


def serve(service, clock):
    port = free_port()
    service.settings = service.settings.model_copy(update={"base_url": f"http://127.0.0.1:{port}"})
    app = create_app(lambda: service, lambda: clock, ("admin", "correct horse"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def test_a_return_tells_the_focal_point_why_with_a_link_that_signs_her_in(service_at, smtp_server):
    service = service_at()
    staff(service, (IVANOV, "reviewer"))
    now = at(12, 12, 10, 1)
    server, thread, base = serve(service, now)
    try:
        submit(service, at(12, 8, 15), ref="12-3/45")
        # the Ministry's supervisor, also a reviewer, records the other answer from paper
        submit(service, at(12, 8, 16), oid="6:finance:2022", actor=Actor(IVANOV, "reviewer"))
        tick(service, at(12, 8, 16, 1))  # the answers' acknowledgements: an email of their own
        act(service, "return", at(12, 12, 10), reason="Кесте толтырылмаған")
        act(service, "return", at(12, 12, 10), oid="6:finance:2022", reason="Нет подписи")
        tick(service, now)
        returned = notices_of(smtp_server.mailbox, notices.ANSWER_RETURNED)
        assert sorted(to(m) for m in returned) == [AIGUL, IVANOV], "the focal point, and who submitted, a contact"
        aigul = next(m for m in returned if to(m) == AIGUL)
        assert sorted(listed(aigul)) == ["6:finance:2022", "7:finance:2022"], "one email for both returns"
        assert aigul["Subject"] == "Жауап пысықтауға қайтарылды (2 іс-шара)"
        body = text(aigul)
        assert "Себебі: Кесте толтырылмаған" in body and "Себебі: Нет подписи" in body
        assert "Мерзімі: 2022 жылғы 9 желтоқсан" in body
        ivanov = next(m for m in returned if to(m) == IVANOV)
        assert listed(ivanov) == ["6:finance:2022"] and "Причина: Нет подписи" in text(ivanov)

        # her personal link signs her in and shows the returned occurrence, to answer again
        link = LINK.search(body).group(1)
        assert link.startswith(base) and link in aigul.get_body(("html",)).get_content()
        client = Client(base)
        status, headers, _ = client.get(link)
        assert status == 303 and headers["location"].endswith("/my"), (status, dict(headers))
        status, _, page = client.get("/my")
        assert status == 200 and OID in page
    finally:
        server.should_exit = True
        thread.join(timeout=10)

    # the same event never mails twice: later ticks (the ladder resumes) send no second notice
    for day in (12, 13, 19, 20):
        tick(service, at(12, day, 9, 30))
    assert len(notices_of(smtp_server.mailbox, notices.ANSWER_RETURNED)) == 2
    assert smtp_server.mailbox.by_step("escalation-5wd"), "the ladder resumed meanwhile"
    # a second return of the same occurrence (answered again in between) is told again
    submit(service, at(12, 20, 10), ref="12-3/50")
    tick(service, at(12, 20, 10, 1))
    act(service, "return", at(12, 20, 11), reason="Тағы да толық емес")
    tick(service, at(12, 20, 11, 1))
    again = notices_of(smtp_server.mailbox, notices.ANSWER_RETURNED)[2:]
    assert [(to(m), listed(m)) for m in again] == [(AIGUL, [OID])] and "Тағы да толық емес" in text(again[0])


def test_extensions_granted_and_refused(service_at, smtp_server):
    service = service_at()
    answer.act(service.engine, service.timing, OID, "request-extension", now=at(12, 5, 10), actor=FOCAL_AIGUL,
               until=dt.date(2022, 12, 20), reason="Деректер 15 желтоқсанда келеді")
    act(service, "extend", at(12, 5, 12), until=dt.date(2022, 12, 20), reason="Хат № 5, 5 желтоқсан")
    act(service, "extend", at(12, 5, 12), oid="6:finance:2022", until=dt.date(2022, 12, 16),
        reason="without a request")
    tick(service, at(12, 5, 12, 1))  # the grants; the refusal below on the next tick
    # asked by the supervisor, a reviewer too: he hears of the refusal, in Russian
    answer.act(service.engine, service.timing, "17:finance:2022", "request-extension", now=at(12, 5, 13),
               actor=Actor(IVANOV, "reviewer"), until=dt.date(2022, 12, 30), reason="нужно время")
    act(service, "refuse-extension", at(12, 5, 14), oid="17:finance:2022", reason="Мерзім Үкімет қаулысымен бекітілген")
    tick(service, at(12, 5, 14, 1))

    granted = notices_of(smtp_server.mailbox, notices.EXTENSION_GRANTED)
    assert [(to(m), sorted(listed(m))) for m in granted] == [(AIGUL, ["6:finance:2022", OID])]
    body = text(granted[0])
    assert granted[0]["Subject"] == "Орындау мерзімі ұзартылды (2 іс-шара)"
    assert "Жаңа мерзімі: 2022 жылғы 20 желтоқсан" in body and "Бұрынғы мерзімі: 2022 жылғы 9 желтоқсан" in body
    assert "Сұралған мерзім: 2022 жылғы 20 желтоқсан" in body and "Себебі: Хат № 5, 5 желтоқсан" in body
    assert "Жаңа мерзімі: 2022 жылғы 16 желтоқсан" in body and "Себебі: without a request" in body
    assert LINK.search(body), "her personal link, to answer or ask again"
    calendar = next(p for p in granted[0].iter_attachments() if p.get_content_type() == "text/calendar")
    dates = {str(e["UID"]).split("@")[0]: e.decoded("DTSTART") for e in Calendar.from_ical(calendar.get_content()).walk("VEVENT")}
    assert dates == {OID: dt.date(2022, 12, 20), "6:finance:2022": dt.date(2022, 12, 16)}

    refused = notices_of(smtp_server.mailbox, notices.EXTENSION_REFUSED)
    assert sorted(to(m) for m in refused) == [AIGUL, IVANOV]
    kazakh = next(m for m in refused if to(m) == AIGUL)
    assert listed(kazakh) == ["17:finance:2022"]
    body = text(kazakh)
    assert "Себебі: Мерзім Үкімет қаулысымен бекітілген" in body
    assert "Мерзімі (өзгеріссіз): 2022 жылғы 9 желтоқсан" in body and "Сұралған мерзім: 2022 жылғы 30 желтоқсан" in body
    russian = text(next(m for m in refused if to(m) == IVANOV))
    assert "Срок (без изменений): 9 декабря 2022 г." in russian and "Запрошенный срок: 30 декабря 2022 г." in russian
    assert not notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED), "nobody answered"
    rows = notice_rows(service)
    assert {(r.occurrence_id, r.step, r.due) for r in rows} == {
        (OID, "extension-granted", dt.date(2022, 12, 20)), ("6:finance:2022", "extension-granted", dt.date(2022, 12, 16)),
        ("17:finance:2022", "extension-refused", dt.date(2022, 12, 9))}
    with session(service.engine) as db:
        events = {e.id: e for e in db.exec(select(EventRow))}
    assert all(events[r.event_id].occurrence_id == r.occurrence_id and r.scheduled_at == events[r.event_id].at
               for r in rows), "each notice names its event and is scheduled at its time"


class Refusing(Mailbox):
    """Refuses at the end of the data any message to one address, takes the others."""

    def __init__(self, refused: str):
        super().__init__()
        self.refused_address = refused

    async def handle_DATA(self, server, session, envelope):
        if self.refused_address in envelope.rcpt_tos:
            self.refused += 1
            return "550 5.2.1 mailbox disabled"
        return await super().handle_DATA(server, session, envelope)


def test_a_notice_refused_by_the_server_fails_alone(service_at):
    server = SmtpServer()
    server.mailbox = Refusing("admin@gov.kz")
    server.start()
    try:
        service = service_at(server)
        staff(service, ("reviewer@gov.kz", "reviewer"), ("admin@gov.kz", "admin"))
        submit(service, at(12, 5, 10))
        act(service, "return", at(12, 5, 11), oid=OID, reason="incomplete")
        report = tick(service, at(12, 5, 11, 1))
        assert report.failed == 1 and report.emails_sent >= 2
        assert [to(m) for m in notices_of(server.mailbox, notices.ANSWER_RECEIVED)] == ["reviewer@gov.kz"]
        # her answer's acknowledgement and its return, in one email
        assert [to(m) for m in notices_of(server.mailbox, notices.DECISIONS)] == [AIGUL]
        failed = [r for r in notice_rows(service) if r.state == "failed"]
        assert [(r.recipient, r.step) for r in failed] == [("admin@gov.kz", "answer-received")]
        assert "550" in failed[0].error
        assert ("admin@gov.kz", "answer-received", OID) == standing.undelivered(service, at(12, 5, 12))[0][:3]
        tick(service, at(12, 5, 12))
        assert server.mailbox.refused == 1, "a permanent refusal is not retried"
    finally:
        server.stop()


def test_notices_about_answered_or_closed_occurrences_are_not_withdrawn(service_at, smtp_server):
    """Between the event and the tick the occurrence is answered again or closed: the ladder's rows
    are withdrawn (its ladder stopped), the notices go all the same."""
    service = service_at()
    staff(service, ("reviewer@gov.kz", "reviewer"))
    tick(service, at(12, 2))  # the 7-day reminders
    submit(service, at(12, 5, 10))
    act(service, "return", at(12, 5, 11), reason="incomplete")
    submit(service, at(12, 5, 12), ref="12-3/46")  # answered again before any tick
    answer.act(service.engine, service.timing, "17:finance:2022", "request-extension", now=at(12, 5, 12),
               actor=FOCAL_AIGUL, until=dt.date(2022, 12, 30), reason="time")
    act(service, "refuse-extension", at(12, 5, 13), oid="17:finance:2022", reason="no")
    act(service, "close", at(12, 5, 14), oid="17:finance:2022", reason="not applicable")
    with session(service.engine) as db:  # a ladder row still pending for an occurrence now answered
        db.add(NotificationRow(occurrence_id=OID, step="reminder-7d", recipient=IVANOV, due=dt.date(2022, 12, 9),
                               name="Пётр Иванов", language="ru", agency="finance", scheduled_at=at(12, 2),
                               state="pending"))
    report = tick(service, at(12, 5, 14, 1))
    states = {(r.occurrence_id, r.step, r.recipient): r.state for r in notice_rows(service)}
    assert states[(OID, "answer-returned", AIGUL)] == "sent"
    assert states[("17:finance:2022", "extension-refused", AIGUL)] == "sent"
    assert [r.state for r in ledger(service) if r.step == "answer-received"] == ["sent", "sent"]
    withdrawn = [r for r in ledger(service) if r.state == "withdrawn"]
    assert [(r.step, r.recipient) for r in withdrawn] == [("reminder-7d", IVANOV)] and report.withdrawn == 1
    received = notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED)
    assert [listed(m) for m in received] == [[OID]] and "№ 12-3/46" in text(received[0]), "both answers, one email"
    # the focal point's two acknowledgements, the return, the refusal and the closing: one email
    (told,) = notices_of(smtp_server.mailbox, notices.DECISIONS)
    assert to(told) == AIGUL and sorted(listed(told)) == ["17:finance:2022", OID]
    assert [r.state for r in notice_rows(service) if r.recipient == AIGUL] == ["sent"] * 5


def test_simulate_lists_notices_from_the_ledger_and_never_forecasts_them(service_at, smtp_server):
    """What went out stays in the timeline under its kind; a notice not yet sent is pending; the days
    ahead forecast the ladder only (events cannot be foreseen), and the ladder's forecast is unchanged
    by the notices in the ledger."""
    service = service_at()
    staff(service, ("reviewer@gov.kz", "reviewer"), ("admin@gov.kz", "admin"))
    tick(service, at(12, 5))
    before = {(f.planned.occurrence_id, f.planned.step, f.planned.email, f.state)
              for f in simulate(service, dt.date(2022, 12, 6), dt.date(2022, 12, 20)) if f.state == "to send"}
    submit(service, at(12, 5, 10), oid="7:mvd:2022", actor=FOCAL_ASKAR)
    submit(service, at(12, 5, 11), oid="13:mvd:2022", actor=FOCAL_ASKAR)
    act(service, "extend", at(12, 5, 12), until=dt.date(2022, 12, 30), reason="letter")
    tick(service, at(12, 5, 12, 1))
    act(service, "return", at(12, 5, 15), oid="7:mvd:2022", reason="incomplete")  # not yet ticked

    timeline = simulate(service, dt.date(2022, 12, 5), dt.date(2022, 12, 20))
    told = [f for f in timeline if f.planned.step in notices.KINDS]
    assert {(f.planned.occurrence_id, f.planned.step, f.planned.email, f.state) for f in told} == {
        ("7:mvd:2022", "answer-received", "reviewer@gov.kz", "sent"), ("7:mvd:2022", "answer-received", "admin@gov.kz", "sent"),
        ("13:mvd:2022", "answer-received", "reviewer@gov.kz", "sent"), ("13:mvd:2022", "answer-received", "admin@gov.kz", "sent"),
        (OID, "extension-granted", AIGUL, "sent"), ("7:mvd:2022", "answer-returned", ASKAR, "pending"),
        ("7:mvd:2022", "answer-acknowledged", ASKAR, "sent"), ("13:mvd:2022", "answer-acknowledged", ASKAR, "sent")}
    sent = [f for f in told if f.state == "sent" and f.planned.step == "answer-received"]
    assert len({(f.planned.email, f.planned.step, f.at) for f in sent}) == 2, "counted as the emails they went in"
    assert all(aware(f.at) == at(12, 5, 12, 1) for f in sent)

    ahead = simulate(service, dt.date(2022, 12, 6), dt.date(2022, 12, 20))
    assert not [f for f in ahead if f.planned.step in notices.KINDS and f.state == "to send"]
    after = {(f.planned.occurrence_id, f.planned.step, f.planned.email, f.state) for f in ahead if f.state == "to send"}
    answered = {"7:mvd:2022", "13:mvd:2022", OID}
    assert {k for k in after if k[0] not in answered} == {k for k in before if k[0] not in answered}
    assert (OID, "reminder-14d", AIGUL, "to send") in after, "the extension's own ladder"


def test_a_notice_is_written_with_its_event_or_not_at_all(service_at, smtp_server, monkeypatch):
    """A failure later in the event's transaction (here: storing its document) leaves no notice
    behind: nobody is told of an answer that was never recorded."""
    service = service_at()
    staff(service, ("reviewer@gov.kz", "reviewer"))

    def broken(**_):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(answer, "FileRow", broken)
    with pytest.raises(RuntimeError):
        submit(service, at(12, 6, 10), uploads=[check_upload("Хат.pdf", b"%PDF-1.7 the letter", 20 << 20)])
    assert notice_rows(service) == []
    monkeypatch.undo()
    submit(service, at(12, 6, 11))
    assert [(r.step, r.recipient, r.state) for r in notice_rows(service)] == [
        ("answer-received", "reviewer@gov.kz", "pending"), ("answer-acknowledged", AIGUL, "pending")]
    tick(service, at(12, 6, 11, 1))
    assert [listed(m) for m in notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED)] == [[OID]]


# --- the agency hears of every answer and decision: one email a tick, in her language ----------------

# (what the secretariat or she does to both deadlines, the email's step, its subject and words in kk, in ru)
STORY = [
    ("submit", "answer-acknowledged", ("Жауабыңыз келіп түсті (1 іс-шара)", "Ваш ответ получен (1 мероприятие)"),
     ("Шығыс хат: № 12-3/45", "Исходящее письмо: № 12-3/45")),
    ("accept", "answer-accepted", ("Жауап қабылданды (1 іс-шара)", "Ответ принят (1 мероприятие)"),
     ("жауабыңызды қабылдады", "Секретариат принял ваш ответ")),
    ("reopen", "deadline-reopened", ("Шешімнің күші жойылды (1 іс-шара)", "Решение отменено (1 мероприятие)"),
     ("Жауабыңыз қайтадан хатшылықтың қарауын күтуде.", "Ваш ответ снова ожидает рассмотрения секретариатом.")),
    ("return", "answer-returned", ("Жауап пысықтауға қайтарылды (1 іс-шара)", "Ответ возвращён на доработку (1 мероприятие)"),
     ("Мерзімі: 2022 жылғы 9 желтоқсан", "Срок: 9 декабря 2022 г.")),
    ("refuse-extension", "extension-refused",
     ("Мерзімді ұзартудан бас тартылды (1 іс-шара)", "В продлении срока отказано (1 мероприятие)"),
     ("Мерзімі (өзгеріссіз): 2022 жылғы 9 желтоқсан", "Срок (без изменений): 9 декабря 2022 г.")),
    ("extend", "extension-granted", ("Орындау мерзімі ұзартылды (1 іс-шара)", "Срок исполнения продлён (1 мероприятие)"),
     ("Жаңа мерзімі: 2022 жылғы 20 желтоқсан", "Новый срок: 20 декабря 2022 г.")),
    ("close", "deadline-closed", ("Бақылаудан алынды (1 іс-шара)", "Снято с контроля (1 мероприятие)"),
     ("Мерзімі: 2022 жылғы 20 желтоқсан", "Срок: 20 декабря 2022 г.")),
    ("reopen", "deadline-reopened", ("Шешімнің күші жойылды (1 іс-шара)", "Решение отменено (1 мероприятие)"),
     ("Ақпарат қайтадан күтіледі: еске салулар жалғасады.", "Информация снова ожидается: напоминания возобновятся.")),
]
REASONS = {"kk": "Себебі: {} себебі", "ru": "Причина: {} причина"}


def test_every_answer_and_decision_reaches_the_focal_point_in_her_language(service_at, smtp_server):
    """Kazakh for the Ministry of Finance's focal point, Russian for the Ministry of Labour's: an email
    for each answer received (hers on the web; labour's entered by the secretariat from paper),
    accepted, reopened, returned, extension refused and granted, closed and reopened again — each
    with its reason, the deadline's own page and her personal link; nothing twice."""
    service = service_at()
    staff(service, ("reviewer@gov.kz", "reviewer"))
    people = {OID: (AIGUL, FOCAL_AIGUL, "kk"), LABOUR: (ENBEK, FOCAL_ENBEK, "ru")}
    seen = len(smtp_server.mailbox.messages)
    for hour, (action, step, subjects, words) in enumerate(STORY, start=10):
        when = at(12, 5, hour)
        for oid, (_, focal, language) in people.items():
            reason = f"{action} {'себебі' if language == 'kk' else 'причина'}"
            if action == "submit":
                submit(service, when, oid=oid, actor=focal if oid == OID else REVIEWER, ref="12-3/45")
            elif action == "refuse-extension":
                answer.act(service.engine, service.timing, oid, "request-extension", now=when, actor=focal,
                           until=dt.date(2022, 12, 20), reason="деректер кешігеді")
                act(service, action, when, oid=oid, reason=reason)
            else:
                act(service, action, when, oid=oid, reason=None if action == "accept" else reason,
                    until=dt.date(2022, 12, 20) if action == "extend" else None)
        tick(service, at(12, 5, hour, 1))
        told = agency_news(smtp_server.mailbox, seen)
        seen = len(smtp_server.mailbox.messages)
        assert sorted((to(m), m["X-Scheduler-Step"], listed(m)) for m in told) == [
            (AIGUL, step, [OID]), (ENBEK, step, [LABOUR])], action
        for message in told:
            oid = listed(message)[0]
            language = people[oid][2]
            kazakh = language == "kk"
            body, html = text(message), message.get_body(("html",)).get_content()
            assert message["Subject"] == subjects[not kazakh], (action, message["Subject"])
            assert words[not kazakh] in body, (action, body)
            assert f'<html lang="{language}">' in html
            assert ("Құрметті Айгүл Серікова," if kazakh else "Уважаемый(ая) Еңбек,") in body
            if action not in ("submit", "accept"):
                assert REASONS[language].format(action) in body, (action, body)
            link = LINK.search(body).group(1)
            # its page, through her personal link: it opens without a session
            assert f"{link}?next=/occurrences/{oid}" in body and f'href="{link}?next=/occurrences/{oid}"' in html
            assert link.startswith(f"{BASE}/l/") and link in html and body.index(link) < body.index("?next=/occurrences/")
            assert raw_codes(message) == [], (action, raw_codes(message))
            assert len(message.as_bytes()) < 40 * 1024

    # nothing is told twice: the next ticks send no notice
    for later in (at(12, 5, 18, 2), at(12, 6, 9), at(12, 9, 9)):
        tick(service, later)
    assert agency_news(smtp_server.mailbox, seen) == []
    rows = [r for r in notice_rows(service) if r.step != notices.ANSWER_RECEIVED]
    assert len(rows) == 2 * len(STORY) and {r.state for r in rows} == {"sent"}
    assert {(r.recipient, r.language) for r in rows} == {(AIGUL, "kk"), (ENBEK, "ru")}


def test_several_decisions_in_one_tick_make_one_email(service_at, smtp_server):
    """Two answers accepted and an extension granted since the last tick: one email to each focal
    point listing the three, each saying what happened, in her language; the secretariat's own
    email unchanged beside it; nothing sent again."""
    service = service_at()
    staff(service, ("reviewer@gov.kz", "reviewer"))
    bodies = {"finance": (AIGUL, FOCAL_AIGUL), "labour": (ENBEK, FOCAL_ENBEK)}
    for agency, (_, focal) in bodies.items():
        submit(service, at(12, 5, 10), oid=f"7:{agency}:2022" if agency == "finance" else LABOUR, actor=focal)
        submit(service, at(12, 5, 10), oid=f"6:{agency}:2022", actor=focal)
        answer.act(service.engine, service.timing, f"17:{agency}:2022", "request-extension", now=at(12, 5, 10),
                   actor=focal, until=dt.date(2022, 12, 23), reason="деректер кешігеді")
    tick(service, at(12, 5, 10, 1))
    acknowledged = agency_news(smtp_server.mailbox)
    assert sorted((to(m), m["X-Scheduler-Step"], len(listed(m))) for m in acknowledged) == [
        (AIGUL, "answer-acknowledged", 2), (ENBEK, "answer-acknowledged", 2)], "both answers in one email"
    seen = len(smtp_server.mailbox.messages)

    for agency in bodies:
        act(service, "accept", at(12, 5, 11), oid=f"7:{agency}:2022" if agency == "finance" else LABOUR)
        act(service, "accept", at(12, 5, 11, 5), oid=f"6:{agency}:2022")
        act(service, "extend", at(12, 5, 11, 10), oid=f"17:{agency}:2022", until=dt.date(2022, 12, 23),
            reason="Хат № 5" if agency == "finance" else "Письмо № 5")
    tick(service, at(12, 5, 11, 11))
    told = agency_news(smtp_server.mailbox, seen)
    assert sorted(to(m) for m in told) == [AIGUL, ENBEK] and {m["X-Scheduler-Step"] for m in told} == {"decisions"}
    kazakh = next(m for m in told if to(m) == AIGUL)
    assert sorted(listed(kazakh)) == ["17:finance:2022", "6:finance:2022", OID]
    assert kazakh["Subject"] == "Орындау мерзімі ұзартылды; жауап қабылданды (3 іс-шара)"
    body = text(kazakh)
    assert body.count("- Жауап қабылданды:") == 2 and body.count("- Орындау мерзімі ұзартылды:") == 1
    assert "Жаңа мерзімі: 2022 жылғы 23 желтоқсан" in body and "Сұралған мерзім: 2022 жылғы 23 желтоқсан" in body
    assert "Себебі: Хат № 5" in body and "Бұрынғы мерзімі: 2022 жылғы 9 желтоқсан" in body
    for oid in listed(kazakh):
        assert f"{LINK.search(body).group(1)}?next=/occurrences/{oid}" in body
    assert LINK.search(body) and raw_codes(kazakh) == []
    calendar = next(p for p in kazakh.iter_attachments() if p.get_content_type() == "text/calendar")
    assert [str(e["UID"]).split("@")[0] for e in Calendar.from_ical(calendar.get_content()).walk("VEVENT")] == \
        ["17:finance:2022"], "the new date of the deadline extended"
    russian = next(m for m in told if to(m) == ENBEK)
    assert sorted(listed(russian)) == sorted(["17:labour:2022", "6:labour:2022", LABOUR])
    assert russian["Subject"] == "Срок исполнения продлён; ответ принят (3 мероприятия)"
    body = text(russian)
    assert body.count("- Ответ принят:") == 2 and "- Срок исполнения продлён:" in body and "Причина: Письмо № 5" in body
    assert "Новый срок: 23 декабря 2022 г." in body and raw_codes(russian) == []
    received = notices_of(smtp_server.mailbox, notices.ANSWER_RECEIVED)
    assert [(to(m), len(listed(m))) for m in received] == [("reviewer@gov.kz", 4)], "the secretariat's as before"

    for later in (at(12, 5, 11, 12), at(12, 6, 9)):
        tick(service, later)
    assert agency_news(smtp_server.mailbox, seen + len(told)) == [], "nothing twice"
    assert {r.state for r in notice_rows(service)} == {"sent"}


def test_answers_entered_by_the_secretariat_are_acknowledged_to_the_focal_point(service_at, smtp_server):
    """Whoever records the answer — a reviewer from a paper letter, the operator with `scheduler
    submit` — the body's focal point hears it was received; a contact who submitted hears it too;
    the one who recorded it, if she is staff and no contact, does not."""
    service = service_at()
    staff(service, ("reviewer@gov.kz", "reviewer"), (IVANOV, "reviewer"))
    submit(service, at(12, 6, 15), actor=REVIEWER, at=at(12, 6, 11), ref="12-3/45")  # from paper
    submit(service, at(12, 6, 16), oid="6:finance:2022", actor=OPERATOR_ACTOR, ref="12-3/46")  # the command line
    submit(service, at(12, 6, 16), oid="17:finance:2022", actor=Actor(IVANOV, "reviewer"))  # the supervisor, a contact
    tick(service, at(12, 6, 16, 1))
    told = agency_news(smtp_server.mailbox)
    assert sorted((to(m), m["X-Scheduler-Step"], sorted(listed(m))) for m in told) == [
        (AIGUL, "answer-acknowledged", ["17:finance:2022", "6:finance:2022", OID]),
        (IVANOV, "answer-acknowledged", ["17:finance:2022"])]
    aigul = next(m for m in told if to(m) == AIGUL)
    body = text(aigul)
    assert aigul["Subject"] == "Жауабыңыз келіп түсті (3 іс-шара)"
    assert "Келген уақыты: 2022 жылғы 6 желтоқсан, 11:00" in body, "when the paper letter came"
    assert "Шығыс хат: № 12-3/45" in body and "Шығыс хат: № 12-3/46" in body
    assert "хатшылықтың қарауын күтуде" in body and LINK.search(body)
    ivanov = next(m for m in told if to(m) == IVANOV)
    assert ivanov["Subject"] == "Ваш ответ получен (1 мероприятие)" and "Напоминания по этим мероприятиям прекращены" in text(ivanov)
    assert "reviewer@gov.kz" not in {to(m) for m in told}


def test_a_users_own_language_rules_her_notices(service_at, smtp_server):
    """A focal point who is also a user with a language of her own reads her notices in it."""
    service = service_at()
    users.add(service.engine, AIGUL, "observer", at(11, 1), language="ru")
    submit(service, at(12, 6, 15))
    act(service, "return", at(12, 6, 16), reason="Нет подписи", actor=OPERATOR_ACTOR)
    tick(service, at(12, 6, 16, 1))
    (told,) = agency_news(smtp_server.mailbox)
    assert to(told) == AIGUL and told["X-Scheduler-Step"] == "decisions"
    assert told["Subject"] == "Ответ возвращён на доработку; ваш ответ получен (1 мероприятие)"
    body = text(told)
    assert "Уважаемый(ая) Айгүл Серікова," in body and "- Ваш ответ получен:" in body and "Причина: Нет подписи" in body
    assert body.index("- Ваш ответ получен:") < body.index("- Ответ возвращён на доработку:"), "as it happened"


def test_a_claim_never_splits_a_persons_notices(service_at):
    """However few groups a claim may take, all of an agency person's notices of every kind come in
    one (they make one email); the secretariat's answers received are a group of their own."""
    service = service_at()
    staff(service, ("reviewer@gov.kz", "reviewer"))
    submit(service, at(12, 5, 10))
    act(service, "return", at(12, 5, 11), reason="incomplete")
    submit(service, at(12, 5, 12), oid="6:finance:2022")
    act(service, "accept", at(12, 5, 13), oid="6:finance:2022")
    claimed = claim(service.engine, at(12, 5, 13, 1), limit=1)
    assert sorted((r.recipient, r.step) for r in claimed) == [("reviewer@gov.kz", "answer-received")] * 2
    claimed = claim(service.engine, at(12, 5, 13, 1), limit=1)
    assert sorted(r.step for r in claimed) == ["answer-accepted", "answer-acknowledged", "answer-acknowledged",
                                               "answer-returned"] and {r.recipient for r in claimed} == {AIGUL}
    assert [len(g) for g in groups_of(claimed)] == [4]
