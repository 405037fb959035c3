import datetime as dt

import pytest

from scheduler.calendar.workdays import WorkdayCalendar

D = dt.date


@pytest.mark.parametrize(
    ("nominal", "direction", "due"),
    [
        (D(2022, 12, 10), "previous", D(2022, 12, 9)),  # Saturday
        (D(2022, 12, 10), "next", D(2022, 12, 12)),
        (D(2022, 12, 10), "none", D(2022, 12, 10)),
        (D(2021, 12, 10), "previous", D(2021, 12, 10)),  # a Friday: no shift
        # Nauryz 2021 fell on a Sunday, so Wednesday 24 March was the day off moved in its place.
        (D(2021, 3, 24), "previous", D(2021, 3, 19)),
        (D(2021, 3, 24), "next", D(2021, 3, 25)),
        # Monday 7 March 2022 was a day off in exchange for Saturday 5 March, which was worked.
        (D(2022, 3, 7), "previous", D(2022, 3, 5)),
        # Monday 5 July 2021 off in exchange for Saturday 3 July, which was worked.
        (D(2021, 7, 5), "previous", D(2021, 7, 3)),
        # Independence Day 16 December 2023 fell on a Saturday; Monday 18 December was off instead.
        (D(2023, 12, 18), "previous", D(2023, 12, 15)),
        (D(2023, 12, 16), "next", D(2023, 12, 19)),
    ],
)
def test_shift_moves_to_the_working_day_in_the_chosen_direction(kz_calendar, nominal, direction, due):
    assert kz_calendar.shift(nominal, direction) == due


def test_transferred_saturdays_are_working_days(kz_calendar):
    assert kz_calendar.is_working_day(D(2022, 3, 5))
    assert kz_calendar.is_transferred_working_day(D(2022, 3, 5))
    assert not kz_calendar.is_working_day(D(2022, 3, 12))  # an ordinary Saturday
    assert not kz_calendar.is_transferred_working_day(D(2022, 3, 12))


def test_day_off_reason_names_the_holiday_or_the_weekend(kz_calendar):
    assert "Nowruz" in kz_calendar.day_off_reason(D(2021, 3, 24))
    assert kz_calendar.day_off_reason(D(2022, 12, 10)) == "weekend"
    assert kz_calendar.day_off_reason(D(2022, 12, 9)) is None


def test_holiday_names_come_in_kazakh_when_asked():
    assert WorkdayCalendar("KZ", "kk").day_off_reason(D(2022, 12, 16)) == "Тәуелсіздік күні"


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (D(2022, 12, 9), 1, D(2022, 12, 12)),  # Friday + 1 working day: over the weekend
        (D(2022, 12, 15), 1, D(2022, 12, 19)),  # Independence Day on Friday 16 December
        (D(2022, 12, 12), -1, D(2022, 12, 9)),
        (D(2021, 3, 19), 1, D(2021, 3, 25)),  # over the Nauryz days off
        (D(2022, 12, 9), 5, D(2022, 12, 19)),
        (D(2022, 12, 9), 0, D(2022, 12, 9)),
    ],
)
def test_add_working_days(kz_calendar, start, count, expected):
    assert kz_calendar.add_working_days(start, count) == expected
