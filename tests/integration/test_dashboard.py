"""The dashboard over real HTTP (uvicorn on loopback): credential, pages, the submission form, the
language, filters, the day list, month navigation, the agency's page, compliance and its XLSX."""

import base64
import datetime as dt
import io
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import uvicorn

from scheduler.app import pages, standing
from scheduler.app.answer import operator_submit
from scheduler.app.tick import tick
from scheduler.web.app import create_app
from tests.integration.queries import due_between
from tests.smtp import free_port

NOW = dt.datetime(2022, 12, 12, 5, 0, tzinfo=dt.timezone.utc)
CREDENTIAL = ("admin", "correct horse")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(url, *, auth=CREDENTIAL, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}))
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


@pytest.fixture
def served(make_service, tmp_path):
    """The ASGI app over a synced SQLite store, with or without an admin credential."""
    servers = []

    def serve(credential=CREDENTIAL, now=NOW, replay=False):
        service = make_service(f"sqlite:///{tmp_path / 'web.db'}")
        tick(service, now)
        port = free_port()
        app = create_app(lambda: service, lambda: now, credential, replay=replay)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1",
                                               port=port, log_level="warning", access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}", service

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def test_no_credential_means_no_basic_but_the_sign_in_page(served):
    """Without SCHEDULER_ADMIN_PASSWORD a script's Basic credential is refused (401, no challenge);
    a browser is sent to the sign-in page (the dashboard is for signed-in staff)."""
    base, _ = served(credential=None)
    status, headers, body = call(base + "/")
    assert status == 401 and "SCHEDULER_ADMIN_PASSWORD" in body and "www-authenticate" not in headers
    assert call(base + "/occurrences/7:finance:2022")[0] == 401
    status, headers, _ = call(base + "/", auth=None)
    assert status == 303 and headers["location"] == "/signin?next=%2F" and "www-authenticate" not in headers


def test_the_credential_is_required(served):
    base, service = served()
    status, headers, _ = call(base + "/", auth=None)
    assert status == 303 and headers["location"] == "/signin?next=%2F" and "www-authenticate" not in headers
    status, headers, _ = call(base + "/", auth=("admin", "wrong"))
    assert status == 401 and headers["www-authenticate"].startswith("Basic"), "a script's wrong credential"
    status, _, page = call(base + "/?lang=en")
    assert status == 200
    assert 'id="calendar"' in page and 'id="compliance"' in page and "December 2022" in page and "January 2023" in page
    ninth = due_between(service, dt.date(2022, 12, 9), dt.date(2022, 12, 9))[dt.date(2022, 12, 9)]
    assert any(f'<a class="title" href="/occurrences/{row[0]}' in page for row in ninth), \
        "this month's deadlines are listed, each linked"
    assert "/?day=2022-12-09&amp;lang=en#list" in page and f"+{len(ninth) - 3}" not in page


def test_recording_a_submission_through_the_form(served):
    base, service = served()
    status, _, page = call(base + "/occurrences/7:finance:2022?lang=en")
    assert status == 200 and "not submitted" in page and "reminder 14 days before" in page
    url = base + "/occurrences/7:finance:2022/submit"
    token = page.split(f'action="{url.removeprefix(base)}"')[1].split('name="csrf" value="')[1].split('"')[0]
    form = lambda **fields: urllib.parse.urlencode(fields).encode()  # noqa: E731
    assert call(url, data=form(note="x"))[0] == 403, "no token"
    assert call(url, data=form(csrf="0" * 64, note="x"))[0] == 403, "a forged token"
    assert call(url, data=form(csrf=token, note="x"), headers={"Origin": "https://evil.example"})[0] == 403
    status, headers, _ = call(url, data=form(csrf=token, note="x"), auth=None)
    assert status == 303 and headers["location"].startswith("/signin") and "www-authenticate" not in headers
    assert pages.history(service.engine, "7:finance:2022")[1] is None, "nothing recorded by refused posts"
    status, headers, _ = call(url, data=form(csrf=token, note="Хат № 12-3/45 <b>"), headers={"Origin": base})
    assert status == 303 and headers["location"] == "/occurrences/7:finance:2022"
    page = call(base + "/occurrences/7:finance:2022?lang=en")[2]
    assert "submitted</span> 12 December 2022, 11:00" in page and "Хат № 12-3/45 &lt;b&gt;" in page  # Almaty time
    assert '/submit"' not in page and 'id="do-accept"' in page, "recorded: now the secretariat decides"
    assert pages.history(service.engine, "7:finance:2022")[1].note == "Хат № 12-3/45 <b>"


