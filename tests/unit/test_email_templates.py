"""Every message kind renders in every language, with the contract headers and safe content."""

import datetime as dt
import email
from email import policy

import pytest
from icalendar import Calendar

from scheduler.notify import compose

NOW = dt.datetime(2022, 11, 25, 3, 0, tzinfo=dt.timezone.utc)
LETTERHEAD = compose.Letterhead("scheduler@ministry.example.kz", "Жоспар", "http://127.0.0.1:8080")
ITEMS = [
    compose.Item("7:finance:2022", "7", "Қаржымині", "Талдау <script>alert(1)</script>", "талдау нәтижелері", dt.date(2022, 12, 9), None),
    compose.Item("6:finance:2022", "6", "Қаржымині", "Ақпарат", None, dt.date(2022, 12, 9), "ІІМ"),
]
SUBJECT_WORDS = {"kk": "2022 жылғы 9 желтоқсан", "ru": "9 декабря 2022", "en": "9 December 2022"}


def reparse(message):
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize(("kind", "step"), [("reminder", "reminder-7d"), ("due", "due"), ("escalation", "escalation-1wd")])
def test_deadline_messages(kind, step, language):
    to = compose.Recipient("aigul@minfin.example.kz", "Айгүл Серікова", language)
    message = reparse(compose.COMPOSERS[kind](to, step, ITEMS, LETTERHEAD, NOW))
    assert message["X-Scheduler-Step"] == step
    assert message["X-Scheduler-Occurrences"] == "6:finance:2022, 7:finance:2022"
    assert message["To"] == "Айгүл Серікова <aigul@minfin.example.kz>"
    assert message["Message-ID"].endswith("@ministry.example.kz>")
    assert message["Date"] == "Fri, 25 Nov 2022 03:00:00 +0000"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert SUBJECT_WORDS[language] in text
    assert "<script>alert(1)</script>" in text and "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "\n" not in message["Subject"]
    if kind == "reminder":
        assert SUBJECT_WORDS[language] in message["Subject"]
    attachment = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
    events = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert sorted(str(e["UID"]) for e in events) == ["6:finance:2022@obligation-scheduler", "7:finance:2022@obligation-scheduler"]
    assert all(e.decoded("DTSTART") == dt.date(2022, 12, 9) for e in events)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_digest(language):
    line = compose.DigestReport.Line(ITEMS[0], "http://127.0.0.1:8080/occurrences/7:finance:2022", 3)
    report = compose.DigestReport("2022-W48", dt.date(2022, 11, 28), overdue=1, upcoming=1, top_overdue=[line],
                                  top_upcoming=[compose.DigestReport.Line(ITEMS[1], "http://127.0.0.1:8080/occurrences/6:finance:2022", 11)],
                                  failures=1, failure_examples=["x@y.kz: 550 no such user"], without_focal=1,
                                  without_focal_examples=["ngos"], skipped_late=3)
    message = reparse(compose.digest(compose.Recipient("c@mvd.kz", "Coordinator", language), report, LETTERHEAD, NOW))
    assert message["X-Scheduler-Step"] == "digest"
    assert message["X-Scheduler-Occurrences"] == "7:finance:2022, 6:finance:2022"
    assert {"kk": "2022 жылғы 28 қараша", "ru": "28 ноября 2022", "en": "28 November 2022"}[language] in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "550 no such user" in text and "ngos" in text and "/occurrences/7:finance:2022" in text
    assert "<script>alert(1)</script>" in text and "<script>" not in html


def test_line_breaks_in_a_name_cannot_inject_headers():
    to = compose.Recipient("a@minfin.example.kz", "Evil\r\nBcc: victim@example.kz", "en")
    message = compose.reminder(to, "reminder-7d", ITEMS, LETTERHEAD, NOW)
    headers = message.as_bytes().split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers
    assert reparse(message)["Bcc"] is None
    assert reparse(message)["To"].addresses[0].addr_spec == "a@minfin.example.kz"


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("kind", ["reminder", "due", "escalation"])
def test_deadline_messages_carry_the_personal_link_in_both_parts(kind, language):
    url = "https://deadlines.example.gov.kz/l/MXxhQGIua3p8MTY3MDU1NTYwMHww.Zm9v"
    letterhead = compose.Letterhead("scheduler@ministry.example.kz", "Жоспар", "https://deadlines.example.gov.kz",
                                    personal_url=url, link_until=dt.date(2023, 1, 7))
    to = compose.Recipient("aigul@minfin.example.kz", "Айгүл Серікова", language)
    message = reparse(compose.COMPOSERS[kind](to, "due", ITEMS, letterhead, NOW))
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"\n{url}\n" in text and f'href="{url}"' in html
    until = {"kk": "2023 жылғы 7 қаңтар.", "ru": "до 7 января 2023 г.", "en": "until 7 January 2023."}[language]
    assert until in text
    assert text.index(url) < text.index("7:finance:2022"), "the link comes before the list, where a phone shows it"


