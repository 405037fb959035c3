"""Answering a deadline on SQLite and PostgreSQL: events and state in one transaction, two actors at
once, returns that resume the ladder, extensions that move it, and what status, reports and feeds
make of each state. Real aiosmtpd on loopback, the shipped plan, the clock passed in."""

import datetime as dt
import threading

import pytest
from icalendar import Calendar
from sqlalchemy import text
from sqlmodel import func, select

import scheduler.answers
from scheduler.answers import Actor
from scheduler.answers.files import check_upload
from scheduler.app import answer, standing
from scheduler.app.digest import report as digest_report
from scheduler.app.tick import tick
from scheduler.errors import Conflict, IllegalTransition, NotPermitted
from scheduler.feeds import serve, tokens
from scheduler.plan import load_contacts, load_plan
from scheduler.store.db import connect, migrate, session
from scheduler.store.sync import sync
from scheduler.store.tables import EventRow, FileRow, NotificationRow, OccurrenceRow, SubmissionRow
from tests.conftest import SHIPPED_PLAN
from tests.integration.queries import due_between
from tests.integration.test_delivery import ALMATY, at, daily, delivered, ledger

OID = "7:finance:2022"
AIGUL = "aigul@minfin.example.kz"


def act(service, action, when, oid=OID, **extra):
    extra.setdefault("reason", f"{action} for a reason")
    return answer.act(service.engine, service.timing, oid, action, now=when, **extra)


def submit(service, when, oid=OID, **extra):
    return answer.submit(service.engine, service.timing, oid, at=extra.pop("at", when), now=when, **extra)


def occurrence(service, oid=OID) -> OccurrenceRow:
    with session(service.engine) as db:
        return db.get(OccurrenceRow, oid)


def counts(service):
    with session(service.engine) as db:
        return tuple(db.exec(select(func.count()).select_from(table)).one() for table in (EventRow, SubmissionRow, FileRow))


def to_aigul(mailbox, oid=OID):
    return [(day, step) for day, step, to in delivered(mailbox, oid) if to == AIGUL]


def test_every_action_is_an_event_and_the_state_its_fold(database_url, make_service):
    service = make_service(database_url)
    pdf = check_upload("Хат 12-3-45.pdf", b"%PDF-1.7 the letter", 20 << 20)
    done = submit(service, at(12, 9, 17), at=at(12, 9, 16, 30), ref="12-3/45", ref_date=dt.date(2022, 12, 8),
                  text="Ақпарат жіберілді", uploads=[pdf], actor=Actor("aigul@minfin.example.kz", "focal", frozenset({"finance"})))
    assert (done.before, done.after, done.repeat, done.next_step_at) == ("open", "submitted", False, None)
    act(service, "return", at(12, 12), reason="the table is missing")
    submit(service, at(12, 13), ref="12-3/46")
    act(service, "accept", at(12, 14), actor=Actor("reviewer@gov.kz", "reviewer"), client="203.0.113.7")
    shown = answer.show(service.engine, OID, ALMATY)
    assert shown["state"] == "accepted" == occurrence(service).state
    assert [(e["action"], e["from_state"], e["to_state"], e["actor"]) for e in shown["events"]] == [
        ("submit", "open", "submitted", "aigul@minfin.example.kz"),
        ("return", "submitted", "returned", "operator"),
        ("submit", "returned", "submitted", "operator"),
        ("accept", "submitted", "accepted", "reviewer@gov.kz"),
    ]
    first, returned, _, accepted = shown["events"]
    assert first["ref"] == "12-3/45" and first["ref_date"] == "2022-12-08" and first["text"] == "Ақпарат жіберілді"
    assert first["files"] == [{"name": "Хат 12-3-45.pdf", "content_type": "application/pdf", "size": 19,
                               "sha256": pdf.sha256}]
    assert returned["reason"] == "the table is missing" and accepted["client"] == "203.0.113.7"
    assert shown["submission"]["ref"] == "12-3/46" and shown["submission"]["files"] == []
    assert occurrence(service).version == 4
    # nothing is deleted: both answers and the document are kept; the state is the fold of the log
    with session(service.engine) as db:
        assert [s.ref for s in db.exec(select(SubmissionRow).order_by(SubmissionRow.id))] == ["12-3/45", "12-3/46"]
        stored = db.exec(select(FileRow)).one()
        assert (stored.name, bytes(stored.content), stored.uploaded_by) == ("Хат 12-3-45.pdf", b"%PDF-1.7 the letter",
                                                                            "aigul@minfin.example.kz")
        events = db.exec(select(EventRow).where(EventRow.occurrence_id == OID).order_by(EventRow.id)).all()
    assert scheduler.answers.fold(answer._changes(events)).state == "accepted"


