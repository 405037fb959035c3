"""sync compares the plan with the store a batch of obligations at a time, reads whole only the rows
whose signature differs, and recomputes every row's ladder only when the step instants moved: the
outcome is still that of `plan_sync` over the whole plan followed by `ledger.reschedule`."""

import datetime as dt

import pytest
from sqlmodel import select

from scheduler.app import answer
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.notify.ladder import Planned, Timing
from scheduler.plan import load_plan
from scheduler.store import ledger
from scheduler.store import sync as store_sync
from scheduler.store.db import connect, migrate, session
from scheduler.store.sync import expansion, plan_sync, sync
from scheduler.store.tables import OccurrenceRow
from tests.conftest import SHIPPED_PLAN

NOW = dt.datetime(2022, 11, 1, 3, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def engine(database_url):
    engine = connect(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of a few obligations, IN lists and executemany chunks of a few rows."""
    monkeypatch.setattr(store_sync, "_BATCH", 40)
    monkeypatch.setattr(store_sync, "_BATCH_OBLIGATIONS", 3)
    monkeypatch.setattr(store_sync, "_WRITE", 7)


def rows(engine) -> dict[str, tuple]:
    with session(engine) as db:
        return {r.id: (r.status, r.due, r.nominal_due, r.plan_due, r.recipient, r.title_kk, r.sequence,
                       ledger.aware(r.next_step_at)) for r in db.exec(select(OccurrenceRow))}


def edited(tmp_path, *edits, name="edited.toml"):
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    for old, new, after in edits:
        start = text.index(after)
        assert old in text[start:]
        text = text[:start] + text[start:].replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_plan(path)


def expected_counts(engine, plan) -> dict[str, int]:
    with session(engine) as db:
        existing = {r.id: r for r in db.exec(select(OccurrenceRow))}
        db.expunge_all()
    return plan_sync(plan, expansion(plan), existing).counts


def assert_ladder_as_rescheduled(engine, plan, timezone=None):
    """`ledger.reschedule`, the whole recomputation from the ledger, finds nothing to change."""
    before = rows(engine)
    with session(engine) as db:
        ledger.reschedule(db, Timing.of_plan(plan, WorkdayCalendar(plan.policy.holidays), timezone))
    assert rows(engine) == before


def test_batched_sync_does_what_plan_sync_says(engine, shipped_plan, tmp_path, small_batches):
    sync(engine, shipped_plan, (), NOW)
    assert_ladder_as_rescheduled(engine, shipped_plan)
    timing = Timing.of_plan(shipped_plan, WorkdayCalendar("KZ"))
    answer.submit(engine, timing, "7:finance:2022", at=NOW, now=NOW, note="early")
    with session(engine) as db:  # a step already sent for 2022-12-09, the date the change moves away from and back to
        ledger.record(db, [Planned("7:mvd:2022", "reminder-14d", "p@example.kz", "P", "en", "mvd", dt.date(2022, 12, 9),
                                   NOW, True)])
    changed = edited(
        tmp_path,
        ("month = 12, day = 10", "month = 12, day = 20", 'id = "7"'),  # moved
        ('["finance", "mvd", "gpo"]', '["finance", "mvd"]', 'id = "7"'),  # gpo's cancelled
    )
    counts = expected_counts(engine, changed)
    report = sync(engine, changed, None, NOW)
    assert {k: getattr(report, k) for k in counts} == counts
    assert counts["moved"] and counts["cancelled"] == 3
    assert_ladder_as_rescheduled(engine, changed)
    stored = rows(engine)
    assert stored["7:gpo:2022"][0] == "cancelled" and stored["7:gpo:2022"][7] is None
    assert stored["7:finance:2022"][7] is None, "answered: its ladder stays stopped"

    counts = expected_counts(engine, shipped_plan)
    back = sync(engine, shipped_plan, None, NOW)
    assert {k: getattr(back, k) for k in counts} == counts and back.restored == 3
    assert_ladder_as_rescheduled(engine, shipped_plan)
    again = sync(engine, shipped_plan, None, NOW)
    assert (again.added, again.moved, again.changed, again.cancelled, again.restored) == (0, 0, 0, 0, 0)
    assert again.unchanged == len(rows(engine))


def test_a_title_changed_in_the_plan_is_written(engine, shipped_plan, tmp_path, small_batches):
    sync(engine, shipped_plan, (), NOW)
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    start = text.index('id = "7"')
    line = next(line for line in text[start:].splitlines() if line.startswith("title_kk"))
    retitled = edited(tmp_path, (line, 'title_kk = "жаңа атауы"', 'id = "7"'))
    report = sync(engine, retitled, None, NOW)
    assert report.changed == 9 and report.moved == report.cancelled == 0
    assert rows(engine)["7:finance:2022"][5] == "жаңа атауы"


def test_new_step_instants_recompute_every_rows_ladder(engine, shipped_plan):
    sync(engine, shipped_plan, (), NOW)
    before = rows(engine)
    # Another time zone moves every step's instant; the plan itself is unchanged.
    report = sync(engine, shipped_plan, None, NOW, timezone="Asia/Tokyo")
    assert report.unchanged == len(before)
    after = rows(engine)
    assert after["7:mvd:2022"][7] != before["7:mvd:2022"][7]
    assert_ladder_as_rescheduled(engine, shipped_plan, timezone="Asia/Tokyo")
