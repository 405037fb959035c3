"""The coordinator's Monday digest against a real database (SQLite, and PostgreSQL when one answers):
per-agency counts, the top items, links to the dashboard's filtered views, the history from before
the system started in one line, and a size that fits whatever the backlog (Gmail clips at ~100 KB)."""

from __future__ import annotations

import datetime as dt
import email
import re
from collections import Counter
from email import policy
from email.policy import SMTP
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import select

from scheduler.answers import LADDER_RUNS, RETURNED, SUBMITTED
from scheduler.app import digest as use_case
from scheduler.app.digest import report as digest_report
from scheduler.app.tick import tick
from scheduler.notify import compose
from scheduler.notify.items import letterhead
from scheduler.store.db import session
from scheduler.store.tables import NotificationRow, OccurrenceRow

ALMATY = ZoneInfo("Asia/Almaty")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "emails"
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
LIMIT = 100_000  # Gmail clips a message at about 102 KB
BASE = "http://127.0.0.1:8080"
MONDAY = dt.datetime(2024, 3, 4, 9, 0, tzinfo=ALMATY)  # after the plan's last deadline: everything owed is overdue
STATES = {"overdue", "open", "submitted", "returned", "accepted", "closed"}


def reparse(message):
    return email.message_from_bytes(message.as_bytes(policy=SMTP), policy=policy.default)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])


