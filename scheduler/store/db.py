"""Connecting to the database and bringing its schema up to date with Alembic.

Only `sync` and `run` change the schema (`migrate`); every other command checks the revision and
changes nothing (`check_schema`). Migrations and syncs take turns under `exclusive`, so instances
started together do not race: an advisory lock on PostgreSQL, a file lock beside a SQLite database.
"""

from __future__ import annotations

import fcntl
import functools
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlmodel import Session

from scheduler.errors import BadInput, SchedulerError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

log = logging.getLogger("scheduler")

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision: a database at it needs nothing, and Alembic (a fifth of a second
# to import) is loaded only to upgrade or to name an unknown revision. tests/unit/test_migrations.py
# checks that it is Alembic's head.
HEAD = "0013"
LOCK_TIMEOUT = 300.0  # seconds to wait for another instance's migration or sync before giving up
LOCK_KEY = 0x736368656D61  # "schema" in ASCII: the advisory lock of migrations and syncs (per database)
T = TypeVar("T")


class StoreError(SchedulerError):
    """The database could not be reached or refused an operation."""

    @property
    def transient(self) -> bool:
        """A fault of the connection, not of the statement: the same work may succeed when tried again."""
        return self.__cause__ is not None and is_transient(self.__cause__)


# A connection the server ended (PostgreSQL's AdminShutdown, a restart, a dropped network) or a
# database busy past its timeout: the same statement succeeds later. Constraint violations, bad
# SQL or data are refused every time and are not retried.
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0)  # seconds; then every 5 s until the budget runs out


def is_transient(error: BaseException) -> bool:
    if isinstance(error, StoreError):
        return error.transient
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (OperationalError, InterfaceError)) and not isinstance(error, IntegrityError)


def retrying(what: str, work: Callable[[], T], budget: float = 60.0, stopping: threading.Event | None = None) -> T:
    """`work()`, tried again after a transient database fault (`is_transient`) with growing pauses,
    for up to `budget` seconds; the last fault is raised as StoreError naming `what`. Only for work
    that is safe to repeat: one transaction that either committed nothing or is idempotent."""
    deadline = time.monotonic() + budget
    for attempt in itertools.count():
        try:
            return work()
        except (StoreError, SQLAlchemyError) as error:
            pause = RETRY_DELAYS[attempt] if attempt < len(RETRY_DELAYS) else 5.0
            if not is_transient(error) or time.monotonic() + pause > deadline or (stopping is not None and stopping.is_set()):
                if isinstance(error, StoreError):
                    raise
                raise StoreError(f"{what}: {_first_line(error)}") from error
            log.warning("database fault during %s, trying again in %g s: %s", what, pause, _first_line(error))
            time.sleep(pause)
    raise AssertionError("unreachable")


# The drivers the program is built and tested with (the ones that install with it): SQLite's own
# module, and psycopg 3 (`postgresql://` means psycopg too).
DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}


