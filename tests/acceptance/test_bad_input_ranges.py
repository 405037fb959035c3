"""Dates at the ends of the calendar, numbers past the id column and database URLs naming a driver
that is not there, through the installed `scheduler` command against a synced database: each exits
2 with one line naming the bad value, shows no traceback, and leaves the database as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from tests import forkserver
from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance
OUTSIDE = "is outside the dates this program takes (1900-01-01 … 2200-12-31)"

# (case, arguments, what stderr must say); 6:finance:2022 is open, 1:mvd:2022 an event row.
COMMANDS = [
    ("extend-9999", ["extend", "6:finance:2022", "--to", "9999-12-31", "--reason", "x"], ["'--to'", "9999-12-31", OUTSIDE]),
    ("extend-0001", ["extend", "6:finance:2022", "--to", "0001-01-01", "--reason", "x"], ["'--to'", "0001-01-01", OUTSIDE]),
    ("extend-past-the-plan", ["extend", "6:finance:2022", "--to", "2100-01-01", "--reason", "x"],
     ["6:finance:2022: --to 2100-01-01 is outside the dates an extension may name: 2021-02-24 (the plan's adoption) "
      "… 2028-12-31 (5 years after the end of its period)"]),
    ("extend-before-the-plan", ["extend", "6:finance:2022", "--to", "2020-01-01", "--reason", "x"],
     ["6:finance:2022: --to 2020-01-01 is outside the dates an extension may name"]),
    ("expand-from-9999", ["expand", "--from", "9999-12-31", "--to", "9999-12-31"], ["'--from'", "9999-12-31", OUTSIDE]),
    ("expand-to-0001", ["expand", "--to", "0001-01-01"], ["'--to'", "0001-01-01", OUTSIDE]),
    ("expand-as-of-0001", ["expand", "--as-of", "0001-01-01"], ["'--as-of'", "0001-01-01", OUTSIDE]),
    ("explain-as-of-9999", ["explain", "7:finance:2022", "--as-of", "9999-12-31"], ["'--as-of'", "9999-12-31", OUTSIDE]),
    ("tick-now-9999", ["tick", "--now", "9999-12-31T23:59"], ["--now: '9999-12-31T23:59' " + OUTSIDE]),
    ("tick-now-0001", ["tick", "--now", "0001-01-01"], ["--now: '0001-01-01' " + OUTSIDE]),
    ("status-now-9999", ["status", "--now", "9999-12-31T00:00"], ["--now: '9999-12-31T00:00' " + OUTSIDE]),
    ("submit-at-0001", ["submit", "6:finance:2022", "--at", "0001-01-01"], ["6:finance:2022: --at: '0001-01-01' " + OUTSIDE]),
    ("submit-at-0001-offset", ["submit", "6:finance:2022", "--at", "0001-01-01T00:00+05:00"],
     ["--at: '0001-01-01T00:00+05:00' " + OUTSIDE]),
    ("submit-ref-date-9999", ["submit", "6:finance:2022", "--ref", "1", "--ref-date", "9999-12-31"],
     ["'--ref-date'", "9999-12-31", OUTSIDE]),
    ("submit-held-on-0001", ["submit", "1:mvd:2022", "--held-on", "0001-01-01"], ["'--held-on'", "0001-01-01", OUTSIDE]),
    ("simulate-9999", ["simulate", "--from", "9999-12-01", "--to", "9999-12-31"], ["'--from'", "9999-12-01", OUTSIDE]),
    ("simulate-0001", ["simulate", "--from", "2022-01-01", "--to", "0001-01-31"], ["'--to'", "0001-01-31", OUTSIDE]),
    ("close-before-9999", ["close", "--before", "9999-12-31", "--reason", "x"], ["'--before'", "9999-12-31", OUTSIDE]),
    ("run-clock-9999", ["run", "--clock", "9999-12-31"], ["--clock: '9999-12-31T00:00' " + OUTSIDE]),
    ("feeds-revoke-id-past-integer", ["feeds", "revoke", "--id", "99999999999999999999"],
     ["'--id'", "99999999999999999999 is not in the range 1<=x<=2147483647"]),
]
URLS = [
    ("postgresql+nodriver://scheduler@127.0.0.1/scheduler", "the driver 'postgresql+nodriver' is not supported"),
    ("postgresql+psycopg2://scheduler@127.0.0.1/scheduler", "the driver 'postgresql+psycopg2' is not supported"),
    ("sqlite+pysqlcipher:///var/scheduler.db", "the driver 'sqlite+pysqlcipher' is not supported"),
    ("sqlite:///var/scheduler.db?timeout=soon", "'sqlite:///var/scheduler.db?timeout=soon': ValueError"),
]


def command() -> str:
    found = shutil.which("scheduler", path=str(Path(sys.executable).parent)) or shutil.which("scheduler")
    assert found, "the `scheduler` console script is not installed"
    return found


def clean_env(**extra) -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}, **extra}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The plan, the example contacts and a database synced from them."""
    base = tmp_path_factory.mktemp("synced")
    shutil.copy(ROOT / "obligations.toml", base / "obligations.toml")
    shutil.copy(ROOT / "examples" / "contacts.csv", base / "contacts.csv")
    result = forkserver.run([command(), "sync"], cwd=base, env=clean_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    return base


def database_state(directory: Path) -> str:
    with sqlite3.connect(directory / "var" / "scheduler.db") as connection:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()


def run(template, tmp_path, args, **env):
    work = tmp_path / "work"
    shutil.copytree(template, work)
    before = database_state(work)
    result = forkserver.run([command(), *args], cwd=work, env=clean_env(**env))
    return result, before, database_state(work)


def check(result, before, after, fragments):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(said) == 1, result.stderr  # one line says what is wrong
    for fragment in fragments:
        assert fragment in said[0], (fragment, result.stderr)
    assert after == before, "the database was not changed"


@pytest.mark.parametrize(("case", "args", "fragments"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_dates_and_numbers_out_of_range(template, tmp_path, case, args, fragments):
    check(*run(template, tmp_path, args), fragments)


@pytest.mark.parametrize(("url", "fragment"), URLS, ids=[u[0].split(":")[0] for u in URLS])
def test_a_database_url_with_a_driver_that_is_not_there(template, tmp_path, url, fragment):
    for args in (["show", "7:finance:2022"], ["sync"]):
        result, before, after = run(template, tmp_path / args[0], args, SCHEDULER_DATABASE_URL=url)
        check(result, before, after, ["SCHEDULER_DATABASE_URL", fragment])