def test_the_report_download_has_the_dashboards_numbers(served):
    base, service = served()
    status, headers, body = call(base + "/report/2022.csv")
    assert status == 200 and headers["content-disposition"] == 'attachment; filename="compliance-2022.csv"'
    lines = body.lstrip("\ufeff").strip().splitlines()
    table = standing.compliance(service, 2022, NOW)
    assert len(lines) == len(table) + 2  # header and total
    page = call(base + "/?year=2022&lang=en")[2]
    finance = next(r for r in table if r.agency == "finance")
    rate = round(100 * finance.on_time / (finance.on_time + finance.late + finance.missing))
    name = service.plan.display_name("finance", dt.date(2022, 12, 12), "en")
    assert f'<a href="/agencies/finance?lang=en">{name}</a></td><td class="num">{rate}%</td><td class="num">{finance.owed}</td>' in page
    assert call(base + "/report/2022.pdf")[0] == 404


def test_a_report_year_outside_the_plan_is_not_found(served):
    base, service = served()
    years = service.plan.years
    for year in (0, 1, years.start - 2, years.stop + 1, 99999):
        status, _, body = call(base + f"/report/{year}.html")
        assert status == 404 and "outside the plan's period" in body, (year, status, body)
    assert call(base + f"/report/{years.stop}.csv")[0] == 200  # the year after the plan: its late reports


