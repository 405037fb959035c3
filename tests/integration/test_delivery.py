"""Ticks against a real SMTP server on loopback, on SQLite and on PostgreSQL, with the clock passed in."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from sqlmodel import select

from scheduler.app import notices
from scheduler.app.answer import operator_submit
from scheduler.app.simulate import simulate
from scheduler.app.tick import tick
from scheduler.store.db import session
from scheduler.store.tables import NotificationRow

ALMATY = ZoneInfo("Asia/Almaty")
NOT_LADDER = frozenset({"digest", *notices.STEPS})  # the notices' steps, `decisions` too


def at(month, day, hour=9, minute=0, year=2022):
    return dt.datetime(year, month, day, hour, minute, tzinfo=ALMATY)


def daily(service, first, last):
    day = first
    while day <= last:
        tick(service, dt.datetime.combine(day, dt.time(9, 0), tzinfo=ALMATY))
        day += dt.timedelta(days=1)


def ledger(service):
    with session(service.engine) as db:
        return list(db.exec(select(NotificationRow)))


def delivered(mailbox, occurrence):
    """(local date, step, recipient) of every ladder email that lists the occurrence (not the digest,
    nor the notices that answers cause: tests/integration/test_notices.py)."""
    found = []
    for message in mailbox.messages:
        if message["X-Scheduler-Step"] not in NOT_LADDER and occurrence in [i.strip() for i in message["X-Scheduler-Occurrences"].split(",")]:
            sent = message["Date"].datetime.astimezone(ALMATY).date()
            found.append((sent.isoformat(), message["X-Scheduler-Step"], message["To"].addresses[0].addr_spec))
    return sorted(found)


def test_the_whole_ladder_across_a_weekend_and_a_holiday(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    daily(service, dt.date(2022, 11, 20), dt.date(2022, 12, 24))
    mailbox = smtp_server.mailbox
    assert delivered(mailbox, "7:finance:2022") == [
        ("2022-11-25", "reminder-14d", "aigul@minfin.example.kz"),
        ("2022-12-02", "reminder-7d", "aigul@minfin.example.kz"),
        ("2022-12-08", "reminder-1wd", "aigul@minfin.example.kz"),
        ("2022-12-09", "due", "aigul@minfin.example.kz"),
        ("2022-12-12", "escalation-1wd", "aigul@minfin.example.kz"),  # Monday after the weekend
        ("2022-12-12", "escalation-1wd", "ivanov@minfin.example.kz"),
        ("2022-12-19", "escalation-5wd", "head@minfin.example.kz"),  # 16 December is a holiday
    ]
    # 6:finance:2022 goes to the commission's working body (the Ministry of Internal Affairs in 2022)
    assert ("2022-12-19", "escalation-5wd", "askar@mvd.example.kz") in delivered(mailbox, "6:finance:2022")
    # the prosecutor's office is "by agreement": its second escalation goes to the coordinator, not its head
    gpo = delivered(mailbox, "7:gpo:2022")
    assert ("2022-12-19", "escalation-5wd", "askar@mvd.example.kz") in gpo
    assert not [row for row in gpo if row[2] == "head@gpo.example.kz"]
    # one email per recipient and step, listing all its occurrences; never twice the same notification
    first_reminder = [m for m in mailbox.to("aigul@minfin.example.kz") if m["X-Scheduler-Step"] == "reminder-14d"]
    assert len(first_reminder) == 1 and first_reminder[0]["X-Scheduler-Occurrences"].count(":finance:2022") == 5
    keys = Counter(
        (occurrence.strip(), m["X-Scheduler-Step"], m["To"].addresses[0].addr_spec)
        for m in mailbox.messages
        if m["X-Scheduler-Step"] != "digest"
        for occurrence in m["X-Scheduler-Occurrences"].split(",")
    )
    assert max(keys.values()) == 1
    # languages: Kazakh for the Ministry of Finance's focal point, Russian for its supervisor
    assert "желтоқсан" in first_reminder[0]["Subject"]
    assert "декабря" in mailbox.to("ivanov@minfin.example.kz")[0].get_body(("plain",)).get_content()
    # Monday digests to the coordinator
    assert {m["Subject"].split(",")[0] for m in mailbox.by_step("digest")} == {"Апталық шолу"}
    # 21 and 28 Nov, 5, 12, 19 Dec; not 14 Nov's, which the first tick (Sunday 20 Nov) finds 6 days late
    digests = sorted(m["Date"].datetime.astimezone(ALMATY).date().isoformat() for m in mailbox.by_step("digest"))
    assert digests == ["2022-11-21", "2022-11-28", "2022-12-05", "2022-12-12", "2022-12-19"]


def test_ticks_are_idempotent(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    first = tick(service, at(11, 25))
    again = tick(service, at(11, 25))
    later = tick(service, at(11, 25, 9, 1))
    assert first.sent > 0 and again.sent == later.sent == 0
    assert len(smtp_server.mailbox.messages) == first.emails


def test_a_submission_stops_every_later_step(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    daily(service, dt.date(2022, 12, 1), dt.date(2022, 12, 9))
    operator_submit(service, "7:finance:2022", at(12, 9, 17), "sent by letter", at(12, 9, 17))
    daily(service, dt.date(2022, 12, 10), dt.date(2022, 12, 24))
    steps = [step for _, step, _ in delivered(smtp_server.mailbox, "7:finance:2022")]
    # on 1 December the 14-day reminder (25 November) is the latest step due: caught up once
    assert steps == ["reminder-14d", "reminder-7d", "reminder-1wd", "due"]
    assert "escalation-1wd" in [s for _, s, _ in delivered(smtp_server.mailbox, "6:finance:2022")]


def test_catch_up_after_a_gap_sends_only_the_latest_step(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    tick(service, at(12, 13, 10))
    assert delivered(smtp_server.mailbox, "7:finance:2022") == [
        ("2022-12-13", "escalation-1wd", "aigul@minfin.example.kz"),
        ("2022-12-13", "escalation-1wd", "ivanov@minfin.example.kz"),
    ]
    skipped = {(r.step, r.reason) for r in ledger(service) if r.occurrence_id == "7:finance:2022" and r.state == "skipped"}
    assert skipped == {(s, "superseded by a later step") for s in ("reminder-14d", "reminder-7d", "reminder-1wd", "due")}
    # the years before are not mailed one by one, nor listed: the digest counts them in one line
    old = [m for m in smtp_server.mailbox.messages if ":2021" in m["X-Scheduler-Occurrences"]]
    assert old == []
    digest = smtp_server.mailbox.by_step("digest")[-1].get_body(("plain",)).get_content()
    assert "Жүйе іске қосылғанға дейін (2022 жылғы 13 желтоқсан) мерзімі өтіп кеткен" in digest


def test_a_4xx_answer_is_retried_with_backoff(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    smtp_server.mailbox.answer = "451 4.3.0 try again later"
    report = tick(service, at(11, 25))
    assert report.sent == 0 and report.retrying > 0
    assert {r.state for r in ledger(service) if r.step == "reminder-14d"} == {"retry"}
    smtp_server.mailbox.answer = None
    assert tick(service, at(11, 25, 9, 0)).sent == 0  # backoff: not yet
    retried = tick(service, at(11, 25, 9, 2))
    assert retried.sent == report.retrying
    assert {r.state for r in ledger(service) if r.step == "reminder-14d"} == {"sent"}
    assert tick(service, at(11, 25, 9, 30)).sent == 0


def test_delivery_resumes_after_the_server_was_down(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    smtp_server.stop()
    down = tick(service, at(11, 25))
    assert down.sent == 0 and down.retrying > 0
    smtp_server.start()
    backoff = [tick(service, at(11, 25, 9, minute)).sent for minute in (1, 3, 10)]
    assert sum(backoff) == down.retrying
    assert len(smtp_server.mailbox.messages) == down.emails


def test_a_5xx_answer_is_final_and_recorded(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    smtp_server.mailbox.answer = "550 5.1.1 no such user"
    report = tick(service, at(11, 25))
    assert report.failed > 0 and report.retrying == 0
    failed = [r for r in ledger(service) if r.state == "failed"]
    assert failed and all("550 5.1.1 no such user" in r.error for r in failed)
    smtp_server.mailbox.answer = None
    assert tick(service, at(11, 26)).sent == 0 or all(r.state == "failed" for r in ledger(service) if r.step == "reminder-14d")
    refused = smtp_server.mailbox.refused
    tick(service, at(11, 28))  # Monday: the digest reports the failure
    digest = smtp_server.mailbox.by_step("digest")[-1]
    assert "550 5.1.1 no such user" in digest.get_body(("plain",)).get_content()
    assert smtp_server.mailbox.refused == refused


def test_maildir_is_the_default_delivery(database_url, make_service, tmp_path):
    service = make_service(database_url)
    report = tick(service, at(11, 25))
    files = sorted((tmp_path / "mail" / "new").glob("*.eml"))
    assert report.emails == len(files) > 0
    import email
    from email import policy

    steps = {email.message_from_bytes(f.read_bytes(), policy=policy.default)["X-Scheduler-Step"] for f in files}
    assert steps == {"reminder-14d"}  # Monday's digest, four days late on Friday, is skipped


def test_a_digest_days_late_is_skipped_not_sent_on_the_wrong_weekday(database_url, make_service, tmp_path, caplog):
    """A fresh database on a Sunday: last Monday's digest is recorded as skipped, with a log line."""
    import logging

    service = make_service(database_url)
    with caplog.at_level(logging.INFO, logger="scheduler"):
        tick(service, at(11, 27))  # Sunday
    names = [f.name for f in (tmp_path / "mail" / "new").glob("*.eml")]
    assert names, "the day's reminders went out"
    import email
    from email import policy

    steps = {email.message_from_bytes(f.read_bytes(), policy=policy.default)["X-Scheduler-Step"]
             for f in (tmp_path / "mail" / "new").glob("*.eml")}
    assert "digest" not in steps
    assert any("digest 2022-W47 skipped: more than 2 days late" in r.getMessage() for r in caplog.records)
    # Tuesday's tick (a day late) still sends that week's Monday digest
    tick(service, at(11, 29))
    steps = {email.message_from_bytes(f.read_bytes(), policy=policy.default)["X-Scheduler-Step"]
             for f in (tmp_path / "mail" / "new").glob("*.eml")}
    assert "digest" in steps


