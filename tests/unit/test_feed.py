"""The iCalendar feed's bytes follow RFC 5545/7986 and what calendar clients need."""

import datetime as dt

from icalendar import Calendar

from scheduler.feeds.ics import Deadline, deadlines_calendar

STAMP = dt.datetime(2023, 3, 17, tzinfo=dt.timezone.utc)
LONG_KAZAKH = "Адам саудасының қылмыстарынан жәбірленушілерге зиянды өтеу мен Жәбірленушілерге өтемақы қорынан өтемақыларды төлеу"
EVENTS = [
    Deadline("7:finance:2022", dt.date(2022, 12, 9), "Қаржымині: 7. " + LONG_KAZAKH, LONG_KAZAKH * 3, 2,
             dt.datetime(2022, 11, 1, 3, 0, 12, 345, tzinfo=dt.timezone.utc)),
    Deadline("7:gpo:2021", dt.date(2021, 12, 10), "БП: 7. Талдау", "x", 0, None, cancelled=True),
    Deadline("6:mvd:2022", dt.date(2022, 12, 9), "ІІМ: 6. Ақпарат", "y", 0, None, submitted=True),
]


def render():
    return deadlines_calendar(EVENTS, "kz-tip-2021-2023 — Қаржымині", STAMP)


def test_lines_are_crlf_folded_at_75_octets_without_splitting_characters():
    data = render()
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # a fold never cuts a multi-byte character


def test_calendar_properties_are_written_as_durations_and_without_method():
    lines = render().decode().split("\r\n")
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT12H" in lines
    assert "X-PUBLISHED-TTL:PT12H" in lines
    assert "X-WR-CALNAME:kz-tip-2021-2023 — Қаржымині" in lines and "NAME:kz-tip-2021-2023 — Қаржымині" in lines
    assert not [line for line in lines if line.startswith("METHOD")]


def test_events_are_all_day_with_stable_uids_and_change_stamps():
    calendar = Calendar.from_ical(render())
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"7:finance:2022@obligation-scheduler", "7:gpo:2021@obligation-scheduler", "6:mvd:2022@obligation-scheduler"}
    finance = events["7:finance:2022@obligation-scheduler"]
    assert finance.decoded("DTSTART") == dt.date(2022, 12, 9) and finance.decoded("DTEND") == dt.date(2022, 12, 10)
    assert finance.decoded("DTSTAMP") == dt.datetime(2022, 11, 1, 3, 0, 12, tzinfo=dt.timezone.utc)
    assert finance.decoded("LAST-MODIFIED") == finance.decoded("DTSTAMP")
    assert finance["SEQUENCE"] == 2 and str(finance["STATUS"]) == "CONFIRMED"
    assert [str(a["ACTION"]) for a in finance.walk("VALARM")] == ["DISPLAY"]
    assert str(events["7:gpo:2021@obligation-scheduler"]["STATUS"]) == "CANCELLED"
    assert str(events["6:mvd:2022@obligation-scheduler"]["SUMMARY"]).startswith("✓ ")
    assert events["7:gpo:2021@obligation-scheduler"].decoded("DTSTAMP") == STAMP  # no change time: the feed's


def test_unchanged_data_gives_identical_bytes():
    assert render() == render()
    assert deadlines_calendar(list(reversed(EVENTS)), "kz-tip-2021-2023 — Қаржымині", STAMP) == render()


def test_an_event_speaks_its_readers_language():
    """Russian: the body's short name, the row's Russian title, form and recipient, and why the
    date moved, with no Kazakh but the proper names; Kazakh: the plan's own words."""
    import re
    from pathlib import Path

    from scheduler.calendar.workdays import WorkdayCalendar
    from scheduler.feeds import content
    from scheduler.plan import load_plan

    plan = load_plan(Path(__file__).resolve().parents[2] / "obligations.toml")
    calendar = WorkdayCalendar(plan.policy.holidays)
    # 10 December 2022 was a Saturday: the annual report was due on Friday the 9th.
    event = dict(plan=plan, calendar=calendar, occurrence_id="7:finance:2022", obligation_id="7", agency="finance",
                 nominal=dt.date(2022, 12, 10), due=dt.date(2022, 12, 9), recipient="working-body")
    russian = content.deadline(**event, lang="ru")
    assert russian.summary.startswith("Министерство финансов: 7. ")
    assert "Форма завершения: " in russian.description and "Куда: " in russian.description
    assert "10 декабря 2022 г. (суббота) — нерабочий день" in russian.description
    assert "рабочий перевод" in russian.description
    assert not re.findall(r"[әғқңөұүһі]", russian.summary + russian.description, re.I)
    kazakh = content.deadline(**event, lang="kk")
    assert kazakh.summary.startswith("Қаржымині: 7. ") and "Аяқталу нысаны: " in kazakh.description


def icalendar_rendering(deadlines, name, stamp):
    """The same calendar built with icalendar's components: what the direct writer must equal."""
    from icalendar import Alarm, Event, vDuration

    from scheduler.feeds import ics

    calendar = Calendar()
    for key, value in (("prodid", ics.PRODID), ("version", "2.0"), ("calscale", "GREGORIAN"), ("name", name),
                       ("x-wr-calname", name)):
        calendar.add(key, value)
    calendar.add("refresh-interval", vDuration(ics.REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(ics.REFRESH))
    for d in sorted(deadlines, key=lambda d: (d.due, d.occurrence_id)):
        changed = (d.last_modified or stamp).astimezone(dt.timezone.utc).replace(microsecond=0)
        event = Event()
        for key, value in (("uid", ics.uid_of(d.occurrence_id)), ("dtstamp", changed), ("last-modified", changed),
                           ("dtstart", d.due), ("dtend", d.due + dt.timedelta(days=1)),
                           ("summary", (ics.SUBMITTED_MARK if d.submitted else "") + d.summary),
                           ("description", d.description), ("sequence", d.sequence),
                           ("status", "CANCELLED" if d.cancelled else "CONFIRMED"), ("transp", "TRANSPARENT")):
            event.add(key, value)
        if not d.cancelled and not d.submitted:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", d.summary)
            alarm.add("trigger", -ics.ALARM_BEFORE)
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


def test_the_direct_writer_gives_icalendars_bytes():
    """Escaping and folding as icalendar does them: multi-byte characters, escapes and carets at a
    fold, time zones other than UTC, long and empty texts."""
    import random

    rng = random.Random(94)
    alphabet = "ab c\\^;,:\n\r" + "әғқңөұүһіЖ—✓😀" + "xyz" * 5
    text = lambda size: "".join(rng.choice(alphabet) for _ in range(rng.randrange(size)))  # noqa: E731
    for _ in range(300):
        deadlines = [
            Deadline(f"{text(20)}:{n}", dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(1000)), text(300),
                     text(800), rng.randrange(5),
                     rng.choice([None, dt.datetime(2022, 1, 2, 3, 4, 5, 678,
                                                   tzinfo=dt.timezone(dt.timedelta(hours=rng.randrange(-5, 6))))]),
                     cancelled=rng.random() < 0.2, submitted=rng.random() < 0.2)
            for n in range(rng.randrange(1, 5))
        ]
        name = text(100).replace("\n", "").replace("\r", "")
        assert deadlines_calendar(deadlines, name, STAMP) == icalendar_rendering(deadlines, name, STAMP)
    assert render() == icalendar_rendering(EVENTS, "kz-tip-2021-2023 — Қаржымині", STAMP)
