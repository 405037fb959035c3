"""Feed tokens and the feeds they open, on SQLite and PostgreSQL."""

import datetime as dt

from icalendar import Calendar
from sqlmodel import select

from scheduler.app.answer import operator_submit
from scheduler.app.letters import feed_url_for
from scheduler.app.tick import tick
from scheduler.feeds import serve, tokens
from scheduler.store.db import session
from scheduler.store.tables import FeedTokenRow

NOW = dt.datetime(2022, 12, 12, 4, 0, tzinfo=dt.timezone.utc)


def uids(data: bytes) -> dict[str, dict]:
    return {str(e["UID"]).split("@")[0]: e for e in Calendar.from_ical(data).walk("VEVENT")}


def test_tokens_are_random_stored_hashed_and_revocable(database_url, make_service):
    service = make_service(database_url)
    first = tokens.issue(service.engine, NOW, agency="finance")
    second = tokens.issue(service.engine, NOW, agency="finance")
    assert first != second and len(first) >= 32  # 192 bits, URL-safe
    with session(service.engine) as db:
        stored = [r.token_hash for r in db.exec(select(FeedTokenRow))]
    assert first not in stored and tokens.digest(first) in stored
    assert tokens.find(service.engine, first).agency == "finance"
    assert tokens.revoke(service.engine, first, NOW)
    assert tokens.find(service.engine, first) is None and serve.feed(service, first, NOW) is None
    assert serve.feed(service, "A" * 32, NOW) is None
    assert tokens.find(service.engine, second) is not None


def test_agency_feed_has_its_occurrences_and_marks_submissions(database_url, make_service):
    service = make_service(database_url)
    token = tokens.issue(service.engine, NOW, agency="finance")
    operator_submit(service, "7:finance:2022", NOW, None, NOW)
    feed = serve.feed(service, token, NOW)
    name, data = feed.title, feed.body
    events = uids(data)
    assert name == "kz-tip-2021-2023 — Қаржымині"
    assert events and all(":finance:" in uid for uid in events)
    assert str(events["7:finance:2022"]["SUMMARY"]).startswith("✓ ")
    assert events["7:finance:2022"].decoded("DTSTART") == dt.date(2022, 12, 9)
    again = serve.feed(service, token, NOW + dt.timedelta(hours=3)).body
    assert again == data, "unchanged data, identical bytes"


def test_contact_feed_covers_every_agency_she_is_focal_for(database_url, make_service):
    service = make_service(database_url)
    token = tokens.issue(service.engine, NOW, email="askar@mvd.example.kz")
    agencies = {uid.split(":")[1] for uid in uids(serve.feed(service, token, NOW).body)}
    assert agencies == {"mvd"}
    everything = tokens.issue(service.engine, NOW)
    assert len(uids(serve.feed(service, everything, NOW).body)) == 1690


def test_ical_js_reads_a_token_feed(make_service, tmp_path):
    from tests.acceptance.test_ical_js import ical_js

    service = make_service(f"sqlite:///{tmp_path / 'feeds.db'}")
    token = tokens.issue(service.engine, NOW, agency="mvd")
    operator_submit(service, "6:mvd:2022", NOW, None, NOW)
    parsed = ical_js(serve.feed(service, token, NOW).body)
    events = {e["uid"].split("@")[0]: e for e in parsed["events"]}
    assert all(":mvd:" in uid for uid in events) and len(events) > 50
    assert events["6:mvd:2022"]["summary"].startswith("✓ ")
    assert events["6:mvd:2022"]["start"] == "2022-12-09" and events["6:mvd:2022"]["status"] == "CONFIRMED"


def test_rendered_feeds_are_reused_until_the_data_changes(database_url, make_service):
    service = make_service(database_url)
    token = tokens.issue(service.engine, NOW, agency="finance")
    first = serve.feed(service, token, NOW)
    assert serve.feed(service, token, NOW) is first, "unchanged data: the cached rendering"
    operator_submit(service, "7:finance:2022", NOW, None, NOW + dt.timedelta(minutes=5))
    changed = serve.feed(service, token, NOW)
    assert changed is not first and changed.body != first.body and changed.etag != first.etag
    assert str(uids(changed.body)["7:finance:2022"]["SUMMARY"]).startswith("✓ ")


def test_reminders_link_the_focal_points_own_feed(database_url, smtp_server, make_service, tmp_path):
    import stat

    service = make_service(database_url, smtp_server)
    tick(service, dt.datetime(2022, 11, 25, 3, 0, tzinfo=dt.timezone.utc))
    to_aigul = [m for m in smtp_server.mailbox.messages if m["To"].addresses[0].addr_spec == "aigul@minfin.example.kz"]
    text = to_aigul[0].get_body(("plain",)).get_content()
    url = next(line.split(": ", 1)[1] for line in text.splitlines() if "/feeds/" in line)
    assert url.startswith("http://127.0.0.1:8080/feeds/") and url.endswith(".ics")
    assert f'href="{url}"' in to_aigul[0].get_body(("html",)).get_content()
    token = tokens.token_from(url)
    feed = serve.feed(service, token, NOW)
    assert {uid.split(":")[1] for uid in uids(feed.body)} == {"finance"}
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    # the same link in every email; revoked, it is no longer offered
    later = make_service(database_url, smtp_server)
    assert feed_url_for(later, "aigul@minfin.example.kz", NOW) == url
    assert feed_url_for(later, "ivanov@minfin.example.kz", NOW) is None  # a supervisor: not a focal point
    tokens.revoke(service.engine, token, NOW)
    assert feed_url_for(make_service(database_url, smtp_server), "aigul@minfin.example.kz", NOW) is None


def test_an_occurrence_that_left_the_plan_stays_in_the_feed_as_cancelled(database_url, make_service, tmp_path):
    from scheduler.plan import load_plan
    from scheduler.store.sync import sync
    from tests.conftest import SHIPPED_PLAN

    service = make_service(database_url)
    token = tokens.issue(service.engine, NOW, agency="gpo")
    before = uids(serve.feed(service, token, NOW).body)["7:gpo:2022"]
    assert str(before["STATUS"]) == "CONFIRMED" and before["SEQUENCE"] == 0
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    start = text.index('id = "7"')
    edited = tmp_path / "edited.toml"
    edited.write_text(text[:start] + text[start:].replace('["finance", "mvd", "gpo"]', '["finance", "mvd"]', 1), encoding="utf-8")
    sync(service.engine, load_plan(edited), None, NOW)
    after = uids(serve.feed(service, token, NOW).body)["7:gpo:2022"]
    assert str(after["STATUS"]) == "CANCELLED" and after["SEQUENCE"] == 1
    later = NOW + dt.timedelta(days=120)
    assert "7:gpo:2022" not in uids(serve.feed(service, token, later).body), "after 90 days it is gone"
