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
