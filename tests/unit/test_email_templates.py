"""Every message kind renders in every language, with the contract headers and safe content."""

import datetime as dt
import email
from email import policy

import pytest
from icalendar import Calendar

from scheduler.notify import compose
from scheduler.notify import notices as notice_mail
from scheduler.notify import items as parts

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
    # the link opens her page on this email's deadlines, in its order; each item's own page opens
    # through it, without a session
    focus = url + "?items=" + ",".join(i.occurrence_id for i in compose.in_plan_order(ITEMS))
    assert f"\n{focus}\n" in text and f'href="{focus}"' in html
    for item in ITEMS:
        assert f"{url}?next=/occurrences/{item.occurrence_id}\n" in text
        assert f'href="{url}?next=/occurrences/{item.occurrence_id}"' in html
    until = {"kk": "2023 жылғы 7 қаңтар.", "ru": "до 7 января 2023 г.", "en": "until 7 January 2023."}[language]
    assert until in text
    assert text.index(focus) < text.index("next=/occurrences/"), "the link comes before the list, where a phone shows it"


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
    ("answer-acknowledged", "kk"): "Жауабыңыз келіп түсті (2 іс-шара)", ("answer-acknowledged", "ru"): "Ваш ответ получен",
    ("answer-acknowledged", "en"): "Your answer received: 2 deadlines",
    ("answer-accepted", "kk"): "Жауап қабылданды (2 іс-шара)", ("answer-accepted", "ru"): "Ответ принят (2 мероприятия)",
    ("answer-accepted", "en"): "Answer accepted: 2 deadlines",
    ("deadline-closed", "kk"): "Бақылаудан алынды (2 іс-шара)", ("deadline-closed", "ru"): "Снято с контроля (2 мероприятия)",
    ("deadline-closed", "en"): "Removed from control: 2 deadlines",
    ("deadline-reopened", "kk"): "Шешімнің күші жойылды (2 іс-шара)", ("deadline-reopened", "ru"): "Решение отменено",
    ("deadline-reopened", "en"): "Decision undone: 2 deadlines",
}
AGENCY_NOTICES = ["answer-acknowledged", "answer-accepted", "answer-returned", "deadline-closed", "deadline-reopened",
                  "extension-granted", "extension-refused"]


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("kind", ["answer-received", *AGENCY_NOTICES])
def test_notices(kind, language):
    """Each notice kind in each language: the contract headers (the kind as the step), what the
    event says — the reason, the dates, the letter — escaped in HTML; the secretariat's with links
    to the occurrences and the queue, an agency's with the recipient's personal link."""
    base, url = "https://deadlines.example.gov.kz", "https://deadlines.example.gov.kz/l/MXxh.Zm9v"
    received = kind == "answer-received"
    letterhead = compose.Letterhead("scheduler@ministry.example.kz", "Жоспар", base,
                                    personal_url=None if received else url, link_until=dt.date(2023, 1, 7))
    receipt = kind in ("answer-received", "answer-acknowledged")
    notices = [
        notice_mail.Notice(ITEMS[0], NOTICE_AT, f"{base}/occurrences/7:finance:2022", reason="Кесте <жоқ>",
                       received=NOTICE_AT if receipt else None, ref="12-3/45", ref_date=dt.date(2022, 12, 5),
                       documents=2, previous_due=dt.date(2022, 12, 1) if kind == "extension-granted" else None,
                       requested=dt.date(2022, 12, 20)),
        notice_mail.Notice(ITEMS[1], NOTICE_AT, f"{base}/occurrences/6:finance:2022"),
    ]
    to = compose.Recipient("aigul@minfin.example.kz", "" if received else "Айгүл Серікова", language)
    message = reparse(notice_mail.notice(kind, to, notices, letterhead, NOW, review_url=f"{base}/review" if received else None))
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
        # the link opens her page on these deadlines, in the email's order
        focus = url + "?items=" + message["X-Scheduler-Occurrences"].replace(", ", ",")
        assert f"\n{focus}\n" in text and f'href="{focus}"' in html
        assert text.index(url) < text.index("7:finance:2022"), "the link comes before the list, where a phone shows it"
        # each deadline links to its own page through the personal link: it opens without a session
        assert f"{url}?next=/occurrences/7:finance:2022" in text and f'href="{url}?next=/occurrences/6:finance:2022"' in html
    assert "(7:finance:2022)" not in text and ">7:finance:2022<" not in html, "no raw ids for people to read"
    attached = [p.get_content_type() for p in message.iter_attachments()]
    assert attached == (["text/calendar"] if kind == "extension-granted" else [])



