"""Connecting to the database and bringing its schema up to date with Alembic.

Only `sync` and `run` change the schema (`migrate`); every other command checks the revision and
changes nothing (`check_schema`). Migrations and syncs take turns under `exclusive`, so instances
started together do not race: an advisory lock on PostgreSQL, a file lock beside a SQLite database.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session

from scheduler.errors import BadInput, SchedulerError

log = logging.getLogger("scheduler")

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_TIMEOUT = 300.0  # seconds to wait for another instance's migration or sync before giving up
LOCK_KEY = 0x736368656D61  # "schema" in ASCII: the advisory lock of migrations and syncs (per database)


class StoreError(SchedulerError):
    """The database could not be reached or refused an operation."""


def connect(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise BadInput(f"SCHEDULER_DATABASE_URL: not a database URL: {_masked(url)!r}") from None
    if parsed.get_backend_name() == "sqlite":
        # No folder or file is made here: `migrate` makes them, and the other commands refuse a
        # database that is not there rather than leave an empty one behind.
        engine = create_engine(parsed, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the ticking writer
            cursor.close()

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise BadInput("SCHEDULER_DATABASE_URL: only sqlite:// and postgresql+psycopg:// are supported, not "
                       f"{parsed.render_as_string(hide_password=True)!r}")
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def _masked(url: str) -> str:
    """A URL that could not be parsed, with whatever stands between `://` and `@` hidden."""
    scheme, separator, rest = url.partition("://")
    return f"{scheme}{separator}***@{rest.rpartition('@')[2]}" if "@" in rest else url


def shown(engine: Engine) -> str:
    """The database's URL as messages name it: the password hidden."""
    return engine.url.render_as_string(hide_password=True)


def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


@contextmanager
def _file_lock(path: Path, purpose: str, timeout: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(_waited(purpose, timeout, str(path))) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)  # and with it the lock


def _waited(purpose: str, timeout: float, where: str) -> str:
    return (f"{purpose}: another scheduler has held the database lock for {timeout:g} s ({where}); "
            "is a sync or migration still running? Try again when it has finished")


@contextmanager
def exclusive(engine: Engine, purpose: str, timeout: float = LOCK_TIMEOUT) -> Iterator[Connection]:
    """One instance at a time: a connection in a transaction, held under the store's lock until the
    transaction ends. PostgreSQL: `pg_advisory_xact_lock` in that transaction; SQLite: `flock` on
    `<database>.lock` (mode 0600), taken before the connection. Waits up to `timeout` seconds,
    then raises StoreError naming `purpose`."""
    with ExitStack() as stack:
        try:
            path = _sqlite_file(engine)
            if path is not None:
                stack.enter_context(_file_lock(path.with_name(path.name + ".lock"), purpose, timeout))
            connection = stack.enter_context(engine.begin())
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT set_config('lock_timeout', :ms, true)"),
                                   {"ms": str(max(1, round(timeout * 1000)))})
                try:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                except SQLAlchemyError as error:
                    if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available
                        raise StoreError(_waited(purpose, timeout, f"advisory lock {LOCK_KEY}")) from None
                    raise
                connection.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
        except SQLAlchemyError as error:
            raise StoreError(f"{purpose}: cannot lock the database {shown(engine)}: {_first_line(error)}") from error
        yield connection


def _first_line(error: BaseException) -> str:
    return f"{error.__class__.__name__}: {(str(error).splitlines() or [''])[0]}"


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _refuse_unknown(engine: Engine, revision: str) -> None:
    if revision not in {script.revision for script in _scripts().walk_revisions()}:
        raise BadInput(f"{shown(engine)}: this database was written by a newer version of the scheduler "
                       f"(revision {revision}); upgrade the program")


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest revision; safe to call every start, and from
    several instances at once (they take turns). A database from a newer version is refused."""
    try:
        with exclusive(engine, "migrate") as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None:
                _refuse_unknown(engine, current)
            head = _scripts().get_current_head()
            if current == head:
                return
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            log.info("database upgraded from revision %s to %s", current or "none (new database)", head)
    except (SQLAlchemyError, CommandError) as error:
        raise StoreError(f"cannot migrate the database: {error.__class__.__name__}: {error}") from error


def check_schema(engine: Engine) -> None:
    """For the commands that only use the store: the schema must be at the newest revision. Reads
    one row, changes nothing, and never creates a SQLite file."""
    path = _sqlite_file(engine)
    if path is not None and (not path.is_file() or path.stat().st_size == 0):
        raise BadInput(f"{shown(engine)}: no database yet: run `scheduler sync` first")
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        raise StoreError(f"{shown(engine)}: cannot read the database: {_first_line(error)}") from error
    if current is None:
        raise BadInput(f"{shown(engine)}: no database yet: run `scheduler sync` first")
    if current != _scripts().get_current_head():
        _refuse_unknown(engine, current)
        raise BadInput(f"{shown(engine)}: the database needs an upgrade: run `scheduler sync`")


@contextmanager
def session(engine: Engine):
    """A session whose database errors surface as StoreError; commits on success."""
    try:
        with Session(engine, expire_on_commit=False) as db:
            yield db
            db.commit()
    except SQLAlchemyError as error:
        raise StoreError(f"database error: {error.__class__.__name__}: {str(error).splitlines()[0]}") from error