def connect(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise BadInput(f"SCHEDULER_DATABASE_URL: not a database URL: {_masked(url)!r}") from None
    backend = parsed.get_backend_name()
    if backend in DRIVERS and parsed.get_driver_name() != DRIVERS[backend]:
        # Checked here, not left to create_engine: an unknown or absent driver (postgresql+nodriver,
        # postgresql+psycopg2 without psycopg2) would surface as an ImportError and a traceback.
        raise BadInput(f"SCHEDULER_DATABASE_URL: the driver {parsed.drivername!r} is not supported: write "
                       f"{'sqlite:///PATH' if backend == 'sqlite' else 'postgresql+psycopg://USER@HOST/DATABASE'} "
                       f"(in {parsed.render_as_string(hide_password=True)!r})")
    if backend == "sqlite":
        _check_directory(parsed)
    try:
        return _engine(parsed)
    except (ArgumentError, ImportError, ValueError, TypeError) as error:  # a query option the driver refuses
        raise BadInput(f"SCHEDULER_DATABASE_URL: {parsed.render_as_string(hide_password=True)!r}: "
                       f"{_first_line(error)}") from None


DEFAULT_DIRECTORY = Path("var")
"""Where the embedded defaults live (`sqlite:///var/scheduler.db`, `var/mail/`, `var/secret.key`),
under the current directory: the one directory the program makes when it is missing, so that a
clean clone runs (`make run`). Any other directory a database URL names must exist."""


def _is_default_directory(folder: Path) -> bool:
    """`var/` of the current directory, however the URL writes it (`var`, `./var`, its absolute path)."""
    return os.path.abspath(folder) == os.path.abspath(DEFAULT_DIRECTORY)


def _check_directory(parsed) -> None:
    """BadInput (exit 2) when a SQLite database's folder does not exist or is not a folder: the
    program never makes a directory the user named (a typo would otherwise scatter databases over
    the disk); only the defaults' own `var/` is made, by the first `sync`."""
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).parent
    shown_url = parsed.render_as_string(hide_password=True)
    if folder.is_dir() or (_is_default_directory(folder) and not folder.exists()):
        return
    if folder.exists():
        raise BadInput(f"SCHEDULER_DATABASE_URL: {folder} is not a directory (in {shown_url!r}): name a file in an "
                       "existing directory")
    missing = folder
    while not missing.parent.is_dir() and missing.parent != missing:
        missing = missing.parent
    raise BadInput(f"SCHEDULER_DATABASE_URL: the directory {folder} does not exist ({missing} is missing; in "
                   f"{shown_url!r}): create it first (mkdir -p {folder}) or name a database in an existing directory; "
                   "the scheduler never creates a directory it was given")


def _engine(parsed) -> Engine:
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
    if _is_default_directory(path.parent):  # the defaults' own folder (`connect` refused any other missing one)
        path.parent.mkdir(exist_ok=True)
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
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (Alembic's own table), None for a database without one."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _config():
    """Alembic's configuration for the store's migrations (loads Alembic)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.util import CommandError

    config = _config()
    config.attributes["connection"] = connection
    try:
        command.upgrade(config, "head")
    except CommandError as error:
        raise StoreError(f"cannot migrate the database: {error.__class__.__name__}: {error}") from error


def _refuse_unknown(engine: Engine, revision: str) -> None:
    if revision not in {script.revision for script in _scripts().walk_revisions()}:
        raise BadInput(f"{shown(engine)}: this database was written by a newer version of the scheduler "
                       f"(revision {revision}); upgrade the program")


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest revision; safe to call every start, and from
    several instances at once (they take turns). A database from a newer version is refused."""
    try:
        with exclusive(engine, "migrate") as connection:
            current = current_revision(connection)
            if current == HEAD:
                return
            if current is not None:
                _refuse_unknown(engine, current)
            _upgrade(connection)
            log.info("database upgraded from revision %s to %s", current or "none (new database)", HEAD)
    except SQLAlchemyError as error:
        raise StoreError(f"cannot migrate the database: {error.__class__.__name__}: {error}") from error


def check_schema(engine: Engine) -> None:
    """For the commands that only use the store: the schema must be at the newest revision. Reads
    one row, changes nothing, and never creates a SQLite file."""
    path = _sqlite_file(engine)
    if path is not None and (not path.is_file() or path.stat().st_size == 0):
        raise BadInput(f"{shown(engine)}: no database yet: run `scheduler sync` first")
    try:
        with engine.connect() as connection:
            current = current_revision(connection)
    except SQLAlchemyError as error:
        raise StoreError(f"{shown(engine)}: cannot read the database: {_first_line(error)}") from error
    if current is None:
        raise BadInput(f"{shown(engine)}: no database yet: run `scheduler sync` first")
    if current != HEAD:
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


def problem(engine: Engine) -> str | None:
    """None when the database answers; otherwise what went wrong, in one line (for the health check)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy; say which
        return f"{error.__class__.__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]
    return None
