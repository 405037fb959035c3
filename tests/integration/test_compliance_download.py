"""The dashboard's compliance downloads over real HTTP (`/report/<year>.xlsx|csv|html`, uvicorn on
loopback, HTTP Basic as scripts sign in): the same report as `scheduler report --lang`, in the
page's language (`?lang=`, else the `lang` cookie, else Accept-Language): headings and bodies'
names in it, counts as numbers, the share on time as a percentage, A4 landscape fit to the width;
the CSV keeps its machine header and codes."""

from __future__ import annotations

import base64
import csv
import io
import re
import urllib.request

import pytest

from scheduler.app import standing
from scheduler.app.answer import operator_submit
from tests.integration.test_dashboard import CREDENTIAL, NOW, call, served  # noqa: F401 (a fixture)

HEADINGS = {
    "ru": ["Орган", "Всего сроков", "Представлено в срок", "Представлено с опозданием",
           "Рабочих дней просрочки, всего", "Наибольшая просрочка, рабочих дней", "Срок истёк, не представлено",
           "Срок не наступил", "В срок: доля от наступивших сроков, %"],
    "kk": ["Орган", "Мерзімдер саны", "Уақтылы ұсынылды", "Кешіктіріліп ұсынылды",
           "Кешіктірілген жұмыс күндері, барлығы", "Ең ұзақ кешіктіру, жұмыс күні", "Мерзімі өтті, ұсынылмаған",
           "Мерзімі әлі келмеген", "Уақтылы: мерзімі келгендердің үлесі, %"],
}


def download(url: str, headers: dict | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    request.add_header("Authorization", "Basic " + base64.b64encode(":".join(CREDENTIAL).encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return response.read()


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_xlsx_download_is_the_report_in_the_pages_language(served, lang):  # noqa: F811
    from openpyxl import load_workbook

    base, service = served()
    operator_submit(service, "7:finance:2022", NOW, "x", NOW, None)  # due on 9 December: late
    operator_submit(service, "10:mvd:2022-H2", NOW, "x", NOW, None)  # due on 30 December: on time
    book = load_workbook(io.BytesIO(download(base + f"/report/2022.xlsx?lang={lang}")))
    summary, items = book.worksheets
    assert book.active is summary
    assert [c.value for c in summary[4]] == HEADINGS[lang]
    table = standing.compliance(service, 2022, NOW, lang)
    lines = [[c.value for c in row] for row in summary.iter_rows(min_row=5, max_row=4 + len(table))]
    assert [line[0] for line in lines] == [r.name for r in table]
    assert [line[1:8] for line in lines] == [[r.owed, r.on_time, r.late, r.late_working_days, r.most_late_working_days,
                                              r.missing, r.pending] for r in table]
    for row in summary.iter_rows(min_row=5, max_row=5 + len(table)):
        assert all(c.data_type == "n" for c in row[1:9]) and row[8].number_format == "0%"
    named = {code: service.plan.display_name(code, NOW.date(), lang, short=lang == "kk") for code in ("finance", "mvd")}
    finance, mvd = (next(line for line in lines if line[0] == named[code]) for code in ("finance", "mvd"))
    assert (finance[2], finance[3]) == (0, 1) and finance[8] == 0
    assert mvd[2] == 1 and 0 < mvd[8] < 1
    for line in lines:
        settled = line[2] + line[3] + line[6]
        assert line[8] == (pytest.approx(line[2] / settled) if settled else None)
    texts = " ".join(c for row in summary.iter_rows(values_only=True) for c in row if isinstance(c, str))
    assert not re.search(r"\bakimat-|\bfinance\b|\bmvd\b", texts), "no codes where people read"
    setup = summary.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert summary.sheet_properties.pageSetUpPr.fitToPage and summary.print_title_rows == "$4:$4"
    assert items.title == {"ru": "Сроки 2022", "kk": "Мерзімдер 2022"}[lang], "every deadline, as before"


def test_the_csv_download_follows_the_language_cookie_and_keeps_the_codes(served):  # noqa: F811
    base, _service = served()
    read = csv.DictReader(io.StringIO(download(base + "/report/2022.csv", {"Cookie": "lang=ru"}).decode("utf-8-sig")))
    rows = {r["agency"]: r for r in read}
    assert read.fieldnames[:3] == ["agency", "name", "owed"] and read.fieldnames[-1] == "on_time_percent"
    assert rows["akimat-akmola"]["name"] == "Акимат Акмолинской области"
    assert rows["finance"]["name"] == "Министерство финансов Республики Казахстан"
    assert rows["total"]["name"] == "Все органы"
    kazakh = csv.DictReader(io.StringIO(download(base + "/report/2022.csv", {"Accept-Language": "kk"}).decode("utf-8-sig")))
    assert {r["agency"]: r["name"] for r in kazakh}["finance"] == "Қаржымині"


def test_the_html_download_is_in_the_pages_language(served):  # noqa: F811
    base, _service = served()
    for lang, heading, name in (("en", "Deadlines", "Akimat of Akmola Region"),
                                ("ru", "Всего сроков", "Акимат Акмолинской области"),
                                ("kk", "Мерзімдер саны", "Ақмола облысының әкімдігі")):
        status, headers, page = call(base + f"/report/2022.html?lang={lang}")
        assert status == 200 and headers["content-disposition"] == 'attachment; filename="compliance-2022.html"'
        assert f'<html lang="{lang}">' in page and f">{heading}</th>" in page and f'<td class="name">{name}</td>' in page
        assert "akimat-akmola" not in page
