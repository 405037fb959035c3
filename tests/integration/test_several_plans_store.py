"""The national plan and the example regional plan in one store (SQLite and PostgreSQL), served over
real HTTP: the regional rows' pages, a feed of one plan or of all, one plan's consolidated report,
and the ladder of a further plan run by that plan's own policy."""

import datetime as dt
import io

import pytest
from icalendar import Calendar
from sqlmodel import select

from scheduler.app.context import Context
from scheduler.app.tick import tick
from scheduler.feeds import tokens
from scheduler.plan import load_contacts, load_plan
from scheduler.settings import Settings
from scheduler.store.db import connect, migrate, session
from scheduler.store.sync import sync
from scheduler.store.tables import NotificationRow
from scheduler.transport import MaildirTransport
from scheduler.web.app import create_app
from tests.conftest import ROOT
from tests.integration.web_client import Client, serving
from tests.smtp import free_port

CREDENTIAL = ("admin", "correct horse")
REGIONAL = "akmola-tip-2021-2023"
ROW3 = f"{REGIONAL}/3:akmola-social:2022-Q1"  # due 17 March 2022, 7 working days before national row 34
CONTACTS = """agency,name,email,role,language
akmola-social,Сәуле Ахметова,saule@akmola.example.kz,focal,kk
akimat-akmola,Ақмола әкімдігі,focal@akmola.example.kz,focal,ru
"""


@pytest.fixture
def site(database_url, tmp_path):
    plan = load_plan([ROOT / "obligations.toml", ROOT / "examples" / "regional-plan-akmola.toml"])
    (tmp_path / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    engine = connect(database_url)
    migrate(engine)
    sync(engine, plan, load_contacts(tmp_path / "contacts.csv", plan), dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc))
    port = free_port()
    settings = Settings(database_url=database_url, mail_from="scheduler@ministry.example.kz",
                        secret_key_file=tmp_path / "secret.key", base_url=f"http://127.0.0.1:{port}")
    service = Context(settings, plan, engine, MaildirTransport(tmp_path / "mail"))
    now = dt.datetime(2022, 3, 15, 6, 0, tzinfo=dt.timezone.utc)
    app = create_app(lambda: service, lambda: now, CREDENTIAL)
    with serving(app, port):
        yield service, f"http://127.0.0.1:{port}"


def test_a_regional_rows_page_feed_and_report(site):
    service, base = site
    admin = Client(base, CREDENTIAL)
    status, _, page = admin.get(f"/occurrences/{ROW3}?lang=ru")
    assert status == 200, page[:300]
    assert "ПРИМЕР: Представлять в акимат области информацию об обучении инспекторов труда" in page
    assert "17 марта 2022" in page
    # the page is headed by the row's own plan, not the national one
    assert "ПРИМЕР: Региональный план мероприятий акимата Акмолинской области" in page
    assert "План мероприятий Правительства Республики Казахстан" not in page
    assert admin.get(f"/occurrences/{REGIONAL}/3:akmola-social:1999-Q1")[0] == 404

    token = tokens.issue(service.engine, dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc), agency="akimat-akmola")
    everything = Calendar.from_ical(admin.get(f"/feeds/{token}.ics")[2])
    uids = {str(e["UID"]) for e in everything.walk("VEVENT")}
    assert any(u.startswith("34:akimat-akmola:") for u in uids)  # the akimat's national deadlines
    social = tokens.issue(service.engine, dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc), agency="akmola-social")
    regional = Calendar.from_ical(admin.get(f"/feeds/{social}.ics?plan={REGIONAL}&lang=ru")[2])
    events = list(regional.walk("VEVENT"))
    assert events and all(str(e["UID"]).startswith(f"{REGIONAL}/") for e in events)
    row3 = next(e for e in events if str(e["UID"]).startswith(ROW3))
    assert row3.decoded("DTSTART") == dt.date(2022, 3, 17)
    assert f"{REGIONAL}, " in str(row3["DESCRIPTION"]) and "3" in str(row3["DESCRIPTION"])
    national_only = Calendar.from_ical(admin.get(f"/feeds/{social}.ics?plan=kz-tip-2021-2023")[2])
    assert not [e for e in national_only.walk("VEVENT") if str(e["UID"]).startswith(f"{REGIONAL}/")]
    assert admin.get(f"/feeds/{social}.ics?plan=no-such-plan")[0] == 404

    from openpyxl import load_workbook

    status, headers, body = admin.call(f"/reports/consolidated?year=2022&lang=ru&format=xlsx&plan={REGIONAL}")
    assert status == 200 and headers["content-disposition"] == f'attachment; filename="consolidated-{REGIONAL}-2022-ru.xlsx"'
    cells = [str(v) for row in load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True) for v in row if v]
    assert any("обучении инспекторов труда" in c for c in cells)
    assert not any("Социального кодекса" in c for c in cells)  # no national row in the regional report
    assert admin.get("/reports/consolidated?year=2022&lang=ru&format=xlsx&plan=no-such-plan")[0] == 404


def test_a_further_plans_ladder_is_its_own(site):
    """The regional example has no 14-day reminder: its first step is 7 days before; the national
    rows keep theirs."""
    service, _ = site
    tick(service, dt.datetime(2022, 3, 3, 4, 0, tzinfo=dt.timezone.utc))  # 14 days before 17 March
    tick(service, dt.datetime(2022, 3, 10, 4, 0, tzinfo=dt.timezone.utc))  # 7 days before
    with session(service.engine) as db:
        steps = set(db.exec(select(NotificationRow.occurrence_id, NotificationRow.step)).all())
    assert (ROW3, "reminder-7d") in steps
    assert (ROW3, "reminder-14d") not in steps
