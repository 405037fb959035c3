"""Delivery a ministry can trust: one email per person and step, a bad address fails alone, a moved
date gets its ladder, a corrected one-off keeps its answer, slow servers get each email once.

Real aiosmtpd on loopback, SQLite and PostgreSQL (see conftest), the shipped plan, the clock passed in."""

import datetime as dt
import re
import time
from collections import Counter

from scheduler.app import pages, standing
from scheduler.app.answer import operator_submit
from scheduler.app.simulate import simulate
from scheduler.app.tick import plan_due, tick
from scheduler.feeds import serve
from scheduler.plan import load_contacts, load_plan
from scheduler.store.db import session
from scheduler.store.sync import sync
from scheduler.store.tables import ContactRow, OccurrenceRow
from scheduler.transport import SmtpTransport
from tests.conftest import SHIPPED_PLAN
from tests.integration.conftest import CONTACTS
from tests.integration.test_delivery import ALMATY, at, daily, delivered, ledger
from tests.smtp import SmtpServer


def emails_per_person_step_and_day(mailbox) -> Counter:
    return Counter(
        (m["To"].addresses[0].addr_spec, m["X-Scheduler-Step"], m["Date"].datetime.astimezone(ALMATY).date())
        for m in mailbox.messages
    )


def test_one_email_per_recipient_and_step_however_many_rows(database_url, smtp_server, make_service):
    """On 12 December 2022 the Ministry of Internal Affairs' focal point owes (and receives, as the
    working body) dozens of escalations: one email, not one per claim batch."""
    service = make_service(database_url, smtp_server)
    forecast = simulate(service, dt.date(2022, 12, 1), dt.date(2022, 12, 20))
    predicted_emails = {(f.planned.email, f.planned.step, f.at) for f in forecast if f.state == "to send"}
    daily(service, dt.date(2022, 12, 1), dt.date(2022, 12, 20))
    per_email = emails_per_person_step_and_day(smtp_server.mailbox)
    assert max(per_email.values()) == 1, [k for k, n in per_email.items() if n > 1]
    askar = [m for m in smtp_server.mailbox.to("askar@mvd.example.kz") if m["X-Scheduler-Step"] == "escalation-5wd"]
    assert len(askar) == 1 and askar[0]["X-Scheduler-Occurrences"].count(",") >= 49, "more rows than one claim batch"
    assert len(smtp_server.mailbox.messages) == len(predicted_emails), "simulate and tick agree on the email count"


def test_a_bad_address_fails_alone_and_is_reported(database_url, smtp_server, make_service, tmp_path):
    service = make_service(database_url, smtp_server)
    with session(service.engine) as db:  # e.g. a database kept from before addresses were checked
        db.add(ContactRow(agency="finance", name="Broken", email="broken@@minfin.example.kz", role="focal", language="kk"))
    report = tick(service, at(11, 25))
    assert report.failed >= 5 and report.sent > 0
    assert "aigul@minfin.example.kz" in {m["To"].addresses[0].addr_spec for m in smtp_server.mailbox.messages}
    failed = [r for r in ledger(service) if r.state == "failed"]
    assert {r.recipient for r in failed} == {"broken@@minfin.example.kz"}
    assert all("cannot compose the email" in r.error for r in failed)
    assert not [r for r in ledger(service) if r.state == "claimed"], "nothing left claimed"
    undelivered = standing.undelivered(service, at(11, 26))
    assert [(u[0], u[1]) for u in undelivered] == [("broken@@minfin.example.kz", "reminder-14d")]
    from scheduler import metrics

    assert metrics.registry.get_sample_value("scheduler_emails_failed_total", {"step": "reminder-14d", "kind": "compose"}) >= 1
    daily(service, dt.date(2022, 11, 26), dt.date(2022, 11, 28))  # Monday: the digest names it
    digest = smtp_server.mailbox.by_step("digest")[-1].get_body(("plain",)).get_content()
    assert "broken@@minfin.example.kz" in digest


