"""Pages that stay small however large the plan: the dashboard's figures counted by the database
(the same as counting the rows one by one), its lists a page at a time, `/my` and `/review` a page
of each list at a time in kk, ru and en; the heavy work in its own lane, so that `/healthz` and
`/metrics` answer while it is full, computed once for many who ask at once and afresh after a
change. Correctness only: no timing is asserted (bench/dashboard_load.py measures)."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import uvicorn

from scheduler import templating
from scheduler.app import dashboard_queries, pages
from scheduler.app.answer import operator_submit
from scheduler.web.dashboard import figures as charts
from scheduler.web.dashboard import view
from scheduler.web.app import create_app
from scheduler.web.lanes import HEAVY_AT_ONCE
from tests.integration.queries import due_between
from tests.integration.web_client import Client
from tests.smtp import free_port

NOW = dt.datetime(2023, 3, 15, 5, 0, tzinfo=dt.timezone.utc)  # two years of the shipped plan behind
CREDENTIAL = ("admin", "correct horse")


def answered(service) -> None:
    """Some answers on time, some late, one closed and one returned, among the overdue ones."""
    from sqlmodel import select

    from scheduler.answers import CLOSE, RETURN
    from scheduler.app import answer
    from scheduler.store.db import session
    from scheduler.store.tables import OccurrenceRow

    with session(service.engine) as db:
        rows = db.exec(select(OccurrenceRow).where(OccurrenceRow.due < dt.date(2023, 3, 1))
                       .order_by(OccurrenceRow.due, OccurrenceRow.id)).all()
    for n, row in enumerate(rows[::3]):
        came = dt.datetime.combine(row.due + dt.timedelta(days=(-2, 0, 3, 20)[n % 4]), dt.time(4, 0), dt.timezone.utc)
        operator_submit(service, row.id, min(came, NOW - dt.timedelta(days=1)), None, NOW)
    for n, row in enumerate(rows[1::3][:40]):  # on the stroke of midnight in Almaty: the last minute is on time
        midnight = dt.datetime.combine(row.due + dt.timedelta(days=1), dt.time(), service.timing.zone)
        operator_submit(service, row.id, midnight - dt.timedelta(minutes=1) if n % 2 else midnight, None, NOW)
    answer.act(service.engine, service.timing, rows[1].id, CLOSE, now=NOW, reason="not applicable")
    answer.act(service.engine, service.timing, rows[0].id, RETURN, now=NOW, reason="incomplete")


@pytest.fixture
def served(make_service, tmp_path):
    servers = []

    def serve(database_url=None):
        service = make_service(database_url or f"sqlite:///{tmp_path / 'paging.db'}")
        port = free_port()
        app = create_app(lambda: service, lambda: NOW, CREDENTIAL)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        servers.append((server, thread))
        return Client(f"http://127.0.0.1:{port}", CREDENTIAL), service

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def following(page: str, anchor: str = "list") -> str | None:
    found = re.search(rf'href="([^"]+)#{anchor}" rel="next"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def walk(client: Client, address: str, anchor: str = "list", section=lambda page: page) -> tuple[list[str], list[str]]:
    """(the occurrence ids listed, page after page; the pages) from `address` to the last page."""
    listed, seen = [], []
    while address:
        status, _, page = client.get(address)
        assert status == 200, address
        seen.append(page)
        listed += re.findall(r'href="/occurrences/([^"?#]+)', section(page))
        address = following(page, anchor)
    return listed, seen


# --- the figures: the database's counts are the rows' -------------------------------------------

def test_the_database_counts_what_the_rows_would(make_service, database_url):
    """Month cells, the late per agency (named as on each row's date: Nur-Sultan before Astana),
    the year's compliance and every list, against the rows counted one by one in Python."""
    service = make_service(database_url)
    answered(service)
    engine, today = service.engine, service.timing.local_day(NOW)
    for lang in ("kk", "ru", "en"):
        words = view.Words(service.plan, lang, today, service.timing.zone)
        every = [words.row(e) for e in dashboard_queries.entries(engine)]
        assert len(every) > 1000
        for state, q in ((None, ""), ("overdue", ""), ("accepted", ""), ("closed", ""), (None, "2022"),
                         (None, words.agency("akimat-astana", dt.date(2022, 1, 1)).split()[0]), ("submitted", "7")):
            filters = view.Filters(state=state, q=q)
            for first in (dt.date(2022, 9, 1), dt.date(2022, 12, 1), dt.date(2023, 1, 1)):
                last = view.last_of_month(first)
                month = view.select_rows([r for r in every if first <= r.entry.due <= last], filters)
                counted = (dashboard_queries.by_day(engine, today, words.placeholders, first=first, last=last, state=state)
                           if not q else view.Search(q, words).by_day(engine, today, first=first, last=last, state=state))
                assert charts.month_cells_of(first, counted) == charts.month_cells(first, month), (lang, state, q, first)
            # the list, page after page, in the order the rows would have it
            wanted = [r.entry.id for r in view.select_rows(every, filters)]
            got, number = [], 1
            while True:
                shown = view.listing(engine, words, view.Filters(state=state, q=q, page=number), None, None, today)
                assert shown.count == len(wanted) and len(shown.rows) <= view.PAGE_SIZE
                got += [r.entry.id for r in shown.rows]
                if number >= shown.pages:
                    break
                number += 1
            assert got == wanted, (lang, state, q)
        # who is late, by name
        late: dict[tuple[str, str], int] = defaultdict(int)
        for row in every:
            if row.state == "overdue" and not row.placeholder:
                late[(row.entry.agency, row.agency_name)] += 1
        counted = defaultdict(int)
        for code, named_on, n in dashboard_queries.late_by_agency(engine, today, words.epochs):
            if code not in words.placeholders:
                counted[(code, words.agency(code, named_on or dt.date.max))] += n
        assert counted == late and any("akimat-astana" == code for code, _ in late)
        # the year's compliance
        for year in (2021, 2022, 2023, 2024):
            rows = [r for r in every if r.entry.due.year == year]
            figures = charts.year_figures(engine, year, today, service.calendar, words)
            assert charts.compliance_of(figures, words) == charts.compliance_by_agency(rows, today, service.calendar)
            assert figures.months == charts.compliance_by_month(rows, year, today, service.calendar)
            total = charts.Tally()
            for row in rows:
                total.add(row, today, service.calendar)
            assert figures.total == total


# --- the dashboard's lists, a page at a time ---------------------------------------------------

def test_the_dashboards_list_comes_a_page_at_a_time(served):
    client, service = served()
    answered(service)
    first_page = client.get("/?lang=en&year=2022")[2]
    total = int(re.search(r"(\d+) deadlines match", first_page).group(1))
    assert total > 2 * view.PAGE_SIZE
    assert "Shown: 1–50, by due date." in first_page and "page 1 of" in first_page and 'rel="prev"' not in first_page.split('id="list"')[1]
    listed, seen = walk(client, "/?lang=en&year=2022",
                        section=lambda page: page.split('id="list"')[1].split('id="compliance-heading"')[0])
    assert len(seen) == -(-total // view.PAGE_SIZE) and len(listed) == total == len(set(listed))
    every = dashboard_queries.entries(service.engine, first=dt.date(2022, 1, 1), last=dt.date(2022, 12, 31))
    assert listed == [e.id for e in every], "by due date, then in the plan's order, across the pages"
    assert f"page {len(seen)} of {len(seen)}" in seen[-1]
    beyond = client.get(f"/?lang=en&year=2022&page={len(seen) + 5}")[2]
    assert f"page {len(seen)} of {len(seen)}" in beyond, "a page past the last shows the last"
    # the words of the pager in Kazakh and Russian
    ru = client.get("/?lang=ru&year=2022&page=2")[2]
    assert "Показаны: 51–100, по сроку." in ru and "следующая" in ru and "предыдущая" in ru
    kk = client.get("/?lang=kk&year=2022&page=2")[2]
    assert "Көрсетілгені: 51–100, мерзімі бойынша." in kk and "келесі" in kk


def test_a_days_agencies_continue_on_the_next_page(served):
    client, service = served()
    day = dt.date(2022, 12, 9)
    listed, seen = walk(client, "/?lang=ru&day=2022-12-09", section=lambda page: page.split('id="list"')[1])
    assert len(seen) > 1 and sorted(listed) == sorted(oid for oid, *_ in due_between(service, day, day)[day])
    continued = [page for page in seen if "продолжение с предыдущей страницы" in page]
    assert continued, "an agency cut by a page break"
    for page in continued:  # the agency cut by the page break has its heading again, with its whole count
        heading = re.search(r'<section class="group" aria-label="([^"]+)"><h3><a [^>]+>[^<]+</a> \((\d+)\)', page)
        assert heading and int(heading.group(2)) > 0


# --- /my and /review, a page of each list ------------------------------------------------------

def test_my_page_lists_a_page_of_each_list(served):
    client, service = served()
    answered(service)
    today = service.timing.local_day(NOW)
    owed, done = pages.agency_deadlines(service.engine, None, today, size=10 ** 6)
    found = pages.focal_deadlines(service.engine, None, today, size=10 ** 6)
    current, older = found.owed, found.older
    assert current.total > pages.PAGE_SIZE and older.total > 2 * pages.PAGE_SIZE and done.total > pages.PAGE_SIZE
    assert current.total + older.total == owed.total
    status, _, page = client.get("/my?lang=en")
    assert status == 200 and f"Awaiting your answer ({owed.total})" in page and f"Answered ({done.total})" in page
    assert page.count('data-occurrence="') == pages.PAGE_SIZE * 3
    assert f"Shown 1–{pages.PAGE_SIZE} of {current.total}" in page and 'id="owed-next"' in page and 'id="owed-previous"' not in page
    # each card's own link (its "Answer" link leads to the same page)
    unanswered = lambda text: re.sub(r'<a class="act".*?</a>', "", text)  # noqa: E731
    section = lambda page: unanswered(page.split('id="owed"')[1].split("</ul>")[0])  # noqa: E731
    listed, seen = walk(client, "/my?lang=en", "owed", section)
    assert len(listed) == current.total == len(set(listed))
    assert listed == [e.row.id for e in current.entries], "the soonest due first, across the pages"
    assert all('id="answered-next"' in p and 'id="older-next"' in p for p in seen), "the other lists stay on their pages"
    earlier, folded = walk(client, "/my?lang=en", "older", lambda page: unanswered(page.split('id="older-cards"')[1].split("</ul>")[0]))
    assert earlier == [e.row.id for e in older.entries], "the earlier overdue, folded, the longest overdue first"
    assert sorted(listed + earlier) == sorted(e.row.id for e in owed.entries), "nothing owed is left out"
    assert '<details id="older">' in folded[0] and '<details id="older" open>' in folded[1], "a later page shows it open"
    answered_ids, _ = walk(client, "/my?lang=en", "answered", lambda page: page.split('id="answered"')[1].split("</ul>")[0])
    assert answered_ids == [e.row.id for e in done.entries], "the latest due first"
    ru = client.get("/my?lang=ru&older=2")[2]
    assert f"Показаны {pages.PAGE_SIZE + 1}–{2 * pages.PAGE_SIZE} из {older.total}" in ru and "Следующая страница" in ru
    assert "Предыдущая страница" in ru
    assert 'href="/my?older=3&amp;lang=ru#older"' in ru and 'href="/my?lang=ru#older"' in ru
    assert 'href="/my?owed=2&amp;older=2&amp;lang=ru#owed"' in ru, "the other list's pager keeps this one's page"
    kk = client.get("/my?lang=kk&owed=2")[2]
    assert "Алдыңғы бет" in kk and f"{pages.PAGE_SIZE + 1}–{current.total}" in kk
    assert 'name="owed" value="2"' in kk, "a refused answer shows the page it came from again"


def test_the_review_queue_lists_a_page_at_a_time(served):
    client, service = served()
    answered(service)
    answers, _ = pages.queue(service.engine, size=10 ** 6)
    assert answers.total > pages.PAGE_SIZE
    status, _, page = client.get("/review?lang=en")
    assert status == 200 and f"New answers ({answers.total})" in page
    listed, _ = walk(client, "/review?lang=en", "answers", lambda p: p.split('id="new-answers"')[1].split("</ul>")[0])
    assert listed == [e.row.id for e in answers.entries], "oldest first, every one once"


# --- lanes: the health check beside a full heavy lane; one computation for many ------------------

def test_healthz_and_metrics_answer_while_the_heavy_lane_is_full(served, monkeypatch):
    client, service = served()
    release, entered = threading.Event(), threading.Semaphore(0)
    real = dashboard_queries.year_counts

    def stuck(*args, **kwargs):
        entered.release()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard_queries, "year_counts", stuck)
    years = range(2021, 2021 + HEAVY_AT_ONCE + 2)  # a page each: more than the lane takes at once
    with ThreadPoolExecutor(len(years)) as pool:
        pending = [pool.submit(client.get, f"/?year={year}") for year in years]
        for _ in range(HEAVY_AT_ONCE):
            assert entered.acquire(timeout=20), "the heavy lane filled"
        assert not entered.acquire(timeout=0.5), "no more than the lane's size at once"
        status, _, body = client.get("/healthz")
        assert status == 200 and '"status":"ok"' in body.replace(" ", "")
        assert client.get("/metrics")[0] == 200
        release.set()
        assert [f.result()[0] for f in pending] == [200] * len(years)


def test_many_at_once_compute_once_and_a_change_is_seen_next(served, monkeypatch):
    client, service = served()
    calls, real = [], dashboard_queries.year_counts

    def counted(*args, **kwargs):
        calls.append(1)
        time.sleep(0.3)  # long enough for the others to ask meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard_queries, "year_counts", counted)
    with ThreadPoolExecutor(10) as pool:
        bodies = list(pool.map(lambda _: client.get("/?lang=en&year=2022")[2], range(10)))
    assert len(calls) == 1 and len(set(bodies)) == 1
    assert client.get("/?lang=en&year=2022&page=2")[0] == 200 and len(calls) == 1, "the figures serve every page"
    before = re.search(r"(\d+) of (\d+); (\d+) late", bodies[0]).groups()
    row = dashboard_queries.entries(service.engine, first=dt.date(2022, 12, 9), last=dt.date(2022, 12, 9), state="overdue",
                                    today=service.timing.local_day(NOW))[0]
    operator_submit(service, row.id, dt.datetime(2022, 12, 8, 5, 0, tzinfo=dt.timezone.utc), None, NOW)
    after = client.get("/?lang=en&year=2022")[2]
    assert len(calls) == 2, "a new answer: computed afresh"
    on_time, settled, _ = re.search(r"(\d+) of (\d+); (\d+) late", after).groups()
    assert (int(on_time), int(settled)) == (int(before[0]) + 1, int(before[1]))


def test_the_catalogs_have_the_pagers_words():
    for lang, words in (("kk", ("Келесі бет", "Алдыңғы бет")), ("ru", ("Следующая страница", "Предыдущая страница"))):
        said = templating.translations(lang)
        assert (said.gettext("Next page"), said.gettext("Previous page")) == words


# --- uploads: checked off the event loop, a ZIP of too many parts refused with a clear message -----

def test_an_answer_with_a_zip_of_too_many_parts_is_refused_and_nothing_recorded(served):
    import io
    import zipfile

    from scheduler.answers.files import MAX_PARTS
    from scheduler.app import sessions
    from tests.integration.web_client import field

    client, service = served()
    focal = Client(client.base)
    focal.cookies["scheduler_session"] = sessions.open_session(service.engine, "aigul@minfin.example.kz", NOW,
                                                               dt.timedelta(hours=8), None)
    page = focal.get("/my?lang=en")[2]
    oid = re.search(r'name="occurrence" value="([^"]+)"', page).group(1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w/>")
        for n in range(MAX_PARTS):
            archive.writestr(f"p/{n}", b"")
    status, _, shown = focal.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", oid),
                                                 ("ref", "12-3/45"), ("owed", "1")],
                                  [("files", "letter.pdf", b"%PDF-1.4\n%%EOF\n"), ("files", "Хат.docx", buffer.getvalue())])
    assert status == 400 and 'id="problem"' in shown
    assert "Хат.docx: the archive has more parts than a DOCX or XLSX may have; it was refused unread." in shown
    assert dashboard_queries.entries(service.engine, ids=[oid])[0].state == "open", "nothing recorded"
    status, headers, _ = focal.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", oid),
                                                   ("ref", "12-3/45")], [("files", "letter.pdf", b"%PDF-1.4\n%%EOF\n")])
    assert status == 303 and dashboard_queries.entries(service.engine, ids=[oid])[0].state == "submitted"


def test_a_kept_page_goes_gzipped_to_whoever_takes_gzip(served):
    import gzip

    client, _ = served()
    status, plain_headers, plain = client.call("/?lang=en&year=2022")
    assert status == 200 and "content-encoding" not in {k.lower() for k in plain_headers}
    status, headers, zipped = client.call("/?lang=en&year=2022", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and headers["content-encoding"] == "gzip" and "Accept-Encoding" in headers["vary"]
    assert gzip.decompress(zipped) == plain and len(zipped) < len(plain) / 4
    assert "content-encoding" not in client.call("/?lang=en&year=2022", headers={"Accept-Encoding": "gzip;q=0"})[1]