@pytest.mark.parametrize(("language", "subject"), [
    ("kk", "Мерзімді ұзартудан бас тартылды (12 іс-шара)"),
    ("ru", "В продлении срока отказано (12 мероприятий)"),
])
def test_a_long_subject_keeps_every_space(language, subject):
    """A subject too long for one encoded word is split into several; no space may be lost between
    them (Python's own folding loses the one at the split: "бас тартылды" read as "бастартылды")."""
    to = compose.Recipient("aigul@minfin.example.kz", "Айгүл", language)
    notices = [notice_mail.Notice(ITEMS[0], NOTICE_AT, "u", reason="r")] * 12
    for message in (notice_mail.notice("extension-refused", to, notices, LETTERHEAD, NOW),
                    compose.reminder(to, "reminder-7d", ITEMS * 6, LETTERHEAD, NOW)):
        raw = message.as_bytes().split(b"\n\n", 1)[0]
        assert b"Subject: =?utf-8?" in raw and all(len(line) <= 78 for line in raw.split(b"\n"))
        assert reparse(message)["Subject"] == message["Subject"] == " ".join(message["Subject"].split())
    assert reparse(notice_mail.notice("extension-refused", to, notices, LETTERHEAD, NOW))["Subject"] == subject
    reminder = reparse(compose.reminder(to, "reminder-7d", ITEMS * 6, LETTERHEAD, NOW))["Subject"]
    assert reminder == {"kk": "Мерзімі 14 күннен кейін (2022 жылғы 9 желтоқсан): 12 іс-шара",
                        "ru": "Срок через 14 дней (9 декабря 2022 г.): 12 мероприятий"}[language]


# --- one template per kind, through the catalogs; emails that read well ------------------------------

import re  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from scheduler.app import people, signin  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from scheduler.store.tables import OccurrenceRow  # noqa: E402

KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
NAME = "Айгүл Серікова"  # a person's name keeps its letters in every language
DEADLINE_KINDS = [("reminder", "reminder-14d"), ("due", "due"), ("escalation", "escalation-1wd")]
NOTICE_KINDS = ["answer-received", *AGENCY_NOTICES]
# A focal point's news of one tick, of several kinds: one email ("decisions"), each deadline saying what happened.
DECISIONS = ["answer-returned", "extension-granted", "answer-accepted", "deadline-closed", "deadline-reopened",
             "answer-acknowledged"]
# (obligation, agency, recipient): a heading's sub-row by a body by agreement, a ministry's row with
# the working body as recipient, an akimat, the Government as recipient, a resolution paragraph
ROWS = [("17", "finance", "mvd"), ("8.2", "knb", "mvd"), ("6", "finance", None), ("8.1", "mvd", "mvd"),
        ("23", "akimat-akmola", None), ("res-3.2", "labour", "government")]


def fake_service(plan, **settings):
    """What `notify.items.item` and `letterhead` read: the plan, the settings, the calendar."""
    fake = SimpleNamespace(plan=plan, settings=Settings(mail_from="scheduler@ministry.example.kz", **settings),
                           timing=SimpleNamespace(local_day=lambda moment: moment.date()))
    fake.sender_name = lambda language, now=NOW: parts.sender_name(fake, language, now)
    return fake


def plan_items(plan, language, rows=ROWS, due=dt.date(2022, 12, 9)):
    fake = fake_service(plan)
    found = []
    for obligation, agency, recipient in rows:
        row = OccurrenceRow(id=f"{obligation}:{agency}:2022", obligation=obligation, agency=agency, period="2022",
                            nominal_due=due, due=due, recipient=recipient,
                            title_kk=plan.obligation(obligation).title_kk if plan.obligation(obligation) else "x")
        found.append(parts.item(fake.plan, row, language))
    return found


