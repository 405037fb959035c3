"""What every command shares: the `scheduler` click group, the date type, the plan and settings
options and their loading. Light at import: see the start-up note below."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler import __version__

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from scheduler.calendar.workdays import WorkdayCalendar
    from scheduler.plan import Plan
    from scheduler.settings import Settings

# Start-up time: `scheduler --help` and every command's registration import only click and these
# light modules. The plan (pydantic), the settings (pydantic-settings), the calendar (holidays),
# Babel, the store and the rest are imported inside the functions and commands that use them
# (tests/unit/test_cli_startup.py keeps it so; bench/startup.py measures it).


class IsoDate(click.DateTime):
    """A date written YYYY-MM-DD, within the dates the program takes (`scheduler.bounds`: 1900 to
    2200); one type for every command's date option, so that none lets 0001-01-01 or 9999-12-31
    through to date arithmetic that overflows. The value is a datetime at midnight, as click's."""

    def __init__(self) -> None:
        super().__init__(formats=["%Y-%m-%d"])

    def convert(self, value, param, ctx):
        from scheduler.bounds import FIRST, LAST, within

        found = super().convert(value, param, ctx)
        if not within(found.date()):
            self.fail(f"{found.date().isoformat()} is outside the dates this program takes "
                      f"({FIRST.isoformat()} … {LAST.isoformat()})", param, ctx)
        return found


ISO_DATE = IsoDate()


def _settings() -> Settings:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        from scheduler.settings import load_settings

        root.obj = load_settings()
    return root.obj


def _plan(plan_path) -> Plan:
    """The plan(s) `--plan` names (a file or a directory, given once or more), else SCHEDULER_PLAN's."""
    from scheduler.plan import load_plan

    return load_plan(plan_path or _settings().plan)


def _zone(plan: Plan) -> ZoneInfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(_settings().timezone or plan.policy.timezone)


def _calendar(plan: Plan, lang: str = "en") -> WorkdayCalendar:
    from scheduler.calendar.workdays import WorkdayCalendar

    return WorkdayCalendar(plan.policy.holidays, lang)


plan_option = click.option(
    "--plan",
    "plan_path",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Plan file, or a directory whose *.toml files are plans; give it again to load several "
    "plans together (default: $SCHEDULER_PLAN or obligations.toml).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scheduler")
def cli() -> None:
    """Deadlines, reminders and escalations for a government action plan."""
