"""The store on SQLite and PostgreSQL: idempotent sync, moved and vanished occurrences, claims."""

import datetime as dt
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import select

from scheduler.app import answer
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.notify.ladder import Timing
from scheduler.plan import load_plan
from scheduler.store import ledger
from scheduler.store.db import connect, migrate, session
from scheduler.store.sync import sync
from scheduler.store.tables import NotificationRow, OccurrenceRow, SQLModel, SubmissionRow
from tests.conftest import SHIPPED_PLAN

NOW = dt.datetime(2022, 11, 1, 3, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def engine(database_url):
    engine = connect(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def occurrences(engine):
    with session(engine) as db:
        return {row.id: row for row in db.exec(select(OccurrenceRow))}


def edited_plan(tmp_path, old, new, after=None):
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    assert old in text[start:]
    path = tmp_path / "edited.toml"
    path.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")
    return load_plan(path)


def test_migrations_build_exactly_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_migrate_is_idempotent(engine):
    migrate(engine)
    migrate(engine)


def test_sync_is_idempotent(engine, shipped_plan):
    first = sync(engine, shipped_plan, (), NOW)
    again = sync(engine, shipped_plan, (), NOW + dt.timedelta(hours=1))
    assert first.added == len(occurrences(engine)) == 1690
    assert (again.added, again.moved, again.changed, again.cancelled, again.unchanged) == (0, 0, 0, 0, 1690)


def test_a_moved_due_date_updates_in_place_and_keeps_the_submission(engine, shipped_plan, tmp_path):
    sync(engine, shipped_plan, (), NOW)
    timing = Timing(shipped_plan.policy, WorkdayCalendar("KZ"))
    answer.submit(engine, timing, "7:finance:2022", at=NOW, now=NOW, note="early")
    moved = edited_plan(tmp_path, "month = 12, day = 10", "month = 12, day = 20", after='id = "7"')
    report = sync(engine, moved, None, NOW)
    assert report.moved == 9  # finance, mvd and gpo, for 2021, 2022 and 2023
    row = occurrences(engine)["7:finance:2022"]
    assert (row.nominal_due, row.due, row.sequence, row.state) == (dt.date(2022, 12, 20), dt.date(2022, 12, 20), 1, "submitted")
    with session(engine) as db:
        assert db.get(SubmissionRow, row.submission_id).note == "early"


def test_an_occurrence_that_left_the_plan_is_cancelled_not_deleted(engine, shipped_plan, tmp_path):
    sync(engine, shipped_plan, (), NOW)
    smaller = edited_plan(tmp_path, '["finance", "mvd", "gpo"]', '["finance", "mvd"]', after='id = "7"')
    report = sync(engine, smaller, None, NOW)
    assert report.cancelled == 3
    rows = occurrences(engine)
    assert rows["7:gpo:2022"].status == "cancelled" and len(rows) == 1690
    restored = sync(engine, shipped_plan, None, NOW)
    assert restored.restored == 3 and occurrences(engine)["7:gpo:2022"].status == "active"


def planned_rows(engine, count, per_person=1):
    from scheduler.notify.ladder import Planned

    with session(engine) as db:
        ledger.record(db, [
            Planned(f"x:{n}:{k}", "due", f"p{n}@example.kz", "P", "en", "mvd", NOW.date(), NOW, True)
            for k in range(per_person) for n in range(count)
        ])


def test_recording_the_same_notification_twice_is_a_no_op(engine):
    planned_rows(engine, 3)
    planned_rows(engine, 3)
    with session(engine) as db:
        assert len(db.exec(select(NotificationRow)).all()) == 3


def test_concurrent_claims_take_disjoint_rows(engine):
    planned_rows(engine, 200)
    claimed: list[list[int]] = []

    def worker():
        while rows := ledger.claim(engine, NOW, limit=7):
            claimed.append([r.id for r in rows])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [i for batch in claimed for i in batch]
    assert len(ids) == len(set(ids)) == 200


def test_concurrent_claims_never_split_one_persons_email(engine):
    """All of a recipient's rows for a step come in one claim, however the rows interleave by id."""
    planned_rows(engine, 30, per_person=12)  # ids interleave: person 0, 1, … 29, 0, 1, …
    claims: list[list] = []

    def worker():
        while rows := ledger.claim(engine, NOW, limit=4):
            claims.append(rows)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    owner = {}
    for number, rows in enumerate(claims):
        for row in rows:
            assert owner.setdefault((row.recipient, row.step), number) == number, f"{row.recipient}'s rows split"
    assert len(owner) == 30 and sum(map(len, claims)) == 360
    assert all(len(rows) == 12 * len({r.recipient for r in rows}) for rows in claims)


def test_an_expired_lease_is_claimed_again(engine):
    planned_rows(engine, 2)
    first = ledger.claim(engine, NOW)
    assert len(first) == 2 and ledger.claim(engine, NOW + ledger.LEASE / 2) == []
    # the process that claimed them died; after the lease another one takes them
    again = ledger.claim(engine, NOW + ledger.LEASE + dt.timedelta(seconds=1))
    assert [r.id for r in again] == [r.id for r in first]
    assert all(r.attempts == 2 for r in again)
    ledger.mark_sent(engine, again, NOW, "<id@x>")
    ledger.mark_sent(engine, first, NOW, "<stale@x>")  # the old token no longer owns them
    with session(engine) as db:
        assert {r.message_id for r in db.exec(select(NotificationRow))} == {"<id@x>"}


def test_a_renewed_lease_is_not_taken_over_and_lapses_after_its_process_stops(engine):
    planned_rows(engine, 2)
    first = ledger.claim(engine, NOW, held_at=NOW)
    # the delivering process renews its claim: still held past the first lease's end
    assert ledger.renew(engine, [first[0].claim_token], NOW + ledger.LEASE * 0.9) == 2
    assert ledger.claim(engine, NOW, held_at=NOW + ledger.LEASE * 1.5) == []
    assert ledger.lapse_of_claims(engine) == NOW + ledger.LEASE * 1.9
    # it stopped renewing (killed): once the renewed lease lapses, another process takes the rows
    again = ledger.claim(engine, NOW, held_at=NOW + ledger.LEASE * 2)
    assert [r.id for r in again] == [r.id for r in first]
    # leases are judged on the lease clock, not on the tick's instant: a tick at a later `now`
    # (a day later, replayed) does not take over a claim whose process is alive
    assert ledger.claim(engine, NOW + dt.timedelta(days=1), held_at=NOW + ledger.LEASE * 2.5) == []
    assert ledger.lapse_of_claims(engine) == NOW + ledger.LEASE * 3
