"""Deadline emails written as bytes (`Batch`, scheduler/notify/wire.py) say what the
EmailMessage of `reminder`, `due_today` and `escalation` says: the same header lines, byte for byte
(From with its display name, To, Reply-To, the encoded Subject, Date, Message-ID, Auto-Submitted,
the X-Scheduler headers), the same parts once decoded (text, HTML, the .ics), for every recipient
of a shared rendering with her own name and links, escaped in HTML."""

import dataclasses
import datetime as dt
import email
from email import policy

import pytest
from aiosmtplib.email import flatten_message

from scheduler.notify import compose, wire
from scheduler.notify.batch import Batch
from scheduler.transport import Outgoing

NOW = dt.datetime(2022, 11, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=6)))
LETTERHEAD = compose.Letterhead(
    "scheduler@ministry.example.kz", "Жоспар", "http://127.0.0.1:8080", "http://127.0.0.1:8080/feeds/abc.ics",
    "http://127.0.0.1:8080/l/xyz", dt.date(2023, 1, 1), sender_name="Комиссияның жұмыс органы",
    reply_to="secretariat@ministry.example.kz", translation="working")
ITEMS = [
    compose.Item("7:finance:2022", "7", "Қаржымині", "Талдау нәтижелері " * 8, "талдау", dt.date(2022, 12, 9), None),
    compose.Item("8:finance:2022", "8", "Қаржымині <b>", "Short & sweet", None, dt.date(2022, 12, 1), "Үкімет",
                 heading="8. Head", by_agreement=True),
]


def parts(message: email.message.EmailMessage) -> list:
    """(type, filename, decoded content, header names) of every leaf part; line ends as LF."""
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_content()
        if isinstance(content, str):
            content = content.replace("\r\n", "\n")
        found.append((part.get_content_type(), part.get_filename(), content, [k for k, _ in part.items()]))
    return found


def head(data: bytes) -> bytes:
    """The top-level header lines before Content-Type (which carries a random boundary)."""
    return data.split(b"\r\n\r\n")[0].split(b"\r\nContent-Type")[0]


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("role", ["focal", "supervisor", "recipient", "coordinator"])
@pytest.mark.parametrize(("kind", "step"), [("reminder", "reminder-14d"), ("due", "due"), ("escalation", "escalation-1wd")])
def test_the_bytes_say_what_the_email_message_says(kind, step, language, role):
    batch = Batch()
    letterheads = [LETTERHEAD, dataclasses.replace(LETTERHEAD, feed_url=None),
                   dataclasses.replace(LETTERHEAD, reply_to=None, sender_name=None)]
    for n, (name, letterhead, items) in enumerate([
        ("Фокал <Бірінші> & Co", LETTERHEAD, ITEMS),  # the first of a shared rendering…
        ("Екінші Фокал", dataclasses.replace(LETTERHEAD, personal_url="http://127.0.0.1:8080/l/other&x=<1>"), ITEMS),
        ("", letterheads[0], ITEMS[:1]),
        ("Focal Three", letterheads[1], ITEMS),
        ("Focal Four", letterheads[2], ITEMS[:1]),
    ]):
        to = compose.Recipient(f"focal{n}@example.kz", name, language, role)
        message_id = f"<{n:040x}@ministry.example.kz>"
        expected = compose.COMPOSERS[kind](to, step, items, letterhead, NOW, message_id)
        written = batch.deadline(kind, to, step, items, letterhead, NOW, message_id)
        assert isinstance(written, Outgoing) and written.recipients == (to.email,) and written["Message-ID"] == message_id
        assert head(written.data) == head(flatten_message(expected))
        mine = email.message_from_bytes(written.data, policy=policy.default)
        theirs = email.message_from_bytes(flatten_message(expected), policy=policy.default)
        assert mine.keys() == theirs.keys()
        assert parts(mine) == parts(theirs)
        assert written.data.isascii() and max(map(len, written.data.split(b"\r\n"))) <= 78


def test_an_address_that_needs_smtputf8_is_left_to_the_email_package():
    to = compose.Recipient("айгүл@денсаулық.қаз", "Айгүл", "kk")
    written = Batch().deadline("reminder", to, "reminder-14d", ITEMS, LETTERHEAD, NOW, "<1@x>")
    assert isinstance(written, email.message.EmailMessage)


def test_a_header_value_with_a_line_break_is_refused():
    with pytest.raises(ValueError):
        wire.header("X-Scheduler-Step", "due\r\nBcc: someone@example.kz")
    with pytest.raises(ValueError):
        wire.raw("Subject", "=?utf-8?b?0JM=?=\r\nBcc: someone@example.kz")
    batch = Batch()
    to = compose.Recipient("focal@example.kz", "Focal", "en")
    with pytest.raises(ValueError):
        batch.deadline("reminder", to, "due\nBcc: x@example.kz", ITEMS, LETTERHEAD, NOW, "<2@x>")


def test_the_shared_rendering_names_every_letterhead_field():
    """`Batch.deadline` keys a shared rendering on every Letterhead field but the recipient's links:
    a field added to Letterhead must be added to that key too."""
    assert [f.name for f in dataclasses.fields(compose.Letterhead)] == [
        "sender", "plan_title", "base_url", "feed_url", "personal_url", "link_until", "sender_name", "reply_to",
        "translation"]
