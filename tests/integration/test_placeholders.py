"""What the plan's text asks of its parties, against a real store: the placeholders it names with no
addressee ("interested state bodies", "NGOs") are listed but never mailed and not counted; the
working body's own paragraph 3.2 information is its own report, not a letter to itself."""

from __future__ import annotations

import datetime as dt
import email
import mailbox
from email import policy
from zoneinfo import ZoneInfo

from sqlmodel import select

from scheduler.app import standing
from scheduler.app.digest import report as digest_report
from scheduler.app.tick import tick
from scheduler.store.db import session
from scheduler.store.tables import ContactRow, OccurrenceRow
from tests.integration.test_dashboard import call, served  # noqa: F401 - `served` is a fixture

ALMATY = ZoneInfo("Asia/Almaty")
PLACEHOLDERS = {"ngos", "interested-bodies"}
OWN = {"kk": "ешкімге: бұл органның өз ақпараты, ол өзі жасайтын жиынтық есепке енеді",
       "en": "nobody: this is the body's own information, for the consolidated report it compiles itself"}


def tick_daily(service, first: dt.date, last: dt.date) -> None:
    day = first
    while day <= last:
        tick(service, dt.datetime.combine(day, dt.time(9, 0), tzinfo=ALMATY))
        day += dt.timedelta(days=1)


def messages(tmp_path) -> list:
    return [email.message_from_bytes(m.as_bytes(), policy=policy.default)
            for m in mailbox.Maildir(tmp_path / "mail", create=False)]


def test_placeholders_are_stored_and_listed_but_never_mailed(database_url, make_service, tmp_path):
    service = make_service(database_url)
    with session(service.engine) as db:
        stored = {row.id for row in db.exec(select(OccurrenceRow).where(OccurrenceRow.status == "active"))}
        # A contact left over from an older contacts file: the placeholder still gets nothing.
        db.add(ContactRow(agency="interested-bodies", name="Somebody", email="someone@bodies.example.kz",
                          role="focal", language="en"))
        db.add(ContactRow(agency="interested-bodies", name="Their head", email="head@bodies.example.kz",
                          role="head", language="en"))
    assert "36:interested-bodies:2023-12-31" in stored and "17:ngos:2022" in stored  # listed
    assert not any(oid.startswith("res-3.2:") and oid.split(":")[1] in PLACEHOLDERS for oid in stored)
    service._directory = None  # read the contacts again
    # Row 36 (ІІМ and the interested state bodies) falls due on Friday 29 December 2023: its whole ladder.
    tick_daily(service, dt.date(2023, 12, 14), dt.date(2024, 1, 10))
    sent = messages(tmp_path)
    listed = [m["X-Scheduler-Occurrences"] or "" for m in sent]
    assert any("36:mvd:2023-12-31" in ids for ids in listed), "the body the plan names is reminded"
    assert not any(p in ids for ids in listed for p in PLACEHOLDERS)
    assert not [m for m in sent if "bodies.example.kz" in (m["To"] or "")]


def test_the_working_bodys_own_report_says_so_and_goes_to_nobody_else(database_url, make_service, tmp_path):
    service = make_service(database_url)
    with session(service.engine) as db:
        rows = {row.id: row for row in db.exec(select(OccurrenceRow).where(OccurrenceRow.obligation == "res-3.2"))}
    assert rows["res-3.2:mvd:2022"].recipient is None and rows["res-3.2:labour:2022"].recipient == "mvd"
    # Paragraph 3.2 for 2022 is due on Friday 20 January 2023; the 5-working-day escalation on the 27th.
    tick_daily(service, dt.date(2023, 1, 6), dt.date(2023, 1, 30))
    sent = messages(tmp_path)
    askar = [m for m in sent if "askar@mvd.example.kz" in m["To"] and m["X-Scheduler-Step"] == "due"]
    own = [m for m in askar if "res-3.2:mvd:2022" in m["X-Scheduler-Occurrences"]]
    assert own, "ІІМ's focal point is told of its own 3.2 information on the due date"
    text = own[0].get_body(("plain",)).get_content()
    assert OWN["kk"] in " ".join(text.split())
    # labour's information goes to ІІМ: its focal point hears of labour's escalation as the recipient…
    escalations = [m for m in sent if m["X-Scheduler-Step"] == "escalation-5wd" and "askar@mvd.example.kz" in m["To"]]
    assert any("res-3.2:labour:2022" in m["X-Scheduler-Occurrences"] for m in escalations)
    # …while ІІМ's own item is never escalated to ІІМ "as the recipient" of its own information: it
    # reaches the ministry's head as any missed deadline does, and no focal point as a recipient.
    own_escalations = [m for m in sent if m["X-Scheduler-Step"] == "escalation-5wd"
                       and "res-3.2:mvd:2022" in m["X-Scheduler-Occurrences"]]
    assert own_escalations and {a.addr_spec for m in own_escalations for a in m["To"].addresses} == {"head@mvd.example.kz"}


def test_placeholders_are_not_counted_in_compliance_status_or_the_digest(database_url, make_service):
    service = make_service(database_url)
    now = dt.datetime(2024, 3, 4, 9, 0, tzinfo=ALMATY)  # after the last deadline: everything owed is overdue
    for year in (2022, 2023):
        table = standing.compliance(service, year, now)
        assert not {row.agency for row in table} & PLACEHOLDERS
        with session(service.engine) as db:
            due = [row.agency for row in db.exec(select(OccurrenceRow).where(OccurrenceRow.status == "active"))
                   if row.due.year == year]
        assert sum(row.owed for row in table) == sum(1 for agency in due if agency not in PLACEHOLDERS)
        assert len(due) > sum(row.owed for row in table)  # the placeholders' deadlines exist, uncounted
    assert not {row[0] for row in standing.by_agency(service, now)} & PLACEHOLDERS
    with session(service.engine) as db:
        report = digest_report(service, db, now, "digest:2024-W10", "en")
    assert not {a.code for a in report.agencies} & PLACEHOLDERS
    names = " ".join(report.without_focal_examples)
    assert report.without_focal and "non-governmental" not in names and "interested state bodies" not in names


def test_the_dashboard_lists_a_placeholder_without_counting_it(served):  # noqa: F811 - the fixture imported above
    base, service = served(now=dt.datetime(2024, 3, 4, 3, 0, tzinfo=dt.timezone.utc))
    status, _, page = call(f"{base}/agencies/interested-bodies?lang=en")
    assert status == 200
    assert "36:interested-bodies:2023-12-31" in page and 'id="placeholder"' in page
    assert "not counted: named with no addressee" in page
    assert "No contact: nobody at this agency gets the reminders" not in page
    assert "On time:" not in page  # no rate for what is not counted
    status, _, csv_text = call(f"{base}/report/2023.csv")
    assert status == 200 and "interested-bodies" not in csv_text and "mvd" in csv_text
