"""Real services for integration tests: a database per test (SQLite, and PostgreSQL when one answers)
and an SMTP server on loopback whose answers a test can change."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scheduler.app.context import Context
from scheduler.plan import load_contacts, load_plan
from scheduler.settings import Settings
from scheduler.store.db import connect, migrate
from scheduler.store.sync import sync
from scheduler.transport import MaildirTransport, SmtpTransport
from tests.conftest import SHIPPED_PLAN
from tests.smtp import Mailbox, SmtpServer, free_port  # noqa: F401 - used by the tests of this folder
from tests.templates import Templates

PG_ENV = "SCHEDULER_TEST_DATABASE_URL"

CONTACTS = """agency,name,email,role,language
finance,Айгүл Серікова,aigul@minfin.example.kz,focal,kk
finance,Пётр Иванов,ivanov@minfin.example.kz,supervisor,ru
finance,Head of Finance,head@minfin.example.kz,head,en
mvd,Асқар Нұрланов,askar@mvd.example.kz,focal,kk
mvd,MVD Supervisor,super@mvd.example.kz,supervisor,en
mvd,MVD Head,head@mvd.example.kz,head,en
gpo,Prosecutor Focal,focal@gpo.example.kz,focal,en
gpo,Prosecutor Head,head@gpo.example.kz,head,en
labour,Еңбек,focal@enbek.example.kz,focal,ru
"""


def _postgres_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)")
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure to connect means: no server to test against
        pytest.skip(f"PostgreSQL at {PG_ENV} does not answer: {error.__class__.__name__}")
    return url


@pytest.fixture
def postgres_url():
    admin_url = _postgres_admin_url()
    name = f"scheduler_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'scheduler.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def contacts_file(tmp_path) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def synced_templates():
    """The databases `make_service` copies (tests/templates.py), dropped at the end."""
    templates = Templates()
    yield templates
    templates.drop()


@pytest.fixture
def make_service(shipped_plan, contacts_file, tmp_path, synced_templates):
    """A synced service on the given database, delivering over SMTP or into a Maildir: a copy of a
    database migrated and synced from the same plan, contacts and instant (tests/templates.py) when
    the database is new, or migrated and synced in place."""

    def make(database_url: str, smtp: SmtpServer | None = None, now=None) -> Context:
        import datetime as dt

        settings = Settings(database_url=database_url, mail_from="scheduler@ministry.example.kz",
                            secret_key_file=tmp_path / "secret.key")
        now = now or dt.datetime(2022, 11, 1, tzinfo=dt.timezone.utc)
        copied = synced_templates.copy_into(database_url, shipped_plan, contacts_file, now)
        engine = connect(database_url)
        if not copied:
            migrate(engine)
            sync(engine, shipped_plan, load_contacts(contacts_file, shipped_plan), now)
        transport = (
            SmtpTransport("127.0.0.1", smtp.port, tls="none") if smtp is not None else MaildirTransport(tmp_path / "mail")
        )
        return Context(settings, shipped_plan, engine, transport)

    return make


__all__ = ["CONTACTS", "SHIPPED_PLAN", "load_plan"]


def pytest_terminal_summary(terminalreporter):
    """The closing note of the Schemathesis runs (tests/integration/test_api_schema.py): operations,
    examples and time, from each run's recorded property (workers' too)."""
    lines = [value for outcome in ("passed", "failed") for report in terminalreporter.stats.get(outcome, ())
             if getattr(report, "when", "call") == "call"
             for name, value in getattr(report, "user_properties", ()) if name == "schemathesis"]
    if lines:
        terminalreporter.write_sep("-", "Schemathesis against /api/v1/openapi.json")
        for line in sorted(lines):
            terminalreporter.write_line(line)
