"""Rows that are events, not deliverables (commission sittings once a half-year, trainings once a
quarter, taking part in meetings), as a user meets them through the installed `scheduler` command:
expand and explain say so and name the partial first period; a tick mails the first reminder on the
period's first working day and, after the period, says that no sitting was recorded; `submit
--held-on` records the day it was held and refuses a day outside the period or in the future."""

import email
import json
from email import policy

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance
# the sittings, meetings and trainings by period; and the annual rows whose form asks for events or
# products held in the year by 10 December (14, 19, 24, 25, 26, 28)
EVENT_ROWS = {"1", "10", "27", "31", "32", "33", "34", "35", "14", "19", "24", "25", "26", "28"}


def ok(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def refused(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture
def synced(scheduler):
    """The shipped plan and the example contacts in a fresh SQLite database; mail into var/mail."""
    (scheduler.cwd / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    ok(scheduler("sync"))
    return scheduler


def mails(cwd, seen: set) -> list:
    """The emails that arrived in the Maildir since `seen` (names), parsed."""
    found = []
    for path in sorted((cwd / "var" / "mail" / "new").glob("*")):
        if path.name not in seen:
            seen.add(path.name)
            found.append(email.message_from_bytes(path.read_bytes(), policy=policy.default))
    return found


def occurrences(message) -> list[str]:
    return [o.strip() for o in message["X-Scheduler-Occurrences"].split(",") if o.strip()]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_shipped_plan_marks_its_sittings_trainings_and_meetings_as_events(scheduler):
    records = json.loads(ok(scheduler("expand", "--from", "2021-01-01", "--to", "2023-12-31", "--format", "json")))
    events = {r["obligation"] for r in records if r["kind"] == "event"}
    assert events == EVENT_ROWS
    first = {r["id"]: r["partial_from"] for r in records if r["obligation"] in ("1", "31")}
    assert first["31:mvd:2021-Q1"] == "2021-02-24" and first["1:labour:2021-H1"] == "2021-02-24"
    assert first["31:mvd:2021-Q2"] is None and first["1:mvd:2022-H1"] is None
    # occurrence ids and due dates did not move: the period's last day is still the deadline
    q1 = next(r for r in records if r["id"] == "31:mvd:2021-Q1")
    assert (q1["nominal_due"], q1["due"]) == ("2021-03-31", "2021-03-31")
    assert next(r for r in records if r["id"] == "7:finance:2022")["kind"] == "deliverable"


def test_expand_and_explain_say_it_is_an_event_and_when_the_first_period_is_partial(scheduler):
    table = ok(scheduler("expand", "--from", "2021-01-01", "--to", "2021-12-31", "--obligation", "31", "--agency", "mvd"))
    assert table.splitlines()[0].split()[:5] == ["due", "nominal", "occurrence", "agency", "period"]
    q1 = next(line for line in table.splitlines() if "31:mvd:2021-Q1" in line)
    q2 = next(line for line in table.splitlines() if "31:mvd:2021-Q2" in line)
    assert "event; partial period: from 24.02.2021" in q1
    assert "event" in q2 and "partial" not in q2
    ordinary = ok(scheduler("expand", "--from", "2022-12-01", "--to", "2022-12-31", "--agency", "finance"))
    assert "period" not in ordinary.splitlines()[0], "no period column when nothing is an event or partial"

    explained = ok(scheduler("explain", "1:labour:2021-H1"))
    assert "partial period: from 24.02.2021, the plan's adoption (the period began 2021-01-01)" in explained
    assert "kind         event: must take place between 2021-02-24 and the due date" in explained
    assert "due          2021-06-30" in explained
    assert "kind " not in ok(scheduler("explain", "7:finance:2022"))


def test_a_tick_reminds_early_in_the_period_and_says_no_sitting_was_recorded_after_it(synced):
    seen: set = set()
    # The plan's first day: the first, partial quarter and half-year of every event row open.
    ok(synced("tick", "--now", "2021-02-24T09:00"))
    first = [m for m in mails(synced.cwd, seen) if m["X-Scheduler-Step"] == "period-start"]
    askar = next(m for m in first if m["To"].addresses[0].addr_spec == "askar@mvd.example.kz")
    assert "31:mvd:2021-Q1" in occurrences(askar)
    body = text_of(askar)
    assert "Толық емес кезең: 24.02.2021 бастап (жоспар қабылданған күн)." in body  # Askar reads Kazakh
    assert "2021 жылғы I тоқсан кезеңінде" in body  # the period in words

    # 1 July 2022, the second half-year's and third quarter's first working day; also the first
    # working day after 30 June, when the first half-year's sittings were due.
    ok(synced("tick", "--now", "2022-07-01T09:00"))
    sent = mails(synced.cwd, seen)
    early = [m for m in sent if m["X-Scheduler-Step"] == "period-start"]
    assert early, "the first reminder comes on the period's first working day"
    for message in early:
        assert {o.split(":")[0] for o in occurrences(message)} <= EVENT_ROWS, "ordinary rows get no period-start step"
    labour = next(m for m in early if m["To"].addresses[0].addr_spec == "focal@enbek.example.kz")
    assert set(occurrences(labour)) == {"10:labour:2022-H2", "34:labour:2022-Q3"}
    assert "Мероприятие за II полугодие 2022 г.: должно быть проведено с 1 июля 2022 г. по 30 декабря 2022 г." in text_of(labour)

    gpo = next(m for m in sent if m["X-Scheduler-Step"] == "escalation-1wd"
               and m["To"].addresses[0].addr_spec == "focal@gpo.example.kz")
    assert "10:gpo:2022-H1" in occurrences(gpo)
    escalated = text_of(gpo)
    assert "No sitting or event recorded for half-year I of 2022." in escalated
    assert "No sitting or event recorded for quarter II of 2022." in escalated  # row 32's second quarter
    assert "no sitting or event has been recorded for them" in escalated
    assert "no submission has been recorded" not in escalated

    # exactly once: the same instant again sends nothing
    ok(synced("tick", "--now", "2022-07-01T09:05"))
    assert not mails(synced.cwd, seen)


def test_submit_records_the_day_it_was_held_and_refuses_a_day_outside_the_period(synced):
    oid = "1:mvd:2022-H1"
    outside = refused(synced("submit", oid, "--at", "2022-07-10T10:00", "--held-on", "2022-07-05"))
    assert f"{oid}: held on 2022-07-05 is outside the period 2022-H1 (2022-01-01 … 2022-06-30)" in outside
    future = refused(synced("submit", oid, "--held-on", "2099-01-05"))
    assert "held on 2099-01-05 is in the future" in future
    ordinary = refused(synced("submit", "7:finance:2022", "--held-on", "2022-06-01"))
    assert "7:finance:2022: not an event" in ordinary
    partial = refused(synced("submit", "31:mvd:2021-Q1", "--at", "2021-03-30T10:00", "--held-on", "2021-02-10"))
    assert "outside the period 2021-Q1 (2021-02-24, the plan's adoption … 2021-03-31)" in partial
    for refused_id in (oid, "7:finance:2022", "31:mvd:2021-Q1"):
        shown = json.loads(ok(synced("show", refused_id, "--format", "json")))
        assert shown["state"] == "open" and shown["events"] == [] and shown["submission"] is None, "nothing stored"

    assert "held on 2022-06-15" in ok(synced("submit", oid, "--at", "2022-06-20T10:00", "--held-on", "2022-06-15"))
    shown = json.loads(ok(synced("show", oid, "--format", "json")))
    assert shown["state"] == "submitted" and shown["kind"] == "event"
    assert shown["submission"]["held_on"] == "2022-06-15"
    assert shown["events"][0]["held_on"] == "2022-06-15"
    assert "held on 2022-06-15" in ok(synced("show", oid))


def test_an_event_kind_on_a_one_off_row_is_refused_with_file_and_line(scheduler):
    plan = scheduler.cwd / "obligations.toml"
    text = plan.read_text(encoding="utf-8")
    marked = text.replace('due = { kind = "once", date = 2021-07-01 }\n',
                          'due = { kind = "once", date = 2021-07-01 }\nkind = "event"\n', 1)
    assert marked != text
    plan.write_text(marked, encoding="utf-8")
    error = refused(scheduler("validate"))
    assert "obligations.toml:" in error and 'kind = "event" needs a rule that repeats over periods' in error
    assert "not 'once'" in error
