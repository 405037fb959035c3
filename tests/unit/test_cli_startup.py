"""The command line starts light: `scheduler --help` lists every command with its help, and
registering the commands imports none of the heavy libraries (they are imported inside the commands;
bench/startup.py measures the start-up time)."""

from __future__ import annotations

import json
import subprocess
import sys

# Every command of `scheduler`; a new one is added here, so that a registration lost to a lazy
# import is noticed.
COMMANDS = {
    "accept", "close", "diff", "expand", "explain", "extend", "feeds", "links", "new-plan", "reopen", "report",
    "return", "run", "show", "simulate", "status", "submit", "sync", "tick", "users", "validate",
}

HEAVY = ("pydantic", "pydantic_settings", "holidays", "babel", "jinja2", "sqlalchemy", "sqlmodel",
         "email_validator", "wcwidth", "icalendar", "dateutil", "uvicorn", "starlette")


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_help_lists_every_command_with_its_help():
    from scheduler.cli import cli

    shown = _fresh(
        "import sys\n"
        "sys.argv = ['scheduler', '--help']\n"
        "from scheduler.cli import main\n"
        "main()\n"
    )
    listed = {}
    in_commands = False
    for line in shown.splitlines():
        if line.startswith("Commands:"):
            in_commands = True
        elif in_commands and line.startswith("  ") and line.strip():
            name, _, help_text = line.strip().partition(" ")
            listed[name] = help_text.strip()
    assert COMMANDS <= set(listed), f"not listed by --help: {sorted(COMMANDS - set(listed))}"
    assert set(cli.commands) == set(listed)
    for name, command in cli.commands.items():
        assert listed[name], f"{name}: no help text in --help"
        whole = command.get_short_help_str(limit=10_000)
        assert whole.startswith(listed[name].removesuffix("...").rstrip()), name


def test_registering_the_commands_imports_no_heavy_library():
    loaded = json.loads(_fresh(
        "import json, sys\n"
        "import scheduler.cli\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))\n"
    ))
    assert loaded == []


def test_the_stores_head_is_alembics_and_a_current_database_needs_no_alembic(tmp_path):
    """`store.db.HEAD` names the newest migration, so a command on a database already at it checks
    the revision without loading Alembic (a fifth of a second of every command's start)."""
    from alembic.script import ScriptDirectory

    from scheduler.store.db import HEAD, MIGRATIONS

    assert HEAD == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    url = f"sqlite:///{tmp_path / 'store.db'}"
    loaded = json.loads(_fresh(
        "import json, sys\n"
        "from scheduler.store.db import connect, migrate\n"
        f"migrate(connect({url!r}))\n"
        "before = 'alembic' in sys.modules\n"
        "sys.modules.pop('alembic', None)\n"
        "from scheduler.store.db import check_schema\n"
        f"engine = connect({url!r})\n"
        "migrate(engine); check_schema(engine)\n"
        "print(json.dumps([before, 'alembic' in sys.modules]))\n"
    ))
    assert loaded == [True, False], "a new database is migrated with Alembic; one at the head needs it not"
