"""Which days are working days, from the `holidays` package's calendar for the plan's country.

The package knows Kazakhstan's public holidays, the days off moved onto weekdays by government
decision, and the Saturdays made working days in exchange (`weekend_workdays`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import sys

import holidays
from holidays.registry import COUNTRIES

# The holidays package names KZ holidays in Kazakh ("kk") and English ("en_US"); Russian is not
# among its translations, so Russian output uses the English names.
_HOLIDAY_LANGUAGE = {"kk": "kk", "en": "en_US", "ru": "en_US"}
_SEARCH_LIMIT = 60  # no real calendar has two months without a working day


def holiday_class(country: str) -> type[holidays.HolidayBase]:
    """The `holidays` package's calendar class for a country code (as `country_holidays` takes it),
    its module imported alone: the package's `holidays.countries` imports every country's module
    when it is imported itself (some 250 of them, over 100 ms of every command's start-up), so it
    is stood in for, unexecuted, while the one module loads. NotImplementedError for an unknown code."""
    for module, (name, *codes) in COUNTRIES.items():
        if country in codes:
            break
    else:
        raise NotImplementedError(f"Country {country} not available")
    qualified = f"holidays.countries.{module}"
    if qualified not in sys.modules and "holidays.countries" not in sys.modules:
        package = importlib.util.module_from_spec(importlib.util.find_spec("holidays.countries"))
        sys.modules["holidays.countries"] = package  # its __path__ only: submodules import from it
        try:
            importlib.import_module(qualified)
        finally:
            del sys.modules["holidays.countries"]  # a later `import holidays.countries` runs it whole
    return getattr(importlib.import_module(qualified), name)


class WorkdayCalendar:
    def __init__(self, country: str = "KZ", lang: str = "en"):
        self._days_off = holiday_class(country)(language=_HOLIDAY_LANGUAGE.get(lang, "en_US"))
        self._working: dict[dt.date, bool] = {}

    def is_working_day(self, day: dt.date) -> bool:
        working = self._working.get(day)
        if working is None:
            working = self._working[day] = self._days_off.is_working_day(day)
        return working

    def day_off_reason(self, day: dt.date) -> str | None:
        """Why `day` is not a working day (a holiday's name, or the weekend), None if it is one."""
        if self.is_working_day(day):
            return None
        name = self._days_off.get(day)
        if name:
            return name
        return "weekend"

    def is_transferred_working_day(self, day: dt.date) -> bool:
        """A Saturday or Sunday made a working day in exchange for a day off elsewhere."""
        return day in self._days_off.weekend_workdays

    def shift(self, day: dt.date, direction: str) -> dt.date:
        """The working day a nominal date moves to: `previous`, `next`, or unchanged (`none`)."""
        if direction == "none" or self.is_working_day(day):
            return day
        step = dt.timedelta(days=-1 if direction == "previous" else 1)
        for _ in range(_SEARCH_LIMIT):
            day += step
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within {_SEARCH_LIMIT} days of {day}")

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `day` (before it when negative); `day` itself not counted."""
        step = dt.timedelta(days=1 if count >= 0 else -1)
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day
