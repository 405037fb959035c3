"""`scheduler diff OLD NEW` and `scheduler sync --dry-run`, through the installed command: what a
plan change does before it is applied, and the dry run changes nothing in the database."""

import hashlib
import json

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.integration.conftest import postgres_url  # noqa: F401 - a fresh PostgreSQL database per test
from tests.unit.test_diff import add_group_member, edit_obligation

pytestmark = pytest.mark.acceptance


def shipped() -> str:
    return (ROOT / "obligations.toml").read_text(encoding="utf-8")


def moved_seven(text: str) -> str:
    return edit_obligation(text, "7", "month = 12, day = 10", "month = 12, day = 20")


def test_diff_prints_each_change_as_json_and_a_table_per_agency(scheduler):
    edited = add_group_member(moved_seven(shipped()), "akimats", "digital")
    edited = edit_obligation(edited, "3", 'recipient = "vak-working-body"', 'recipient = "government"')
    (scheduler.cwd / "new.toml").write_text(edited, encoding="utf-8")
    result = scheduler("diff", "obligations.toml", "new.toml", "--format", "json")
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)
    by_key = {(c["occurrence"], c["change"]): c for c in changes}
    moved = by_key[("7:finance:2022", "moved")]
    assert (moved["before"], moved["after"], moved["due_before"], moved["due_after"]) == (
        "2022-12-09", "2022-12-20", "2022-12-09", "2022-12-20")
    assert moved["agency"] == "finance" and moved["obligation"] == "7" and moved["period"] == "2022"
    recipient = by_key[("3:mvd:2021-07-01", "recipient")]
    assert (recipient["before"], recipient["after"]) == ("labour", "government")
    added = by_key[("2:digital:2021-07-01", "added")]
    assert added["before"] is None and added["after"] == "2021-07-01" and added["agency"] == "digital"
    assert {c["change"] for c in changes} == {"moved", "recipient", "added"}

    table = scheduler("diff", "obligations.toml", "new.toml")
    assert table.returncode == 0, table.stderr
    assert "Қаржымині (finance):" in table.stdout and "ЦДИАӨМ (digital):" in table.stdout
    assert "due date 2022-12-09 → 2022-12-20" in table.stdout


def test_diff_of_a_plan_with_itself_is_empty_and_exits_0(scheduler):
    result = scheduler("diff", "obligations.toml", "obligations.toml", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout) == []
    assert "no changes" in scheduler("diff", "obligations.toml", "obligations.toml").stdout


def test_an_invalid_new_plan_is_refused_naming_file_and_line(scheduler):
    broken = edit_obligation(shipped(), "7", "month = 12, day = 10", "month = 13, day = 10")
    (scheduler.cwd / "broken.toml").write_text(broken, encoding="utf-8")
    line = broken[: broken.index("month = 13")].count("\n") + 1
    result = scheduler("diff", "obligations.toml", "broken.toml")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"broken.toml:{line}:" in result.stderr and "obligation 7" in result.stderr
    missing = scheduler("diff", "nowhere.toml", "obligations.toml")
    assert missing.returncode == 2 and "nowhere.toml" in missing.stderr and "Traceback" not in missing.stderr


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sync_dry_run_lists_changes_flags_answers_and_changes_nothing(scheduler):
    assert scheduler("sync").returncode == 0
    assert scheduler("submit", "7:finance:2022", "--at", "2022-12-08T16:30", "--ref", "12-3/45").returncode == 0
    database = scheduler.cwd / "var" / "scheduler.db"
    before = digest(database)
    (scheduler.cwd / "obligations.toml").write_text(moved_seven(shipped()), encoding="utf-8")

    result = scheduler("sync", "--dry-run", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stderr and "9 moved" in result.stderr
    changes = {c["occurrence"]: c for c in json.loads(result.stdout)}
    assert set(changes) == {f"7:{a}:{y}" for a in ("finance", "mvd", "gpo") for y in (2021, 2022, 2023)}
    flagged = changes["7:finance:2022"]
    assert flagged["change"] == "moved" and (flagged["before"], flagged["after"]) == ("2022-12-09", "2022-12-20")
    assert flagged["answer"]["state"] == "submitted" and flagged["answer"]["ref"] == "12-3/45"
    assert "would move while submitted" in flagged["consequence"]
    assert changes["7:mvd:2022"]["answer"] is None

    table = scheduler("sync", "--dry-run")
    assert table.returncode == 0 and "! its due date would move while submitted" in table.stdout
    assert digest(database) == before, "the dry run changed the database"

    applied = scheduler("sync")  # and sync does what the dry run said
    assert applied.returncode == 0 and "9 moved" in applied.stdout
    assert scheduler("sync", "--dry-run").stdout.count("no changes") == 1


def test_sync_dry_run_never_creates_or_migrates_a_database(scheduler):
    result = scheduler("sync", "--dry-run")
    assert result.returncode == 2 and "no database yet" in result.stderr and "Traceback" not in result.stderr
    assert not (scheduler.cwd / "var" / "scheduler.db").exists()
    from tests.acceptance.test_store_state import downgrade_one

    assert scheduler("sync").returncode == 0
    url = f"sqlite:///{scheduler.cwd / 'var' / 'scheduler.db'}"
    downgrade_one(url)
    before = digest(scheduler.cwd / "var" / "scheduler.db")
    refused = scheduler("sync", "--dry-run")
    assert refused.returncode == 2 and "needs an upgrade" in refused.stderr
    assert digest(scheduler.cwd / "var" / "scheduler.db") == before


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        tables = connection.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).scalars().all()
        counts = {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}
        counts["updated"] = connection.execute(text("SELECT max(updated_at)::text FROM occurrence")).scalar()
        counts["sequence"] = connection.execute(text("SELECT sum(sequence) FROM occurrence")).scalar()
    engine.dispose()
    return counts


def test_sync_dry_run_on_postgresql_changes_no_row(scheduler, postgres_url):  # noqa: F811
    env = {"SCHEDULER_DATABASE_URL": postgres_url}
    assert scheduler("sync", env_extra=env).returncode == 0
    assert scheduler("submit", "7:finance:2022", "--at", "2022-12-08T16:30", env_extra=env).returncode == 0
    before = row_counts(postgres_url)
    (scheduler.cwd / "obligations.toml").write_text(moved_seven(shipped()), encoding="utf-8")
    result = scheduler("sync", "--dry-run", "--format", "json", env_extra=env)
    assert result.returncode == 0, result.stderr
    flagged = {c["occurrence"]: c for c in json.loads(result.stdout)}["7:finance:2022"]
    assert flagged["answer"]["state"] == "submitted"
    assert row_counts(postgres_url) == before
