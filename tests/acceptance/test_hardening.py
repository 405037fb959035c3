"""What the installed command leaves behind: no password on the terminal, no file under var/ that
another user of the machine can read."""

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import forkserver
from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance
PG_ENV = "SCHEDULER_TEST_DATABASE_URL"


def command() -> str:
    return shutil.which("scheduler", path=str(Path(sys.executable).parent)) or shutil.which("scheduler")


def run(cwd: Path, *args: str, env_extra: dict | None = None, umask: int | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    return forkserver.run([command(), *args], cwd=cwd, env={**env, **(env_extra or {})}, timeout=120, umask=umask)


@pytest.fixture
def postgres_database():
    """A fresh PostgreSQL database; its URL carries a password (the admin URL's, or one the server ignores)."""
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(f"needs {PG_ENV}")
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - no server to test against
        pytest.skip(f"PostgreSQL at {PG_ENV} does not answer: {error.__class__.__name__}")
    name = f"scheduler_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name)
    if not url.password:
        url = url.set(password="pg-s3cret-xyz")  # a server that trusts loopback ignores it
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_sync_prints_the_database_url_without_its_password(tmp_path, postgres_database):
    shutil.copy(ROOT / "obligations.toml", tmp_path / "obligations.toml")
    password = postgres_database.password
    result = run(tmp_path, "sync", env_extra={"SCHEDULER_DATABASE_URL": postgres_database.render_as_string(hide_password=False)})
    assert result.returncode == 0, result.stderr
    assert password not in result.stdout + result.stderr
    masked = postgres_database.render_as_string(hide_password=True)
    assert result.stdout.startswith(f"synced {masked}: ") and ":***@" in masked


def test_nothing_under_var_is_readable_by_group_or_others(tmp_path):
    shutil.copy(ROOT / "obligations.toml", tmp_path / "obligations.toml")
    shutil.copy(ROOT / "examples" / "contacts.csv", tmp_path / "contacts.csv")
    for args in (("sync",), ("tick", "--now", "2022-12-09T09:00"), ("report", "--year", "2022", "--output", "var/r.csv")):
        result = run(tmp_path, *args, umask=0o022)
        assert result.returncode == 0, result.stderr
    var = tmp_path / "var"
    made = sorted(var.rglob("*"))
    names = {p.name for p in made}
    assert {"scheduler.db", "secret.key", "r.csv"} <= names and any(p.suffix == ".eml" for p in made), names
    previous = os.umask(0o022)
    database = sqlite3.connect(var / "scheduler.db")
    try:  # while a process has it open, SQLite's -wal and -shm take the database file's mode
        database.execute("UPDATE state SET value = value")
        database.commit()
        made = sorted(var.rglob("*"))
        assert {"scheduler.db-wal", "scheduler.db-shm"} <= {p.name for p in made}
        readable = [f"{p.relative_to(tmp_path)} {stat.filemode(p.stat().st_mode)}" for p in [var, *made]
                    if stat.S_IMODE(p.stat().st_mode) & 0o077]
    finally:
        database.close()
        os.umask(previous)
    assert not readable, readable
