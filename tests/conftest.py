from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.plan import load_plan
from tests.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PLAN = ROOT / "obligations.toml"

MINIMAL_PLAN = textwrap.dedent(
    """\
    schema = 1

    [plan]
    id = "test-plan"
    title_kk = "Сынақ жоспары"
    number = "1"
    date = 2021-02-24
    adopted = 2021-02-24
    period = { from = 2021, to = 2023 }
    coordinator = "labour"

    [agency.labour]
    kind = "ministry"
    short_kk = "Еңбекмині"
    name_kk = "Еңбек министрлігі"

    [agency.mvd]
    kind = "ministry"
    short_kk = "ІІМ"
    name_kk = "Ішкі істер министрлігі"

    [[obligation]]
    id = "7"
    title_kk = "Талдау нәтижелері"
    responsible = ["labour", "mvd"]
    due = { kind = "annual", month = 12, day = 10 }
    """
)


def one_off_plan(plan_id: str, adopted, due, *, responsible=("labour",), coordinator: str = "labour",
                 last_year: int | None = None) -> str:
    """A plan of Еңбекмині and ІІМ with one deadline on `due` (no shift): for tests whose dates must
    lie ahead of the wall clock."""
    return f"""schema = 1

[plan]
id = "{plan_id}"
title_kk = "Сынақ жоспары"
number = "1"
date = {adopted}
adopted = {adopted}
period = {{ from = {adopted.year}, to = {last_year or due.year} }}
coordinator = "{coordinator}"

[agency.labour]
kind = "ministry"
short_kk = "Еңбекмині"
name_kk = "Еңбек министрлігі"

[agency.mvd]
kind = "ministry"
short_kk = "ІІМ"
name_kk = "Ішкі істер министрлігі"

[[obligation]]
id = "1"
title_kk = "Ақпарат беру"
responsible = [{", ".join(f'"{r}"' for r in responsible)}]
due = {{ kind = "once", date = {due} }}
shift = "none"
"""


@pytest.fixture(scope="session")
def shipped_plan():
    return load_plan(SHIPPED_PLAN)


@pytest.fixture(scope="session")
def kz_calendar():
    return WorkdayCalendar("KZ", "en")


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def write_plan(tmp_path):
    def write(text: str, name: str = "plan.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


# Modules holding tests of ten seconds and more (real processes, the browser, a crash and its
# restart): collected first, so that the workers start on them and end on the short ones, and no
# long test is left alone at the end of a run. The order within a module is kept.
LONG_FIRST = (
    "test_crash_faults", "test_daemon_commands", "test_pages_browser", "test_email_links_browser",
    "test_close_history_command", "test_slow_clients", "test_dashboard_browser", "test_review_browser",
    "test_store_state", "test_first_run", "test_email_browser", "test_email_sizes", "test_api_schema",
    "test_answer_browser", "test_guide_screenshots", "test_token_commands", "test_answer_commands", "test_events",
    "test_webhook_crash", "test_focal_browser", "test_processes", "test_concurrent_start",
)


def pytest_collection_modifyitems(items):
    rank = {name: place for place, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__.rpartition(".")[2] if item.module else "", len(rank)))