def test_simulate_agrees_with_what_ticks_send(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    timeline = simulate(service, dt.date(2022, 12, 1), dt.date(2022, 12, 20))
    forecast = {(p.scheduled_at, p.step, p.occurrence_id, p.email) for _, p, state in timeline if state == "to send"}
    assert len(smtp_server.mailbox.messages) == 0, "simulate sends nothing"
    daily(service, dt.date(2022, 12, 1), dt.date(2022, 12, 20))
    sent = {
        (r.scheduled_at, r.step, r.occurrence_id, r.recipient)
        for r in ledger(service)
        if r.state == "sent"
    }
    assert forecast == sent and len(sent) > 100


def next_step(service, occurrence_id):
    from scheduler.store.tables import OccurrenceRow

    with session(service.engine) as db:
        value = db.get(OccurrenceRow, occurrence_id).next_step_at
    return value and value.astimezone(ALMATY)


def test_each_occurrence_points_at_its_next_step(database_url, smtp_server, make_service, tmp_path):
    service = make_service(database_url, smtp_server)
    assert next_step(service, "7:finance:2022") == at(11, 25)  # synced: the first step
    tick(service, at(11, 25))
    assert next_step(service, "7:finance:2022") == at(12, 2)
    tick(service, at(12, 13))  # a gap: steps up to now are handled (sent or skipped)
    assert next_step(service, "7:finance:2022") == at(12, 19)
    operator_submit(service, "7:finance:2022", at(12, 14), None, at(12, 14))
    assert next_step(service, "7:finance:2022") is None
    # a re-sync keeps the submitted one closed and recomputes the others from the ledger
    from scheduler.plan import load_contacts
    from scheduler.store.sync import sync
    from tests.integration.conftest import CONTACTS

    (tmp_path / "c.csv").write_text(CONTACTS, encoding="utf-8")
    sync(service.engine, service.plan, load_contacts(tmp_path / "c.csv", service.plan), at(12, 14))
    assert next_step(service, "7:finance:2022") is None
    assert next_step(service, "7:mvd:2022") == at(12, 19)



def test_what_is_sent_while_the_last_marking_runs_is_marked_before_the_tick_ends(database_url, smtp_server, make_service):
    """The marker's last round: outcomes that arrive while a marking is under way (fewer than a
    marking's batch) are marked when the delivery closes, not left for a timer that no longer runs."""
    import asyncio

    from scheduler.app.deliver import MARK_EVERY, TickReport, _Marker
    from scheduler.store.ledger import claim
    from scheduler.transport import Delivery

    service = make_service(database_url, smtp_server)
    daily(service, dt.date(2022, 11, 21), dt.date(2022, 12, 9))  # the ledger's rows of three weeks
    with session(service.engine) as db:
        db.exec(NotificationRow.__table__.update().values(state="pending", sent_at=None, message_id=None))
    moment = at(12, 9)
    groups = [[row] for row in claim(service.engine, moment, limit=10_000)][: MARK_EVERY + 5]
    assert len(groups) == MARK_EVERY + 5

    async def run():
        marker = _Marker(service.engine, moment, TickReport())
        for group in groups:  # the first MARK_EVERY start a marking; the last 5 arrive while it runs
            marker.add(group, Delivery({"Message-ID": f"<{group[0].id}@test>"}))
        assert marker.running is not None and len(marker.waiting) == 5
        await marker.close()

    asyncio.run(run())
    with session(service.engine) as db:
        states = Counter(db.get(NotificationRow, group[0].id).state for group in groups)
    assert states == {"sent": MARK_EVERY + 5}