def every_email(plan, language, **settings):
    """One email of every kind in `language`, built as the daemon builds them (items and letterhead
    from the shipped plan), with the recipient's personal link."""
    fake = fake_service(plan, **settings)
    link = ("https://deadlines.example.gov.kz/l/MXxh.Zm9v", dt.date(2023, 1, 7))
    letterhead = parts.letterhead(fake, language, NOW, "https://deadlines.example.gov.kz/feeds/t.ics", link)
    items = plan_items(plan, language)
    to = compose.Recipient("aigul@minfin.example.kz", NAME, language)
    sent_at = {"reminder": NOW, "due": dt.datetime(2022, 12, 9, 3, tzinfo=dt.timezone.utc),
               "escalation": dt.datetime(2022, 12, 16, 3, tzinfo=dt.timezone.utc)}  # 14 days before, the day, 5 working days late
    emails = {kind: compose.COMPOSERS[kind](to, step, items, letterhead, sent_at[kind]) for kind, step in DEADLINE_KINDS}
    reasons = ({"answer-returned": "Кесте толтырылмаған", "extension-granted": "Хат № 5, 5 желтоқсан",
                "deadline-closed": "Іс-шара бұл органға қолданылмайды", "deadline-reopened": "Қате қабылданды"}
               if language == "kk" else  # a reason is the secretariat's own words, in the reader's language here
               {"answer-returned": "Таблица не заполнена", "extension-granted": "Письмо № 5 от 5 декабря",
                "deadline-closed": "Мероприятие к органу не относится", "deadline-reopened": "Принято ошибочно"})
    for kind in NOTICE_KINDS:
        received = kind == "answer-received"
        new = kind in ("answer-acknowledged", "answer-accepted", "deadline-closed", "deadline-reopened")
        notices = [notice_mail.Notice(item, NOTICE_AT, f"https://deadlines.example.gov.kz/occurrences/{item.occurrence_id}",
                                  reason=reasons.get(kind) if new else "—",
                                  received=NOTICE_AT if kind in ("answer-received", "answer-acknowledged") else None,
                                  ref="12-3/45", ref_date=dt.date(2022, 12, 5), documents=1,
                                  previous_due=dt.date(2022, 12, 1) if kind == "extension-granted" else None,
                                  requested=None if new else dt.date(2022, 12, 20), state="returned") for item in items]
        head = letterhead if not received else parts.letterhead(fake, language, NOW)
        emails[kind] = notice_mail.notice(kind, to, notices, head, NOW,
                                      review_url="https://deadlines.example.gov.kz/review" if received else None)
    emails["decisions"] = notice_mail.notice("answer-accepted", to, [
        notice_mail.Notice(item, NOTICE_AT, f"https://deadlines.example.gov.kz/occurrences/{item.occurrence_id}",
                       reason=reasons.get(kind), kind=kind, state="submitted",
                       received=NOTICE_AT if kind == "answer-acknowledged" else None, ref="12-3/45",
                       ref_date=dt.date(2022, 12, 5), documents=2,
                       previous_due=dt.date(2022, 12, 1) if kind == "extension-granted" else None,
                       requested=dt.date(2022, 12, 20) if kind == "extension-granted" else None)
        for item, kind in zip(items, DECISIONS, strict=True)], letterhead, NOW)
    person = people.Person(email="aigul@minfin.example.kz", name=NAME, language=language)
    issued = signin.Issued(person, "T0KEN", dt.datetime(2022, 12, 9, 3, 15, tzinfo=dt.timezone.utc))
    emails["sign-in"] = signin.message(issued, "https://deadlines.example.gov.kz", "scheduler@ministry.example.kz",
                                       ZoneInfo("Asia/Almaty"), dt.datetime(2022, 12, 9, 3, 0, tzinfo=dt.timezone.utc),
                                       sender_name=fake.sender_name(language))
    return {kind: reparse(message) for kind, message in emails.items()}


def words_of(message):
    """Subject, both parts and the calendar attachment's text."""
    parts = [message["Subject"], str(message["From"]), message.get_body(("plain",)).get_content(),
             message.get_body(("html",)).get_content()]
    parts += [p.get_content() if isinstance(p.get_content(), str) else p.get_content().decode()
              for p in message.iter_attachments()]
    return "\n".join(parts)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_kind_renders_from_one_template_in_every_language(shipped_plan, language):
    from scheduler.templating import templates_dir

    folder = templates_dir() / "email"
    for kind in [k for k, _ in DEADLINE_KINDS] + NOTICE_KINDS + ["decisions", "sign-in"]:
        assert (folder / f"{kind}.j2").is_file() and not list(folder.glob(f"{kind}.??.j2")), kind
    emails = every_email(shipped_plan, language)
    assert len(emails) == 13
    for kind, message in emails.items():
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert message["Subject"] and text.strip() and f'<html lang="{language}">' in html, kind
        assert "%(" not in words_of(message) and "{{" not in words_of(message), kind
        assert NAME in text, kind


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_kazakh_in_russian_or_english_emails_but_peoples_names(shipped_plan, language):
    """Labels, dates, bodies' names, the plan's titles and forms, the sender and the .ics: all in the
    reader's language; the plan's translated words are said to be a working translation."""
    for kind, message in every_email(shipped_plan, language).items():
        words = words_of(message).replace(NAME, "")
        assert KAZAKH_LETTERS.findall(words) == [], (kind, [line for line in words.splitlines() if KAZAKH_LETTERS.search(line)][:3])
        if kind != "sign-in":
            footnote = {"ru": "рабочий перевод", "en": "working translation"}[language]
            assert footnote in message.get_body(("plain",)).get_content(), kind


