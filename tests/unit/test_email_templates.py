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
    report = compose.DigestReport("2022-W48", overdue=ITEMS, upcoming=ITEMS[:1], failures=["x@y.kz: 550 no such user"],
                                  without_focal=["ngos"], skipped_late=3)
    message = reparse(compose.digest(compose.Recipient("c@mvd.kz", "Coordinator", language), report, LETTERHEAD, NOW))
    assert message["X-Scheduler-Step"] == "digest"
    assert "2022-W48" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "550 no such user" in text and "ngos" in text and "7:finance:2022" in text


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
