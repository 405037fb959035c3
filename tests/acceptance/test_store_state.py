"""Only `sync` and `run` create or migrate the database. Every other command that uses the store
checks its schema revision and changes nothing: no database yet, one that needs an upgrade, or one
written by a newer version each give exit 2 with a message naming the database, and no traceback;
a mistyped SQLite path leaves no file or folder behind."""

import hashlib
import os
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.integration.conftest import postgres_url  # noqa: F401 - a fresh PostgreSQL database per test
from tests.smtp import free_port

pytestmark = pytest.mark.acceptance

READING = [
    ("tick", "--now", "2022-12-09T09:00"),
    ("submit", "7:finance:2022"),
    ("status", "--now", "2022-12-12T10:00"),
    ("simulate", "--from", "2022-12-01", "--to", "2022-12-31"),
    ("report", "--year", "2022"),
    ("feeds", "issue", "--agency", "finance"),
    ("feeds", "revoke", "--id", "1"),
    ("feeds", "list"),
    ("accept", "7:finance:2022"),
    ("extend", "7:finance:2022", "--to", "2022-12-20", "--reason", "a letter"),
    ("show", "7:finance:2022"),
    ("users", "list"),
]
IDS = [" ".join(args[:2]) if args[0] in ("feeds", "users") else args[0] for args in READING]


def assert_refused(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) <= 3, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def fingerprint(path) -> str:
    with sqlite3.connect(path) as connection:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()


def set_revision(url: str, revision: str) -> None:
    """What a newer version of the program leaves behind: a revision this one does not know."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def downgrade_one(url: str) -> str:
    """What an older version of the program leaves behind: the schema one revision back."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    import scheduler.store.db

    config = Config()
    config.set_main_option("script_location", os.path.join(os.path.dirname(scheduler.store.db.__file__), "migrations"))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision


@pytest.mark.parametrize("args", READING, ids=IDS)
def test_no_database_yet(scheduler, args):
    result = scheduler(*args)
    assert_refused(result, "sqlite:///var/scheduler.db: no database yet: run `scheduler sync` first")
    assert not (scheduler.cwd / "var").exists(), "no folder, no empty database left behind"


def test_a_mistyped_path_creates_nothing(scheduler):
    url = "sqlite:///vra/schedular.db"
    for args in [*READING, ("sync",)]:  # not even sync: a directory the user names must exist
        assert_refused(scheduler(*args, env_extra={"SCHEDULER_DATABASE_URL": url}),
                       f"SCHEDULER_DATABASE_URL: the directory vra does not exist", "mkdir -p vra")
    assert not (scheduler.cwd / "vra").exists()


def test_an_empty_file_is_no_database_and_stays_empty(scheduler):
    (scheduler.cwd / "var").mkdir()
    empty = scheduler.cwd / "var" / "scheduler.db"
    empty.touch()
    for args in READING:
        assert_refused(scheduler(*args), "sqlite:///var/scheduler.db: no database yet")
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in (scheduler.cwd / "var").iterdir()) == ["scheduler.db"]


def test_an_older_schema_needs_sync_then_works(scheduler):
    assert scheduler("sync").returncode == 0
    database = scheduler.cwd / "var" / "scheduler.db"
    downgrade_one(f"sqlite:///{database}")
    before = fingerprint(database)
    for args in READING:
        assert_refused(scheduler(*args), "sqlite:///var/scheduler.db: the database needs an upgrade: run `scheduler sync`")
    assert fingerprint(database) == before, "checking changed nothing"
    synced = scheduler("sync")
    assert synced.returncode == 0, synced.stderr
    assert scheduler("status", "--now", "2022-12-12T10:00").returncode == 0


def test_a_newer_schema_is_refused_by_every_command(scheduler):
    assert scheduler("sync").returncode == 0
    database = scheduler.cwd / "var" / "scheduler.db"
    set_revision(f"sqlite:///{database}", "9f1c2e7a0b3d")
    before = fingerprint(database)
    for args in [*READING, ("sync",), ("run",)]:
        assert_refused(scheduler(*args, env_extra={"SCHEDULER_HTTP_PORT": str(free_port())}),
                       "this database was written by a newer version of the scheduler (revision 9f1c2e7a0b3d); "
                       "upgrade the program")
    assert fingerprint(database) == before


def test_postgresql_empty_older_newer(scheduler, postgres_url):  # noqa: F811
    url = make_url(postgres_url).set(password="pg-s3cret-xyz")  # trust auth: the password is not asked for
    env = {"SCHEDULER_DATABASE_URL": url.render_as_string(hide_password=False)}
    shown = url.render_as_string(hide_password=True)
    for args in READING:
        result = scheduler(*args, env_extra=env)
        assert_refused(result, f"{shown}: no database yet: run `scheduler sync` first")
        assert "pg-s3cret-xyz" not in result.stderr
    assert scheduler("sync", env_extra=env).returncode == 0
    downgrade_one(postgres_url)
    assert_refused(scheduler("tick", env_extra=env), f"{shown}: the database needs an upgrade: run `scheduler sync`")
    assert scheduler("sync", env_extra=env).returncode == 0
    set_revision(postgres_url, "9f1c2e7a0b3d")
    for args in (("status",), ("sync",)):
        assert_refused(scheduler(*args, env_extra=env), "written by a newer version of the scheduler (revision 9f1c2e7a0b3d)")
