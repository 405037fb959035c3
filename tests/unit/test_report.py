import datetime as dt

from scheduler.report import Owed, compliance, total, working_days_late

D = dt.date


def test_lateness_counts_working_days_only(kz_calendar):
    assert working_days_late(kz_calendar, D(2022, 12, 9), D(2022, 12, 9)) == 0
    assert working_days_late(kz_calendar, D(2022, 12, 9), D(2022, 12, 12)) == 1  # over the weekend
    assert working_days_late(kz_calendar, D(2022, 12, 9), D(2022, 12, 19)) == 5  # 16 December is a holiday


def test_each_occurrence_counts_once_in_the_right_column(kz_calendar):
    owed = [
        Owed("finance", D(2022, 12, 9), D(2022, 12, 8)),  # on time
        Owed("finance", D(2022, 12, 9), D(2022, 12, 9)),  # on the day: on time
        Owed("finance", D(2022, 12, 9), D(2022, 12, 13)),  # 2 working days late
        Owed("finance", D(2022, 12, 9), D(2022, 12, 19)),  # 5 working days late
        Owed("finance", D(2022, 12, 9), None),  # missing
        Owed("mvd", D(2022, 12, 30), None),  # not yet due: pending
    ]
    rows = {r.agency: r for r in compliance(owed, {"finance": "Қаржымині"}, D(2022, 12, 20), kz_calendar)}
    finance = rows["finance"]
    assert (finance.name, finance.owed, finance.on_time, finance.late, finance.missing, finance.pending) == ("Қаржымині", 5, 2, 2, 1, 0)
    assert (finance.late_working_days, finance.most_late_working_days) == (7, 5)
    assert (rows["mvd"].owed, rows["mvd"].pending, rows["mvd"].missing) == (1, 1, 0)
    sums = total(list(rows.values()))
    assert (sums.owed, sums.on_time + sums.late + sums.missing + sums.pending) == (6, 6)
