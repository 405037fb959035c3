"""Connecting to the database and bringing its schema up to date with Alembic."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session

from scheduler.errors import BadInput, SchedulerError


class StoreError(SchedulerError):
    """The database could not be reached or refused an operation."""


def connect(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise BadInput(f"SCHEDULER_DATABASE_URL: not a database URL: {url!r}") from error
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the ticking writer
            cursor.close()

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise BadInput(f"SCHEDULER_DATABASE_URL: only sqlite:// and postgresql+psycopg:// are supported, not {url!r}")
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest revision; safe to call every start."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as error:
        raise StoreError(f"cannot migrate the database: {error.__class__.__name__}: {error}") from error


@contextmanager
def session(engine: Engine):
    """A session whose database errors surface as StoreError; commits on success."""
    try:
        with Session(engine, expire_on_commit=False) as db:
            yield db
            db.commit()
    except SQLAlchemyError as error:
        raise StoreError(f"database error: {error.__class__.__name__}: {str(error).splitlines()[0]}") from error