def test_kazakh_emails_carry_no_translation_footnote_and_short_names_in_the_calendar(shipped_plan):
    emails = every_email(shipped_plan, "kk")
    assert "аударма" not in emails["reminder"].get_body(("plain",)).get_content()
    calendar = next(p for p in emails["reminder"].iter_attachments()).get_content()
    calendar = calendar if isinstance(calendar, str) else calendar.decode()
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(calendar).walk("VEVENT")]
    assert "Қаржымині: 17. " in "\n".join(summaries) and "ҰҚК: 8.2. " in "\n".join(summaries)
    russian = next(p for p in every_email(shipped_plan, "ru")["reminder"].iter_attachments()).get_content()
    russian = russian if isinstance(russian, str) else russian.decode()
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(russian).walk("VEVENT")]
    assert any(s.startswith("Министерство финансов: 17. ") for s in summaries), summaries


def test_the_sender_is_named_and_replies_go_to_the_secretariat(shipped_plan):
    for language, name in (("kk", "ВАК жұмыс органы"), ("ru", "Рабочий орган МВК"),
                           ("en", "Working body of the Interdepartmental Commission")):
        message = every_email(shipped_plan, language)["due"]
        assert message["From"].addresses[0].display_name == name
        assert message["From"].addresses[0].addr_spec == "scheduler@ministry.example.kz"
        assert message["Reply-To"] is None
    chosen = every_email(shipped_plan, "ru", mail_from_name="Секретариат МВК", reply_to="secretariat@mvd.gov.kz")
    for kind, message in chosen.items():
        assert message["From"].addresses[0].display_name == "Секретариат МВК", kind
        if kind != "sign-in":
            assert message["Reply-To"].addresses[0].addr_spec == "secretariat@mvd.gov.kz", kind
            assert "secretariat@mvd.gov.kz" in message.get_body(("plain",)).get_content(), kind


SUBJECTS = {  # (kind, days from NOW's day to the due date or working days late): the subject's start
    "kk": ["Мерзімі 14 күннен кейін (2022 жылғы 9 желтоқсан): 2 іс-шара", "Мерзімі ертең", "Мерзімі бүгін",
           "Мерзімінен 1 жұмыс күні өтті", "Мерзімінен 3 жұмыс күні өтті", "Мерзімінен 5 жұмыс күні өтті"],
    "ru": ["Срок через 14 дней (9 декабря 2022 г.): 2 мероприятия", "Срок завтра", "Срок сегодня",
           "Просрочено на 1 рабочий день", "Просрочено на 3 рабочих дня", "Просрочено на 5 рабочих дней"],
    "en": ["Due in 14 days (9 December 2022): 2 obligations", "Due tomorrow", "Due today",
           "Overdue by 1 working day", "Overdue by 3 working days", "Overdue by 5 working days"],
}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_subjects_say_the_urgency_the_same_way_in_every_language(language):
    due = dt.date(2022, 12, 9)  # a Friday
    at = lambda day: dt.datetime.combine(day, dt.time(3), tzinfo=dt.timezone.utc)  # noqa: E731
    cases = [("reminder", due - dt.timedelta(days=14)), ("reminder", due - dt.timedelta(days=1)), ("due", due),
             ("escalation", dt.date(2022, 12, 12)), ("escalation", dt.date(2022, 12, 14)), ("escalation", dt.date(2022, 12, 16))]
    to = compose.Recipient("aigul@minfin.example.kz", "Айгүл", language)
    for (kind, day), expected in zip(cases, SUBJECTS[language], strict=True):
        subject = reparse(compose.COMPOSERS[kind](to, kind, ITEMS, LETTERHEAD, at(day)))["Subject"]
        assert subject.startswith(expected), (subject, expected)
    # the plan's working days when the daemon counts them: 16 December is a public holiday
    holiday = lambda earlier, later: 4  # noqa: E731 - what the Kazakh calendar says for 9 → 19 December
    subject = reparse(compose.escalation(to, "escalation-5wd", ITEMS, LETTERHEAD, at(dt.date(2022, 12, 19)),
                                         working_days=holiday))["Subject"]
    assert subject.startswith(SUBJECTS[language][5].replace("5", "4").replace("рабочих дней", "рабочих дня"))