def test_an_internationalised_address_goes_out_over_smtputf8_or_fails_alone(database_url, make_service, tmp_path):
    """A Cyrillic mailbox name, allowed because SMTPUTF8 was said to work: delivered by a server that
    takes it, and refused alone, with the reason kept, by one that does not."""
    plan = load_plan(SHIPPED_PLAN)
    contacts_file = tmp_path / "utf8.csv"
    contacts_file.write_text(CONTACTS + "health,Айгүл,айгүл@денсаулық.қаз,focal,kk\n", encoding="utf-8")
    address = "айгүл@xn--80ahdziyp9dx5b.xn--80ao21a"  # the domain goes out as punycode
    for smtputf8 in (True, False):
        server = SmtpServer(smtputf8=smtputf8)
        server.start()
        try:
            service = make_service(f"{database_url}" if smtputf8 else database_url.replace("scheduler.db", "other.db"), server)
            if not smtputf8 and database_url.startswith("postgresql"):
                service.engine.dispose()
                return  # one database per test on PostgreSQL: the refusal is checked on SQLite
            sync(service.engine, plan, load_contacts(contacts_file, plan, smtputf8=True), at(11, 1))
            tick(service, at(11, 25))
            # row 24 (health's campaigns) is an event: its period-start step of January, long past, is skipped
            states = {r.state for r in ledger(service) if r.recipient == address and r.state != "skipped"}
            failed = [r.error for r in ledger(service) if r.state == "failed"]
            if smtputf8:
                assert states == {"sent"} and not failed and server.mailbox.to(address)
            else:
                assert states == {"failed"} and all("SMTPUTF8" in e for e in failed)
            assert server.mailbox.to("aigul@minfin.example.kz"), "the others get theirs"
        finally:
            server.stop()


def test_a_moved_due_date_gets_its_own_ladder(database_url, smtp_server, make_service, tmp_path):
    service = make_service(database_url, smtp_server)
    daily(service, dt.date(2022, 11, 20), dt.date(2022, 12, 5))  # 14 and 7 days before 9 December went out
    moved = tmp_path / "moved.toml"
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    seventh = text.index('id = "7"\n')
    rule = 'due = { kind = "annual", month = 12, day = 10 }'
    moved.write_text(text[:seventh] + text[seventh:].replace(rule, 'due = { kind = "annual", month = 12, day = 20 }', 1),
                     encoding="utf-8")
    plan = load_plan(moved)
    report = sync(service.engine, plan, load_contacts(tmp_path.parent / tmp_path.name / "contacts.csv", plan), at(12, 5, 12))
    assert report.moved >= 3
    service.plan = plan
    daily(service, dt.date(2022, 12, 6), dt.date(2022, 12, 14))
    assert [d for d in delivered(smtp_server.mailbox, "7:finance:2022") if d[2] == "aigul@minfin.example.kz"] == [
        ("2022-11-25", "reminder-14d", "aigul@minfin.example.kz"),
        ("2022-12-02", "reminder-7d", "aigul@minfin.example.kz"),
        ("2022-12-06", "reminder-14d", "aigul@minfin.example.kz"),  # for 20 December, now
        ("2022-12-13", "reminder-7d", "aigul@minfin.example.kz"),
    ]
    keys = Counter((r.occurrence_id, r.step, r.recipient, r.due) for r in ledger(service))
    assert max(keys.values()) == 1


def test_correcting_a_one_offs_date_keeps_the_occurrence_and_its_submission(database_url, make_service, tmp_path):
    service = make_service(database_url)
    operator_submit(service, "2:labour:2021-07-01", at(6, 20, year=2021), "No. 1-2/3", at(6, 20, year=2021))
    corrected = tmp_path / "corrected.toml"
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    second = text.index('id = "2"\n')
    corrected.write_text(text[:second] + text[second:].replace("date = 2021-07-01", "date = 2021-07-15", 1), encoding="utf-8")
    plan = load_plan(corrected)
    report = sync(service.engine, plan, None, at(6, 21, year=2021))
    assert report.cancelled == 0 and report.added == 0 and report.moved > 20
    with session(service.engine) as db:
        row = db.get(OccurrenceRow, "2:labour:2021-07-01")
        assert (row.status, row.due, row.sequence) == ("active", dt.date(2021, 7, 15), 1)
        assert db.get(OccurrenceRow, "2:labour:2021-07-15") is None
    assert pages.history(service.engine, "2:labour:2021-07-01")[1].note == "No. 1-2/3"
    again = sync(service.engine, plan, None, at(6, 22, year=2021))
    assert (again.moved, again.added, again.cancelled) == (0, 0, 0), "idempotent"