def hrefs(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def big_backlog(service, failures: int = 400) -> None:
    """The system has run since March 2021 (a first email sent then), nothing was ever answered, and
    hundreds of emails failed last week: every occurrence of the plan, all 47 agencies', is overdue."""
    started = dt.datetime(2021, 3, 1, 9, 0, tzinfo=ALMATY)
    with session(service.engine) as db:
        db.add(NotificationRow(occurrence_id="digest:2021-W09", step="digest", recipient="askar@mvd.example.kz",
                               due=started.date(), name="Асқар", language="kk", agency="labour",
                               scheduled_at=started, sent_at=started, state="sent"))
        for n in range(failures):
            db.add(NotificationRow(occurrence_id=f"{n % 40 + 1}:akimat-{n}:2024", step="escalation-5wd",
                                   recipient=f"focal{n}@akimat.example.kz", due=dt.date(2024, 2, 9), name=f"Focal {n}",
                                   language="ru", agency="finance", scheduled_at=MONDAY - dt.timedelta(days=2, minutes=n),
                                   state="failed", error="550 5.1.1 <focal@akimat.example.kz>: mailbox unavailable " * 4))


def render(service, language, now=MONDAY, key="digest:2024-W10"):
    with session(service.engine) as db:
        report = digest_report(service, db, now, key, language)
    to = compose.Recipient("coordinator@mvd.example.kz", "Асқар Нұрланов", language)
    return report, compose.digest(to, report, letterhead(service, language, now), now)


def test_a_big_backlog_fits_in_one_unclipped_email(database_url, make_service, tmp_path):
    service = make_service(database_url)
    big_backlog(service)
    with session(service.engine) as db:
        rows = db.exec(select(OccurrenceRow).where(OccurrenceRow.status == "active")).all()
    owed = [r for r in rows if r.state in LADDER_RUNS and r.due < MONDAY.date()]
    assert len(owed) > 1000 and len({r.agency for r in owed}) == 47
    owed = [r for r in owed if r.agency not in service.plan.placeholders]  # listed, never counted in the digest

    # the real path: Monday's tick writes the digest to the coordinator's focal point and sends it
    tick(service, MONDAY)
    files = [f for f in sorted((tmp_path / "mail" / "new").glob("*.eml"))
             if email.message_from_bytes(f.read_bytes(), policy=policy.default)["X-Scheduler-Step"] == "digest"]
    assert len(files) == 1
    raw = files[0].read_bytes()
    assert len(raw) < LIMIT, f"the digest is {len(raw)} bytes"
    sent = email.message_from_bytes(raw, policy=policy.default)
    assert sent["X-Scheduler-Step"] == "digest"

    for language in ("kk", "ru", "en"):
        report, message = render(service, language)
        assert len(message.as_bytes(policy=SMTP)) < LIMIT
        # counts per agency, right: every one of the 47 bodies but the 2 placeholders, the most late first
        assert report.overdue == len(owed) and report.history == 0
        expected = Counter(r.agency for r in owed)
        assert {a.code: a.overdue for a in report.agencies} == expected
        assert len(report.agencies) == 45
        assert [a.overdue for a in report.agencies] == sorted((a.overdue for a in report.agencies), reverse=True)
        # the top items: the most overdue first, each listed in the header
        top = [line.item.occurrence_id for line in report.top_overdue]
        earliest = [r.id for r in sorted(owed, key=lambda r: (r.due, r.id))][: use_case.TOP_OVERDUE]
        assert top == earliest
        parsed = reparse(message)
        assert parsed["X-Scheduler-Occurrences"] == ", ".join(top)
        assert report.failures == 400 and len(report.failure_examples) == use_case.FAILURE_EXAMPLES
        text = parsed.get_body(("plain",)).get_content()
        html = parsed.get_body(("html",)).get_content()
        assert "focal0@akimat.example.kz" in text and "focal399@akimat.example.kz" not in text  # the latest first, the rest summarised
        assert "395" in text  # "… and 395 more"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"digest.{language}.html").write_text(html, encoding="utf-8")
        (ARTIFACTS / f"digest.{language}.txt").write_text(text, encoding="utf-8")
        check_links(html, text, language, top)
        if language != "kk":
            # apart from people's names and the plan's own Russian names of two oblasts (the official
            # "область Жетісу", "область Ұлытау"), not one Kazakh letter
            words = (parsed["Subject"] + text + html).replace("Асқар Нұрланов", "")
            for code in ("akimat-jetisu", "akimat-ulytau"):
                if service.plan.agency(code):
                    words = words.replace(service.plan.display_name(code, MONDAY.date(), language), "")
            assert not KAZAKH_LETTERS & set(words), \
                {c: words[max(0, words.find(c) - 40):words.find(c) + 10] for c in KAZAKH_LETTERS & set(words)}


def check_links(html: str, text: str, language: str, top: list[str]) -> None:
    links = hrefs(html)
    assert links and all(link in text for link in links), "the plain text carries the same links"
    pages = []
    for link in links:
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == BASE
        if parts.path == "/":
            query = parse_qs(parts.query, strict_parsing=True)
            assert set(query) <= {"agency", "state", "year", "month", "lang"} and query["lang"] == [language]
            assert all(len(v) == 1 for v in query.values())
            assert set(query.get("state", ["overdue"])) <= STATES
            assert re.fullmatch(r"\d{4}-\d{2}", query.get("month", ["2024-03"])[0])
        else:
            assert parts.path.startswith("/occurrences/") and not parts.query
            pages.append(unquote(parts.path.removeprefix("/occurrences/")))
    assert pages[: len(top)] == top
    assert f"{BASE}/?agency=finance&state=overdue&lang={language}" in links
    assert f"{BASE}/?state=overdue&lang={language}" in links


def test_counts_of_answers_waiting_and_returned(database_url, make_service):
    service = make_service(database_url)
    big_backlog(service, failures=0)
    with session(service.engine) as db:
        for oid, state in (("7:finance:2022", SUBMITTED), ("6:finance:2022", RETURNED), ("7:mvd:2022", SUBMITTED)):
            row = db.get(OccurrenceRow, oid)
            row.state = state
            db.add(row)
    report, message = render(service, "ru")
    agencies = {a.code: a for a in report.agencies}
    assert (agencies["finance"].review, agencies["finance"].returned) == (1, 1)
    assert (agencies["mvd"].review, report.review, report.returned) == (1, 2, 1)
    text = reparse(message).get_body(("plain",)).get_content()
    assert "Ответы, ожидающие проверки: 2" in text and "Возвращено на доработку: 1" in text
    assert "на проверке 1 · возвращено 1" in text


def test_history_before_the_first_tick_is_one_line(database_url, smtp_server, make_service):
    """A deployment in November 2022 of a plan adopted in 2021: the deadlines that fell due before
    its first tick and were never answered are counted in one line, not listed."""
    service = make_service(database_url, smtp_server)
    tick(service, dt.datetime(2022, 11, 21, 9, 0, tzinfo=ALMATY))  # the first tick, a Monday
    tick(service, dt.datetime(2022, 11, 28, 9, 0, tzinfo=ALMATY))
    digest = smtp_server.mailbox.by_step("digest")[-1]
    text = digest.get_body(("plain",)).get_content()
    with session(service.engine) as db:
        touched = set(db.exec(select(NotificationRow.occurrence_id)))
        rows = db.exec(select(OccurrenceRow).where(OccurrenceRow.status == "active", OccurrenceRow.state == "open",
                                                   OccurrenceRow.due < dt.date(2022, 11, 21))).all()
    history = [r.id for r in rows if r.id not in touched and r.agency not in service.plan.placeholders]
    assert len(history) > 500
    line = f"Жүйе іске қосылғанға дейін (2022 жылғы 21 қараша) мерзімі өтіп кеткен, жауап берілмеген мерзімдер: {len(history)}"
    assert line in text
    listed = set(digest["X-Scheduler-Occurrences"].split(", ")) | set(re.findall(r"/occurrences/(\S+)", text))
    assert listed and not listed & set(history)
    with session(service.engine) as db:
        report = digest_report(service, db, dt.datetime(2022, 11, 28, 9, 0, tzinfo=ALMATY), "digest:2022-W48", "ru")
    assert report.history == len(history) and report.started == dt.date(2022, 11, 21)
    assert sum(a.overdue for a in report.agencies) == report.overdue  # the history counted nowhere else
    _, message = render(service, "ru", dt.datetime(2022, 11, 28, 9, 0, tzinfo=ALMATY), "digest:2022-W48")
    ru = reparse(message).get_body(("plain",)).get_content()
    assert f"{len(history)} сроков наступили до запуска системы (21 ноября 2022 г.) и остались без ответа" in ru