def test_items_come_in_the_plans_order_with_their_headings(shipped_plan):
    for language in ("kk", "ru"):
        items = plan_items(shipped_plan, language, rows=[(o, "mvd", None) for o in ("17", "23", "6", "8.2", "8.1", "res-3.2", "9")])
        message = reparse(compose.reminder(compose.Recipient("a@mvd.kz", "A", language), "reminder-7d", items, LETTERHEAD, NOW))
        order = [i.split(":")[0] for i in message["X-Scheduler-Occurrences"].split(", ")]
        assert order == ["6", "8.1", "8.2", "9", "17", "23", "res-3.2"]
        text = message.get_body(("plain",)).get_content()
        positions = [text.index(f"/occurrences/{o}:mvd:2022") for o in order]  # each item's own page
        assert positions == sorted(positions)
        assert ":mvd:2022)" not in text, "no raw ids for people to read"
        heading = {"kk": "8. Кешенді, бірлескен", "ru": "8. Проведение комплексных"}[language]
        # the heading row's title once, above its sub-rows 8.1 and 8.2
        assert text.count(heading) == 1 and text.index(heading) < positions[1] < positions[2]
        html = message.get_body(("html",)).get_content()
        assert html.count(heading) == 1


@pytest.mark.parametrize(("role", "agreement", "words"), [
    ("focal", False, "Просим представить информацию в кратчайшие сроки."),
    ("focal", True, "Будем признательны, если вы представите информацию в ближайшее время."),
    ("supervisor", False, "Просим взять их исполнение на контроль."),
    ("head", False, "как руководитель ответственного органа"),
    ("recipient", False, "Для сведения: следующие органы не представили в ваш адрес"),
    ("coordinator", True, "участвуют в исполнении плана по согласованию"),
])
def test_escalations_speak_to_the_reader(role, agreement, words):
    items = [compose.Item("8.2:knb:2022", "8.2", "Комитет национальной безопасности", "по перекрытию каналов", None,
                          dt.date(2022, 12, 9), None, by_agreement=agreement)]
    to = compose.Recipient("a@b.kz", "Пётр", "ru", role=role)
    message = reparse(compose.escalation(to, "escalation-5wd", items, LETTERHEAD, dt.datetime(2022, 12, 16, 3, tzinfo=dt.timezone.utc)))
    text = message.get_body(("plain",)).get_content()
    assert words in text
    if role != "focal":
        assert "Просим представить информацию" not in text, "an order only to the body that owes it"


def test_a_body_by_agreement_is_asked_not_told():
    items = [compose.Item("8.2:knb:2022", "8.2", "ҰҚК", "x", None, dt.date(2022, 12, 9), None, by_agreement=True)]
    for language, words in (("ru", "по согласованию"), ("kk", "келісу бойынша"), ("en", "by agreement")):
        to = compose.Recipient("a@b.kz", "A", language)
        for composer in (compose.reminder, compose.due_today):
            text = reparse(composer(to, "reminder-7d", items, LETTERHEAD, NOW)).get_body(("plain",)).get_content()
            assert words in text


def test_the_email_catalog_wins_over_the_pages_where_they_translate_an_id_differently(shipped_plan):
    """"Received" is "Келген уақыты" in an email (when the letter came), whatever a page calls it."""
    text = every_email(shipped_plan, "kk")["answer-received"].get_body(("plain",)).get_content()
    assert "Келген уақыты: 2022 жылғы 6 желтоқсан, 15:30" in text
    text = every_email(shipped_plan, "ru")["answer-received"].get_body(("plain",)).get_content()
    assert "Поступил: 6 декабря 2022 г., 15:30" in text


# --- an agency's news of one tick, whatever happened: one email ----------------------------------------

RAW_CODES = [re.compile(r"\b[\w.-]+:[a-z][a-z-]*:\d{4}(-[QH]\d|-\d\d-\d\d)?\b"), re.compile(r"\bres-\d"),
             re.compile(r"\b\d{4}-[QH]\d\b")]  # occurrence ids, the resolution's codes, period labels


def people_read(text):
    """What people read: the text without the links' addresses (which carry ids for machines)."""
    return re.sub(r"https?://\S+", "", text)