def visible(page: str) -> str:
    """The page's text as read: no tags, no scripts or styles, no attribute values."""
    page = re.sub(r"<(style|title)>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_language_is_negotiated_and_remembered(served):
    base, _ = served()
    lang = lambda page: re.search(r'<html lang="(\w+)">', page).group(1)  # noqa: E731
    status, headers, page = call(base + "/?lang=ru")
    assert status == 200 and lang(page) == "ru" and "Сроки" in page and "lang=ru" in headers["set-cookie"]
    assert lang(call(base + "/", headers={"Cookie": "lang=en"})[2]) == "en"
    assert lang(call(base + "/?lang=kk", headers={"Cookie": "lang=en"})[2]) == "kk", "?lang= before the cookie"
    assert lang(call(base + "/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})[2]) == "ru"
    assert lang(call(base + "/", headers={"Accept-Language": "en;q=0.5, kk"})[2]) == "kk", "by weight"
    assert lang(call(base + "/", headers={"Accept-Language": "de, fr"})[2]) == "kk", "the plan's default"
    assert lang(call(base + "/", headers={"Cookie": "lang=ru", "Accept-Language": "en"})[2]) == "ru"
    assert lang(call(base + "/?lang=xx", headers={"Accept-Language": "en"})[2]) == "en"
    kk = call(base + "/?lang=kk")[2]
    assert "Мерзімдер" in kk and "2022 жылғы 12 желтоқсан" in kk, "Kazakh words and the official date style"
    ru = call(base + "/?lang=ru")[2]
    assert "12 декабря 2022 г." in ru and "рабочий перевод" in ru, "the Russian plan text is a working translation"
    for page in (kk, ru):
        assert 'aria-current="true">Русский' in page or 'aria-current="true">Қазақша' in page, "a visible switch"


def test_no_codes_and_no_kazakh_in_the_russian_page(served):
    base, service = served()
    for query in ("/?lang=ru", "/?lang=ru&day=2022-12-09", "/agencies/finance?lang=ru", "/?lang=ru&year=2023"):
        status, _, page = call(base + query)
        assert status == 200, query
        # People's names, and the two oblasts whose official Russian names keep their Kazakh letters
        # (the Decree of 8 June 2022: "область Жетісу", "область Ұлытау").
        names = ["Айгүл Серікова", "Асқар Нұрланов", "Еңбек", "Жетісу", "Ұлытау"]
        text = re.sub(r'<a [^>]*lang="kk"[^>]*>[^<]*</a>', " ", page)  # the switch names Kazakh in Kazakh
        text = visible(text)
        for name in names:
            text = text.replace(name, "")
        assert not re.search("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]", text), (query, re.findall(r"\S*[әғқңөұүһі]\S*", text)[:5])
        codes = set(service.plan.file.agencies) | {s.step for s in service.plan.policy.ladder}
        shown = {c for c in codes if re.search(rf"(?<![\w/-]){re.escape(c)}(?![\w/-])", text)}
        assert not shown, (query, shown)


def test_filters_narrow_the_list(served):
    base, service = served()
    page = call(base + "/?lang=en&agency=finance&year=2022")[2]
    listed = re.findall(r'href="/occurrences/([^"?]+)\?lang=en"', page)
    assert listed and all(":finance:" in oid for oid in listed)
    owed = [oid for oid, *_ in (x for day in due_between(service, dt.date(2022, 1, 1), dt.date(2022, 12, 31)).values() for x in day)
            if ":finance:" in oid]
    assert f"{len(owed)} deadlines match" in page
    overdue = call(base + "/?lang=en&state=overdue")[2]
    states = re.findall(r'class="state state-(\w+)"', overdue.split('id="list"')[1].split('id="compliance-heading"')[0])
    assert states and set(states) == {"overdue"}
    found = call(base + "/?lang=ru&q=" + urllib.parse.quote("финансов") + "&year=2022")[2]
    listed = found.split('id="list"')[1].split('id="compliance-heading"')[0]
    assert "/agencies/finance?lang=ru" in listed
    every = call(base + "/?lang=ru&year=2022")[2]
    assert 0 < int(re.search(r"Найдено (\d+) срок", listed).group(1)) < int(re.search(r"Найдено (\d+) срок", every).group(1))
    one = call(base + "/?lang=en&obligation=7&year=2022")[2]
    assert {oid.split(":")[0] for oid in re.findall(r'href="/occurrences/([^"?]+)\?lang=en"', one)} == {"7"}
    nothing = call(base + "/?lang=en&agency=finance&state=closed")[2]
    assert 'id="no-match"' in nothing and "No deadline matches these filters." in nothing
    refused = call(base + "/?lang=en&agency=nowhere&month=2022-13")[2]
    assert "No such agency in the plan" in refused and "such as 2022-12" in refused


def test_a_day_lists_every_deadline_grouped_by_agency(served):
    """A day of 305 deadlines comes a page of DAY_PAGE_SIZE at a time, agencies by name; the pages
    together list every one, none hidden behind a +N, each agency under one heading (continued on
    the next page when it does not fit)."""
    from scheduler.web.dashboard.view import DAY_PAGE_SIZE

    base, service = served()
    day = dt.date(2022, 12, 9)
    ninth = due_between(service, day, day)[day]
    url, listed, headings, continued = "/?lang=en&day=2022-12-09", [], [], 0
    while url:
        page = call(base + url)[2]
        shown = re.findall(r'href="/occurrences/([^"?]+)\?lang=en"', page.split('id="list"')[1])
        assert 0 < len(shown) <= DAY_PAGE_SIZE
        listed += shown
        headings += re.findall(r'<section class="group" aria-label="([^"]+)">', page)
        continued += page.count("continued from the previous page")
        assert "Deadlines on 9 December 2022" in page and f"{len(ninth)} deadlines match" in page
        following = re.search(r'href="(/\?[^"]+)#list" rel="next"', page)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert len(listed) == len(set(listed)) and set(listed) == {oid for oid, *_ in ninth}, "every one, once"
    agencies = {o.split(":")[1] for o in listed}
    assert len(headings) - continued == len(agencies) and len(set(headings)) == len(agencies)
    assert [h.casefold() for h in dict.fromkeys(headings)] == sorted(h.casefold() for h in set(headings)), "by name"


def test_month_navigation_and_the_year_picker(served):
    base, _ = served()
    page = call(base + "/?lang=en&month=2023-03")[2]
    assert '<h2 id="month-heading">March 2023</h2>' in page
    assert 'href="/?month=2023-02&amp;lang=en" rel="prev"' in page and 'href="/?month=2023-04&amp;lang=en" rel="next"' in page
    for year in (2021, 2022, 2023, 2024):
        assert f'href="/?year={year}&amp;lang=en"' in page
    year = call(base + "/?lang=en&year=2021")[2]
    assert 'aria-current="true">2021</a>' in year and "<h2 id=\"month-heading\">January 2021</h2>" in year
    assert "Compliance in 2021" in year


def test_the_compliance_section_has_percentages_and_charts(served):
    base, service = served()
    table = standing.compliance(service, 2022, NOW)
    page = call(base + "/?lang=en&year=2022")[2]
    on_time = sum(r.on_time for r in table)
    settled = sum(r.on_time + r.late + r.missing for r in table)
    assert f"{round(100 * on_time / settled)}% of the deadlines that have come were answered on time: {on_time} of {settled}" in page
    assert '<svg class="chart" id="chart-agencies" role="img"' in page and '<svg class="chart" id="chart-months"' in page
    assert "<script" not in page
    bars = page.split('id="chart-agencies"')[1].split("</svg>")[0]
    assert bars.count("<g>") == sum(1 for r in table if r.on_time + r.late + r.missing)
    months = page.split('id="chart-months"')[1].split("</svg>")[0]
    assert months.count("<g>") == 12 and "Dec" in months


def test_the_xlsx_has_an_item_sheet_ready_to_print(served):
    from openpyxl import load_workbook

    base, service = served()
    status, headers, _ = call(base + "/report/2022.xlsx?lang=ru")
    assert status == 200
    request = urllib.request.Request(base + "/report/2022.xlsx?lang=ru")
    request.add_header("Authorization", "Basic " + base64.b64encode(":".join(CREDENTIAL).encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as response:
        book = load_workbook(io.BytesIO(response.read()))
    summary, items = book.worksheets
    assert [c.value for c in summary[4]][:3] == ["Орган", "Всего сроков", "Представлено в срок"], "the table, in Russian too"
    assert items.title == "Сроки 2022"
    assert "2022" in items["A1"].value and items["A3"].value.startswith("По состоянию на 12 декабря 2022")
    assert [c.value for c in items[4]] == ["Орган", "Пункт", "Наименование", "Период", "Срок", "Состояние",
                                           "Дата поступления", "Рабочих дней просрочки"]
    assert items.freeze_panes == "A5" and items.auto_filter.ref == f"A4:H{items.max_row}"
    assert items.page_setup.orientation == "landscape" and items.page_setup.fitToWidth == 1
    assert items.page_setup.fitToHeight == 0 and items.sheet_properties.pageSetUpPr.fitToPage
    assert items.print_title_rows == "$4:$4"
    expected = sum(len(d) for d in due_between(service, dt.date(2022, 1, 1), dt.date(2022, 12, 31)).values())
    assert items.max_row - 4 == expected
    finance = [row for row in items.iter_rows(min_row=5, values_only=True) if row[0] == service.plan.display_name("finance", dt.date(2022, 12, 1), "ru")]
    assert finance and all(isinstance(row[4], dt.datetime) for row in finance)
    assert {row[5] for row in items.iter_rows(min_row=5, values_only=True)} <= {"просрочено", "срок не наступил", "представлено", "возвращено на доработку", "принято", "снято с контроля"}


def test_the_agency_page(served):
    base, service = served()
    operator_submit(service, "7:finance:2022", NOW, "x", NOW, None)
    status, _, page = call(base + "/agencies/finance?lang=ru")
    assert status == 200 and "Министерство финансов Республики Казахстан" in page
    assert "Айгүл Серікова" in page and "контактное лицо" in page and "руководитель" in page
    history = page.split('id="history"')[1].split("</table>")[0]
    assert "представлен ответ" in history and "Пункт 7" in history
    feed = re.search(r'<code class="feed" id="feed-link">([^<]+)</code>', page).group(1)
    token = feed.rsplit("/", 1)[1]
    status, headers, body = call(base + "/feeds/" + token, auth=None)
    assert status == 200 and "7:finance:2022" in body
    assert feed == re.search(r'id="feed-link">([^<]+)<', call(base + "/agencies/finance")[2]).group(1), "the same link every time"
    assert call(base + "/agencies/nowhere?lang=en")[0] == 404
    status, headers, _ = call(base + "/agencies/finance?lang=ru", auth=None)
    assert status == 303 and headers["location"] == "/signin?next=%2Fagencies%2Ffinance%3Flang%3Dru&lang=ru"


def test_a_reviewer_sees_the_dashboard_without_the_feed_link(served):
    from scheduler.app import sessions, users

    base, service = served()
    users.add(service.engine, "reviewer@gov.kz", "reviewer", NOW)
    cookie = sessions.open_session(service.engine, "reviewer@gov.kz", NOW, dt.timedelta(hours=8), None)
    status, _, page = call(base + "/agencies/finance?lang=en", auth=None, headers={"Cookie": f"scheduler_session={cookie}"})
    assert status == 200 and "Contacts" in page and 'id="feed-link"' not in page
    assert call(base + "/?lang=en", auth=None, headers={"Cookie": f"scheduler_session={cookie}"})[0] == 200


def test_after_the_plan_and_in_a_replay(served):
    base, _ = served(now=dt.datetime(2024, 6, 3, 5, 0, tzinfo=dt.timezone.utc), replay=True)
    page = call(base + "/?lang=en")[2]
    assert "The plan ended: its last deadline was on 9 February 2024, and nothing more is due." in page
    assert "Nothing is due this month: the plan ended on 9 February 2024." in page
    assert 'class="replay" role="status"' in page and "as it stood on 3 June 2024 at 10:00" in page
    plain = call(base + "/?lang=ru&month=2022-12")[2]
    assert "Воспроизведение" in plain


def test_no_replay_banner_on_the_live_clock(served):
    base, _ = served()
    assert 'class="replay"' not in call(base + "/")[2]