NOTICE_AT = dt.datetime(2022, 12, 6, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=6)))
NOTICE_WORDS = {  # (kind, language): what the subject says
    ("answer-received", "kk"): "2 іс-шара бойынша жауап келді", ("answer-received", "ru"): "Поступили ответы",
    ("answer-received", "en"): "Answers received: 2 deadlines",
    ("answer-returned", "kk"): "Жауап пысықтауға қайтарылды", ("answer-returned", "ru"): "Ответ возвращён на доработку",
    ("answer-returned", "en"): "Answer returned",
    ("extension-granted", "kk"): "Орындау мерзімі ұзартылды", ("extension-granted", "ru"): "Срок исполнения продлён",
    ("extension-granted", "en"): "Deadline extended",
    ("extension-refused", "kk"): "Мерзімді ұзартудан бас тартылды", ("extension-refused", "ru"): "В продлении срока отказано",
    ("extension-refused", "en"): "Extension refused",
}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("kind", ["answer-received", "answer-returned", "extension-granted", "extension-refused"])
def test_notices(kind, language):
    """Each notice kind in each language: the contract headers (the kind as the step), what the
    event says — the reason, the dates, the letter — escaped in HTML; the secretariat's with links
    to the occurrences and the queue, an agency's with the recipient's personal link."""
    base, url = "https://deadlines.example.gov.kz", "https://deadlines.example.gov.kz/l/MXxh.Zm9v"
    received = kind == "answer-received"
    letterhead = compose.Letterhead("scheduler@ministry.example.kz", "Жоспар", base,
                                    personal_url=None if received else url, link_until=dt.date(2023, 1, 7))
    notices = [
        compose.Notice(ITEMS[0], NOTICE_AT, f"{base}/occurrences/7:finance:2022", reason="Кесте <жоқ>",
                       received=NOTICE_AT if received else None, ref="12-3/45", ref_date=dt.date(2022, 12, 5),
                       documents=2, previous_due=dt.date(2022, 12, 1) if kind == "extension-granted" else None,
                       requested=dt.date(2022, 12, 20)),
        compose.Notice(ITEMS[1], NOTICE_AT, f"{base}/occurrences/6:finance:2022"),
    ]
    to = compose.Recipient("aigul@minfin.example.kz", "" if received else "Айгүл Серікова", language)
    message = reparse(compose.notice(kind, to, notices, letterhead, NOW, review_url=f"{base}/review" if received else None))
    assert message["X-Scheduler-Step"] == kind
    assert message["X-Scheduler-Occurrences"] == "6:finance:2022, 7:finance:2022"  # same time: by id
    assert NOTICE_WORDS[(kind, language)] in message["Subject"] and "\n" not in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Кесте <жоқ>" in text and "Кесте &lt;жоқ&gt;" in html and "<жоқ>" not in html
    assert SUBJECT_WORDS[language] in text, "the due date, in the language's long form"
    assert ("20 " in text) and "7:finance:2022" in text and "6:finance:2022" in text
    if received:
        assert f"{base}/review" in text and f'href="{base}/review"' in html
        assert f"{base}/occurrences/7:finance:2022" in text and f'href="{base}/occurrences/6:finance:2022"' in html
        assert "12-3/45" in text and "/l/" not in text
    else:
        assert f"\n{url}\n" in text and f'href="{url}"' in html
        assert text.index(url) < text.index("7:finance:2022"), "the link comes before the list, where a phone shows it"
        assert "/occurrences/" not in text
    attached = [p.get_content_type() for p in message.iter_attachments()]
    assert attached == (["text/calendar"] if kind == "extension-granted" else [])



@pytest.mark.parametrize(("language", "subject"), [
    ("kk", "Мерзімді ұзартудан бас тартылды (12 іс-шара)"),
    ("ru", "В продлении срока отказано (мероприятий: 12)"),
])
def test_a_long_subject_keeps_every_space(language, subject):
    """A subject too long for one encoded word is split into several; no space may be lost between
    them (Python's own folding loses the one at the split: "бас тартылды" read as "бастартылды")."""
    to = compose.Recipient("aigul@minfin.example.kz", "Айгүл", language)
    notices = [compose.Notice(ITEMS[0], NOTICE_AT, "u", reason="r")] * 12
    for message in (compose.notice("extension-refused", to, notices, LETTERHEAD, NOW),
                    compose.reminder(to, "reminder-7d", ITEMS * 6, LETTERHEAD, NOW)):
        raw = message.as_bytes().split(b"\n\n", 1)[0]
        assert b"Subject: =?utf-8?" in raw and all(len(line) <= 78 for line in raw.split(b"\n"))
        assert reparse(message)["Subject"] == message["Subject"] == " ".join(message["Subject"].split())
    assert reparse(compose.notice("extension-refused", to, notices, LETTERHEAD, NOW))["Subject"] == subject
    reminder = reparse(compose.reminder(to, "reminder-7d", ITEMS * 6, LETTERHEAD, NOW))["Subject"]
    assert reminder == {"kk": "Еске салу: орындау мерзімі 2022 жылғы 9 желтоқсан (12 іс-шара)",
                        "ru": "Напоминание: срок исполнения 9 декабря 2022 г. (мероприятий: 12)"}[language]