@pytest.mark.parametrize(("language", "subject", "said"), [
    ("kk", ("Жауап пысықтауға қайтарылды; орындау мерзімі ұзартылды; жауап қабылданды; бақылаудан алынды; "
            "соңғы шешімнің күші жойылды; жауабыңыз келіп түсті (6 іс-шара)"),
     ["Жауап пысықтауға қайтарылды:", "Орындау мерзімі ұзартылды:", "Жауап қабылданды:", "Бақылаудан алынды:",
      "Соңғы шешімнің күші жойылды:", "Жауабыңыз келіп түсті:", "Жауабыңыз қайтадан хатшылықтың қарауын күтуде.",
      "Себебі: Кесте толтырылмаған", "Жаңа мерзімі: 2022 жылғы 9 желтоқсан", "Мерзімі: 2022 жылғы 9 желтоқсан",
      "Қаулының 3.2-тармағы"]),
    ("ru", ("Ответ возвращён на доработку; срок исполнения продлён; ответ принят; снято с контроля; "
            "последнее решение отменено; ваш ответ получен (6 мероприятий)"),
     ["Ответ возвращён на доработку:", "Срок исполнения продлён:", "Ответ принят:", "Снято с контроля:",
      "Последнее решение отменено:", "Ваш ответ получен:", "Ваш ответ снова ожидает рассмотрения секретариатом.",
      "Причина: Таблица не заполнена", "Новый срок: 9 декабря 2022 г.", "Срок: 9 декабря 2022 г.",
      "П. 3.2 постановления"]),
])
def test_news_of_several_kinds_make_one_email_each_deadline_saying_what_happened(shipped_plan, language, subject, said):
    message = every_email(shipped_plan, language)["decisions"]
    assert message["X-Scheduler-Step"] == "decisions" and message["Subject"] == subject
    assert sorted(message["X-Scheduler-Occurrences"].split(", ")) == sorted(f"{o}:{a}:2022" for o, a, _ in ROWS)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for words in said:
        assert words in text, words
    link = "https://deadlines.example.gov.kz/l/MXxh.Zm9v"
    focus = link + "?items=" + message["X-Scheduler-Occurrences"].replace(", ", ",")
    assert f"\n{focus}\n" in text and f'href="{focus}"' in html
    for obligation, agency, _ in ROWS:  # each deadline's own page, through her link, after what happened to it
        url = f"{link}?next=/occurrences/{obligation}:{agency}:2022"
        assert url in text and f'href="{url}"' in html and text.index(focus) < text.index(url)
    assert text.count(f": {link}?next=/occurrences/") == len(ROWS)
    for part in (text, html):
        assert [p.pattern for p in RAW_CODES if p.search(people_read(part))] == [], "no raw codes for people to read"
    (calendar,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    events = Calendar.from_ical(calendar.get_content()).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["8.2:knb:2022@obligation-scheduler"], "the extended deadline's new date only"


def test_a_notice_of_many_events_stays_small_and_counts_the_rest(shipped_plan):
    """A bulk closing or a day of answers: as many as fit are listed, the rest counted; the subject and
    the header count them all."""
    items = plan_items(shipped_plan, "ru", rows=[(str(n), "mvd", None) for n in range(1, 37) if n != 8])
    notices = [notice_mail.Notice(item, NOTICE_AT, f"https://deadlines.example.gov.kz/occurrences/{item.occurrence_id}",
                              reason="Не относится к компетенции органа. " * 55, kind=kind)
               for item in items for kind in ("deadline-closed", "answer-acknowledged")]
    letterhead = compose.Letterhead("scheduler@ministry.example.kz", "Жоспар", "https://deadlines.example.gov.kz",
                                    personal_url="https://deadlines.example.gov.kz/l/MXxh.Zm9v")
    message = notice_mail.notice("deadline-closed", compose.Recipient("a@mvd.kz", "Асқар", "ru"), notices, letterhead, NOW)
    assert len(message.as_bytes()) <= notice_mail.NOTICE_BUDGET < 100 * 1024
    assert message["Subject"] == "Снято с контроля; ваш ответ получен (35 мероприятий)"
    assert len(message["X-Scheduler-Occurrences"].split(", ")) == 35
    text = reparse(message).get_body(("plain",)).get_content()
    shown = text.count("Открыть: https://")
    assert 1 < shown < 70 and f"Ещё {70 - shown} " in text and "История каждого мероприятия — на его странице." in text