def test_a_refused_action_records_nothing(database_url, make_service):
    service = make_service(database_url)
    before = counts(service), occurrence(service).version
    with pytest.raises(IllegalTransition, match=f"{OID} is open: cannot accept it: nothing has been submitted"):
        act(service, "accept", at(12, 9))
    with pytest.raises(NotPermitted, match="observer"):
        submit(service, at(12, 9), actor=Actor("gov@office.kz", "observer"))
    assert (counts(service), occurrence(service).version) == before


def test_events_and_state_are_written_in_one_transaction(database_url, make_service, monkeypatch):
    """A failure after the occurrence's UPDATE (here: writing the event) leaves neither the new state,
    nor the submission, nor the event."""
    service = make_service(database_url)
    before = counts(service)

    def broken(**_):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(answer, "EventRow", broken)
    with pytest.raises(RuntimeError):
        submit(service, at(12, 9), ref="12-3/45")
    row = occurrence(service)
    assert (row.state, row.version, row.submission_id, counts(service)) == ("open", 0, None, before)
    assert row.next_step_at is not None, "the ladder still runs"


def test_two_reviewers_at_once_cannot_both_win(database_url, make_service, monkeypatch):
    """Both read the occurrence in version 1 (a barrier holds them after reading, before writing);
    one accepts, the other returns: exactly one is recorded, the other gets Conflict."""
    service = make_service(database_url)
    submit(service, at(12, 9))
    decide, barrier = scheduler.answers.decide, threading.Barrier(2, timeout=30)

    def both_have_read(*args, **kwargs):
        decision = decide(*args, **kwargs)
        barrier.wait()
        return decision

    monkeypatch.setattr(scheduler.answers, "decide", both_have_read)
    outcomes: dict[str, object] = {}

    def reviewer(action):
        try:
            outcomes[action] = act(service, action, at(12, 12), actor=Actor(f"{action}@gov.kz", "reviewer"))
        except Exception as error:  # noqa: BLE001 - the test looks at what each got
            outcomes[action] = error

    threads = [threading.Thread(target=reviewer, args=(action,)) for action in ("accept", "return")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    won = [a for a, o in outcomes.items() if isinstance(o, answer.Outcome)]
    lost = [o for o in outcomes.values() if isinstance(o, Conflict)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert "was changed by someone else meanwhile" in str(lost[0]) and OID in str(lost[0])
    row = occurrence(service)
    assert row.state == {"accept": "accepted", "return": "returned"}[won[0]] and row.version == 2
    with session(service.engine) as db:
        assert [e.action for e in db.exec(select(EventRow).order_by(EventRow.id))] == ["submit", won[0]]


def test_a_page_seen_before_someone_else_acted_is_refused(database_url, make_service):
    service = make_service(database_url)
    seen = submit(service, at(12, 9)).version
    act(service, "accept", at(12, 12), expected_version=seen)
    with pytest.raises(Conflict, match="it is now accepted"):
        act(service, "return", at(12, 12, 10), expected_version=seen)
    assert occurrence(service).state == "accepted"


def test_a_returned_answer_resumes_the_ladder_from_the_next_step(database_url, smtp_server, make_service, tmp_path):
    """Submitted on the due day; the 1-working-day escalation (12 December, 09:00) passes while it is
    submitted. Returned at 10:00 that day: that escalation is history, the next one (19 December)
    goes out. Returned at 08:00 instead (another occurrence), the escalation of 09:00 goes out."""
    service = make_service(database_url, smtp_server)
    daily(service, dt.date(2022, 12, 1), dt.date(2022, 12, 9))
    for oid in (OID, "6:finance:2022"):
        submit(service, at(12, 9, 17), oid=oid)
    daily(service, dt.date(2022, 12, 10), dt.date(2022, 12, 11))
    returned = act(service, "return", at(12, 12, 10), reason="incomplete")
    assert returned.next_step_at == at(12, 19)
    act(service, "return", at(12, 12, 8), oid="6:finance:2022", reason="incomplete")
    # a sync meanwhile (SIGHUP) must not bring the passed step back from the ledger
    sync(service.engine, service.plan, load_contacts(tmp_path / "contacts.csv", service.plan), at(12, 12, 8, 30))
    daily(service, dt.date(2022, 12, 12), dt.date(2022, 12, 20))
    mailbox = smtp_server.mailbox
    assert to_aigul(mailbox) == [("2022-12-01", "reminder-14d"), ("2022-12-02", "reminder-7d"),
                                 ("2022-12-08", "reminder-1wd"), ("2022-12-09", "due")]
    assert ("2022-12-19", "escalation-5wd", "head@minfin.example.kz") in delivered(mailbox, OID)
    assert not [d for d in delivered(mailbox, OID) if d[1] == "escalation-1wd"], "history is not sent"
    assert ("2022-12-12", "escalation-1wd", AIGUL) in delivered(mailbox, "6:finance:2022")
    assert occurrence(service).state == "returned" and occurrence(service).next_step_at is None, "the ladder is done"


def test_an_extension_gets_its_own_ladder_and_a_sent_escalation_is_not_repeated(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    daily(service, dt.date(2022, 11, 20), dt.date(2022, 12, 5))  # 14 and 7 days before 9 December went out
    extended = act(service, "extend", at(12, 5, 12), until=dt.date(2022, 12, 20), reason="letter No. 5 of 5 Dec")
    assert (extended.due, extended.plan_due, extended.next_step_at) == (dt.date(2022, 12, 20), dt.date(2022, 12, 9), at(12, 6))
    daily(service, dt.date(2022, 12, 6), dt.date(2022, 12, 21))
    assert to_aigul(smtp_server.mailbox) == [
        ("2022-11-25", "reminder-14d"), ("2022-12-02", "reminder-7d"),  # for 9 December
        ("2022-12-06", "reminder-14d"), ("2022-12-13", "reminder-7d"),  # for 20 December, although sent for the 9th
        ("2022-12-19", "reminder-1wd"), ("2022-12-20", "due"),
        ("2022-12-21", "escalation-1wd"),
    ]
    # the others of the Ministry of Finance kept their dates and were escalated on 12 December
    assert ("2022-12-12", "escalation-1wd", AIGUL) in delivered(smtp_server.mailbox, "6:finance:2022")


def test_revoking_an_extension_does_not_repeat_what_went_out_for_the_plans_date(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    daily(service, dt.date(2022, 12, 1), dt.date(2022, 12, 12))  # the 1-working-day escalation for 9 Dec went out
    act(service, "extend", at(12, 12, 10), until=dt.date(2022, 12, 20))
    daily(service, dt.date(2022, 12, 13), dt.date(2022, 12, 13))  # the 7-day reminder for the 20th
    revoked = act(service, "revoke-extension", at(12, 13, 12), reason="granted by mistake")
    assert (revoked.due, revoked.next_step_at) == (dt.date(2022, 12, 9), at(12, 19))
    daily(service, dt.date(2022, 12, 14), dt.date(2022, 12, 23))
    assert [d for d in delivered(smtp_server.mailbox, OID) if d[1].startswith("escalation")] == [
        ("2022-12-12", "escalation-1wd", AIGUL),
        ("2022-12-12", "escalation-1wd", "ivanov@minfin.example.kz"),
        ("2022-12-19", "escalation-5wd", "head@minfin.example.kz"),
    ]
    assert ("2022-12-13", "reminder-7d") in to_aigul(smtp_server.mailbox)
    with session(service.engine) as db:
        keys = [(r.step, r.recipient, r.due) for r in db.exec(select(NotificationRow).where(NotificationRow.occurrence_id == OID))]
    assert len(keys) == len(set(keys))


def test_a_notification_waiting_for_its_retry_is_withdrawn_when_the_date_moves(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    smtp_server.mailbox.answer = "451 4.3.0 try again later"
    tick(service, at(11, 25))
    smtp_server.mailbox.answer = None
    act(service, "extend", at(11, 25, 10), until=dt.date(2022, 12, 20))
    tick(service, at(11, 25, 12))
    rows = [r for r in ledger(service) if r.occurrence_id == OID and not r.event_id]  # the ladder's, not notices
    assert {(r.step, r.due, r.state, r.reason) for r in rows} == {
        ("reminder-14d", dt.date(2022, 12, 9), "withdrawn", "the due date moved to 2022-12-20")}
    assert not to_aigul(smtp_server.mailbox)
    assert delivered(smtp_server.mailbox, "6:finance:2022"), "the others went out"


def test_sync_keeps_an_extension_and_tracks_the_plans_own_date(database_url, make_service, tmp_path):
    service = make_service(database_url)
    act(service, "extend", at(12, 5), until=dt.date(2022, 12, 20))
    sequence = occurrence(service).sequence
    again = sync(service.engine, service.plan, None, at(12, 6))
    row = occurrence(service)
    assert (again.moved, row.due, row.plan_due, row.extended_until, row.sequence) == (
        0, dt.date(2022, 12, 20), dt.date(2022, 12, 9), dt.date(2022, 12, 20), sequence)

    def plan_with_day(day):
        path = tmp_path / f"day{day}.toml"
        source = SHIPPED_PLAN.read_text(encoding="utf-8")
        start = source.index('id = "7"\n')
        rule = 'due = { kind = "annual", month = 12, day = 10 }'
        path.write_text(source[:start] + source[start:].replace(rule, rule.replace("10", str(day)), 1), encoding="utf-8")
        return load_plan(path)

    fifteenth = plan_with_day(15)
    sync(service.engine, fifteenth, None, at(12, 6))
    row = occurrence(service)
    assert (row.due, row.plan_due, row.nominal_due) == (dt.date(2022, 12, 20), dt.date(2022, 12, 15), dt.date(2022, 12, 15))
    assert occurrence(service, "7:mvd:2022").due == dt.date(2022, 12, 15), "not extended: moved with the plan"
    revoked = act(service, "revoke-extension", at(12, 7))
    assert revoked.due == dt.date(2022, 12, 15) == occurrence(service).due, "revoking restores the plan's (new) date"
    assert occurrence(service).sequence == sequence + 1


def test_status_reports_and_feeds_follow_the_state(database_url, make_service):
    service = make_service(database_url)
    now = at(12, 20, 10)
    token = tokens.issue(service.engine, now, agency="finance")
    ids = {s: f"{n}:finance:2022" for s, n in (("submitted", 6), ("accepted", 7), ("returned", 23), ("closed", 17))}
    for oid in ids.values():
        submit(service, at(12, 8), oid=oid)
    act(service, "accept", at(12, 9), oid=ids["accepted"])
    act(service, "return", at(12, 9), oid=ids["returned"])
    act(service, "close", at(12, 9), oid=ids["closed"], reason="not applicable to the Ministry")
    act(service, "extend", at(12, 9), oid="8.4:finance:2022", until=dt.date(2023, 1, 31))

    events = {str(e["UID"]).split("@")[0]: e for e in Calendar.from_ical(serve.feed(service, token, now).body).walk("VEVENT")}
    marked = {oid for oid, e in events.items() if str(e["SUMMARY"]).startswith("✓ ")}
    assert {ids["submitted"], ids["accepted"]} <= marked and ids["returned"] not in marked
    extended = events["8.4:finance:2022"]
    assert extended.decoded("DTSTART") == dt.date(2023, 1, 31) and int(extended["SEQUENCE"]) == 1

    # finance owes six in 2022: the closed one is not owed, the extended one is due in 2023
    finance = next(r for r in standing.compliance(service, 2022, now) if r.agency == "finance")
    assert (finance.owed, finance.on_time, finance.missing) == (4, 2, 2)  # missing: returned, and res-3.2
    assert next(r for r in standing.compliance(service, 2023, now) if r.agency == "finance").pending >= 1
    status = {row[0]: row[1:] for row in standing.by_agency(service, now)}
    assert status["finance"][3] == 2, "submitted counts submitted and accepted; returned is owed again"
    with session(service.engine) as db:
        digest = digest_report(service, db, now, "digest:2022-W51", "en")
    finance = next(a for a in digest.agencies if a.code == "finance")
    assert (finance.returned, finance.review) == (1, 1), "returned is owed again; submitted waits for review"
    days = due_between(service, dt.date(2022, 12, 9), dt.date(2022, 12, 9))[dt.date(2022, 12, 9)]
    done = {oid for oid, _, nothing_owed in days if nothing_owed}
    assert done >= {ids["submitted"], ids["accepted"], ids["closed"]} and ids["returned"] not in done


def test_an_older_database_with_submissions_migrates_to_states_and_events(database_url):
    """A database written before answers had states: its submission becomes a submit event and the
    occurrence's state; revoking what never was is refused; the schema equals the models."""
    from alembic import command
    from alembic.config import Config

    from scheduler.store.db import MIGRATIONS

    engine = connect(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    stamp = dt.datetime(2022, 12, 9, 11, 30, tzinfo=dt.timezone.utc)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO occurrence (id, obligation, agency, period, nominal_due, due, recipient, title_kk, status, "
            "sequence, next_step_at, created_at, updated_at) VALUES ('7:finance:2022', '7', 'finance', '2022', "
            "'2022-12-10', '2022-12-09', NULL, 'title', 'active', 0, NULL, :t, :t)"), {"t": stamp})
        connection.execute(text("INSERT INTO submission (occurrence_id, submitted_at, note, recorded_at) "
                                "VALUES ('7:finance:2022', :t, 'No. 12-3/45', :t)"), {"t": stamp})
    migrate(engine)
    shown = answer.show(engine, OID, ALMATY)
    assert shown["state"] == "submitted" and shown["submission"]["note"] == "No. 12-3/45"
    assert shown["submission"]["at"] == "2022-12-09T17:30:00+06:00"
    assert [(e["action"], e["actor"], e["to_state"]) for e in shown["events"]] == [("submit", "operator", "submitted")]
    engine.dispose()


def test_a_cancelled_occurrence_takes_no_action(database_url, make_service, tmp_path):
    service = make_service(database_url)
    source = SHIPPED_PLAN.read_text(encoding="utf-8")
    start = source.index('id = "7"\n')
    smaller = tmp_path / "smaller.toml"
    smaller.write_text(source[:start] + source[start:].replace('["finance", "mvd", "gpo"]', '["mvd", "gpo"]', 1),
                       encoding="utf-8")
    sync(service.engine, load_plan(smaller), None, at(12, 1))
    with pytest.raises(IllegalTransition, match=f"{OID} is cancelled: cannot record a submission: it left the plan"):
        submit(service, at(12, 2))
    assert answer.show(service.engine, OID, ALMATY)["state"] == "cancelled"
