"""What a head reads on the dashboard, over real HTTP: "Who is late" follows every filter of the page
(body, item, year, month, day, state, words searched for, and several at once), and the compliance
charts and table count only the deadlines already due — a month whose deadlines fall due tomorrow,
a few answered early, does not read 100 % on time today."""

import datetime as dt
import re
from collections import Counter
from html import unescape
from zoneinfo import ZoneInfo

from sqlmodel import select

from scheduler.app.answer import operator_submit
from scheduler.store.db import session
from scheduler.store.tables import OccurrenceRow
from tests.integration.test_dashboard import NOW, call, served  # noqa: F401 - the fixture

ALMATY = ZoneInfo("Asia/Almaty")
TODAY = NOW.astimezone(ALMATY).date()  # 12 December 2022


def late_shown(page: str) -> tuple[int, dict[str, int]]:
    """(the overdue count said, {agency code: its overdue count}) of "Who is late" (a body listed
    under each name it had: Nur-Sultan's and Astana's akimat, summed)."""
    said = re.search(r'<p id="overdue-summary">(\d+) deadlines? (?:is|are) overdue\.</p>', page)
    listed: Counter = Counter()
    for code, n in re.findall(r'<li><a href="/agencies/([\w-]+)\?lang=en">[^<]*</a> — '
                              r'<span class="late-count">(\d+) overdue</span></li>', page):
        listed[code] += int(n)
    return (int(said.group(1)) if said else 0), dict(listed)


def late_rows(service) -> list[OccurrenceRow]:
    with session(service.engine) as db:
        rows = db.exec(select(OccurrenceRow).where(OccurrenceRow.status == "active",
                                                   OccurrenceRow.state.in_(("open", "returned")),
                                                   OccurrenceRow.due < TODAY)).all()
    return [r for r in rows if r.agency not in service.plan.placeholders]


def test_who_is_late_follows_every_filter(served):  # noqa: F811
    base, service = served()
    late = late_rows(service)
    assert len(late) > 500
    cases = {
        "": lambda r: True,
        "agency=finance": lambda r: r.agency == "finance",
        "obligation=17": lambda r: r.obligation == "17",
        "year=2021": lambda r: r.due.year == 2021,
        "month=2022-06": lambda r: (r.due.year, r.due.month) == (2022, 6),
        "day=2022-12-09": lambda r: r.due == dt.date(2022, 12, 9),
        "state=overdue": lambda r: True,
        "state=open": lambda r: False,  # open means not yet due: none of them is late
        "state=accepted": lambda r: False,
        "agency=mvd&year=2022": lambda r: r.agency == "mvd" and r.due.year == 2022,
        "obligation=7&month=2022-12": lambda r: r.obligation == "7" and (r.due.year, r.due.month) == (2022, 12),
        "year=2022&state=overdue&agency=labour": lambda r: r.agency == "labour" and r.due.year == 2022,
    }
    for query, chosen in cases.items():
        status, _, page = call(f"{base}/?{query}&lang=en")
        assert status == 200, query
        expected = Counter(r.agency for r in late if chosen(r))
        said, listed = late_shown(page)
        assert said == sum(expected.values()), (query, said, sum(expected.values()))
        assert listed == dict(expected), (query, set(listed.items()) ^ set(expected.items()))
        if not expected:
            assert 'id="overdue-summary"' not in page and 'id="late-agencies"' not in page, query
            assert "Nobody is late among the deadlines the filters below select." in page, query
        elif query:
            assert "Counted among the deadlines the filters below select." in page, query

    # words searched for: the late of the bodies and items whose words hold them
    status, _, page = call(f"{base}/?q=Ministry+of+Finance&lang=en")
    said, listed = late_shown(page)
    everything = Counter(r.agency for r in late)
    assert status == 200 and listed.get("finance") == everything["finance"] and said == sum(listed.values())
    assert 0 < said < len(late) and "akimat-akmola" not in listed
    status, _, page = call(f"{base}/?q=Ministry+of+Finance&agency=mvd&lang=en")
    assert late_shown(page) == (0, {})


def month_column(page: str, number: int) -> str:
    """The text the chart by month shows over the month `number` (1-12)."""
    chart = page[page.index('id="chart-months"'):]
    chart = chart[:chart.index("</svg>")]
    return unescape(re.findall(r"<title>[^<:]*: ([^<]*)</title>", chart)[number - 1])


def test_the_charts_count_only_the_deadlines_already_due(served):  # noqa: F811
    """On Thursday 8 December 2022, 305 deadlines fall due tomorrow; five answered early. December
    reads what its deadlines already due say (none answered: 0 %), not 100 %, and the five are
    counted as not yet due."""
    thursday = dt.datetime(2022, 12, 8, 5, 0, tzinfo=dt.timezone.utc)
    base, service = served(now=thursday)
    today = thursday.astimezone(ALMATY).date()
    with session(service.engine) as db:
        rows = db.exec(select(OccurrenceRow).where(OccurrenceRow.status == "active")).all()
    rows = [r for r in rows if r.agency not in service.plan.placeholders and r.state != "closed"]
    tomorrow = sorted((r for r in rows if r.due == dt.date(2022, 12, 9)), key=lambda r: r.id)
    assert len(tomorrow) > 300
    early = dt.datetime(2022, 12, 7, 10, 0, tzinfo=ALMATY)
    for row in tomorrow[:5]:
        operator_submit(service, row.id, early, "early", early, None)
    december = [r for r in rows if (r.due.year, r.due.month) == (2022, 12)]
    come = [r for r in december if r.due < today]
    status, _, page = call(f"{base}/?year=2022&lang=en")
    assert status == 200
    shown = month_column(page, 12)
    assert shown != "100%", "tomorrow's deadlines answered early are not on time yet"
    assert shown == ("0%" if come else "—"), (shown, len(come))
    # the year's table: the five are pending, and the rate is on time ÷ the deadlines that have come
    year = [r for r in rows if r.due.year == 2022]
    missing = sum(1 for r in year if r.due < today)  # nothing else of 2022 was answered
    pending = sum(1 for r in year if r.due >= today)
    total = re.search(r'<tr><th scope="row">All agencies</th><th class="num">([^<]*)</th><th class="num">(\d+)</th>'
                      r'<th class="num">(\d+)</th><th class="num">(\d+)</th><th class="num">(\d+)</th></tr>', page)
    assert total is not None
    assert (total.group(1), int(total.group(2)), int(total.group(3)), int(total.group(4)), int(total.group(5))) == \
        ("0%", len(year), 0, pending, missing)
    summary = re.search(r'<p id="compliance-summary">([^<]*)</p>', page).group(1)
    assert f"0 of {missing};" in unescape(summary)