def test_a_mixed_case_address_gets_its_feed(database_url, smtp_server, make_service, tmp_path):
    plan = load_plan(SHIPPED_PLAN)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(CONTACTS.replace("aigul@minfin.example.kz", "Aigul.Serikova@MinFin.Example.KZ"), encoding="utf-8")
    service = make_service(database_url, smtp_server)
    sync(service.engine, plan, load_contacts(mixed, plan), at(11, 1))
    tick(service, at(11, 25))
    (message,) = smtp_server.mailbox.to("aigul.serikova@minfin.example.kz")
    token = re.search(r"/feeds/([A-Za-z0-9_-]+)\.ics", message.get_body(("plain",)).get_content()).group(1)
    feed = serve.feed(service, token, at(11, 25))
    assert feed is not None and feed.body.count(b"BEGIN:VEVENT") >= 5


def test_a_slow_server_gets_a_retry_it_can_recognise(database_url, smtp_server, make_service):
    """The reply to the end of the data comes after the client stopped waiting: the server kept the
    email, the client retries, and the retry carries the same Message-ID."""
    assert SmtpTransport("mail.example.kz").data_timeout >= 600, "RFC 5321: ten minutes for the end of data"
    service = make_service(database_url, smtp_server)
    service.transport = SmtpTransport("127.0.0.1", smtp_server.port, tls="none", data_timeout=0.5)
    smtp_server.mailbox.slow_reply = 1.0
    tick(service, at(11, 25))
    # The server keeps each email when its data ends, before its late reply; on a busy machine the
    # last may be kept a moment after the client gave up waiting: wait for it, at most 10 s.
    waited = time.monotonic() + 10
    while len(smtp_server.mailbox.messages) < 4 and time.monotonic() < waited:
        time.sleep(0.05)
    first = {m["Message-ID"] for m in smtp_server.mailbox.messages}
    assert len(first) == 4  # the four reminders; Monday's digest, four days late on Friday, is skipped
    # every email the tick tried is to be retried; the training courses' period-start reminders of
    # 3 October (events, rows 31-35) were long past at the first tick and are skipped, not tried
    rows = [r for r in ledger(service) if r.occurrence_id != "digest:2022-W47"]
    assert {(r.step, r.state) for r in rows} == {("reminder-14d", "retry"), ("period-start", "skipped")}
    smtp_server.mailbox.slow_reply = 0
    service.transport = SmtpTransport("127.0.0.1", smtp_server.port, tls="none")
    tick(service, at(11, 25, 9, 5))
    ids = Counter(m["Message-ID"] for m in smtp_server.mailbox.messages)
    assert set(ids) == first and set(ids.values()) == {2}, "each resent email is recognisably the same one"


def test_simulate_shows_what_went_out_in_a_span_already_ticked(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    tick(service, at(12, 2))
    timeline = simulate(service, dt.date(2022, 11, 20), dt.date(2022, 12, 10))
    states = {(f.planned.occurrence_id, f.planned.step, f.planned.email): f.state for f in timeline}
    assert states[("7:finance:2022", "reminder-14d", "aigul@minfin.example.kz")] == "skipped"  # superseded on 2 Dec
    assert states[("7:finance:2022", "reminder-7d", "aigul@minfin.example.kz")] == "sent"
    assert states[("7:finance:2022", "due", "aigul@minfin.example.kz")] == "to send"


def test_an_answer_recorded_while_a_tick_plans_keeps_the_ladder_stopped(database_url, make_service):
    """Another process records the answer between this tick's read and its moving the ladder on."""
    from scheduler.store.ledger import advance

    service = make_service(database_url)
    now = at(11, 25)
    with session(service.engine) as db:
        considered, _ = plan_due(service, db, now)
    assert "7:finance:2022" in {o.id for o in considered}
    operator_submit(service, "7:finance:2022", now, None, now)
    with session(service.engine) as db:
        advance(db, considered, service.timing, now)
    with session(service.engine) as db:
        assert db.get(OccurrenceRow, "7:finance:2022").next_step_at is None
        assert db.get(OccurrenceRow, "7:mvd:2022").next_step_at is not None
