"""Databases migrated and synced once per test process, copied for each test that asks for one.

`make_service` (tests/integration/conftest.py) gives most integration tests a database holding the
shipped plan and a contacts file, synced at some instant. Migrating and syncing took about 0.4 s
on SQLite and 0.9 s on PostgreSQL each time, for some hundreds of tests a run. The first test that
asks for a given (database kind, contacts, instant) pays that once; every test, the first one
included, then gets its own copy: SQLite's backup of the template file, PostgreSQL's `CREATE
DATABASE … TEMPLATE`. A database that already holds something is left to migrate and sync as
before.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scheduler.plan import load_contacts
from scheduler.store.db import connect, migrate
from scheduler.store.sync import sync

PG_ENV = "SCHEDULER_TEST_DATABASE_URL"


class Templates:
    def __init__(self) -> None:
        self._folder: Path | None = None
        self._made: dict[tuple, str] = {}

    def copy_into(self, database_url: str, plan, contacts_file: Path, now: dt.datetime) -> bool:
        """Make `database_url` a copy of the synced template for these inputs; False (and nothing
        done) when that database is not empty."""
        url = make_url(database_url)
        kind = url.get_backend_name()
        if kind == "sqlite":
            return self._sqlite(Path(url.database), plan, contacts_file, now)
        if kind == "postgresql":
            return self._postgresql(database_url, plan, contacts_file, now)
        return False

    def _template(self, kind: str, plan, contacts_file: Path, now: dt.datetime, url_for) -> str:
        key = (kind, id(plan), contacts_file.read_bytes(), now.isoformat())
        if key not in self._made:
            url = url_for()
            engine = connect(url)
            try:
                migrate(engine)
                sync(engine, plan, load_contacts(contacts_file, plan), now)
            finally:
                engine.dispose()
            self._made[key] = url
        return self._made[key]

    def _sqlite(self, path: Path, plan, contacts_file: Path, now: dt.datetime) -> bool:
        if path.exists() and path.stat().st_size:
            return False

        def url_for() -> str:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="scheduler-templates-"))
            return f"sqlite:///{self._folder / f'{uuid.uuid4().hex}.db'}"

        template = make_url(self._template("sqlite", plan, contacts_file, now, url_for)).database
        path.parent.mkdir(parents=True, exist_ok=True)
        source, target = sqlite3.connect(template), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        return True

    def _postgresql(self, database_url: str, plan, contacts_file: Path, now: dt.datetime) -> bool:
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                tables = connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar()
        finally:
            engine.dispose()
        if tables:
            return False
        admin = create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")

        def url_for() -> str:
            name = f"scheduler_template_{uuid.uuid4().hex[:12]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            return make_url(database_url).set(database=name).render_as_string(hide_password=False)

        try:
            template = make_url(self._template("postgresql", plan, contacts_file, now, url_for)).database
            name = make_url(database_url).database
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        finally:
            admin.dispose()
        return True

    def drop(self) -> None:
        """At the end of the session: the PostgreSQL templates (the SQLite ones are files)."""
        names = [make_url(url).database for (kind, *_), url in self._made.items() if kind == "postgresql"]
        if names:
            admin = create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    for name in names:
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            finally:
                admin.dispose()
        if self._folder is not None:
            for file in self._folder.iterdir():
                file.unlink()
            self._folder.rmdir()
