"""The compliance report in Kazakh, Russian and English: the XLSX read back with openpyxl (headings,
bodies by name and no codes, counts as numbers, the share on time as a percentage, the date of the
data as a date, A4 landscape fit to the width), the CSV read back (the machine header and codes kept,
the names and the total in the language, the share in percent), the HTML in each language, and the
bodies' names as the plan dates them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from markupsafe import escape

from scheduler.report import (
    AgencyCompliance,
    Item,
    Owed,
    as_csv,
    as_html,
    as_xlsx,
    body_name,
    compliance,
)
from scheduler.report.compliance import (
    TABLE_WIDTHS,
    _wrapped_lines,
    alphabetical,
    labels,
)

D = dt.date
TODAY = D(2023, 1, 16)
NAMED_ON = D(2022, 12, 9)
CODES = ("mvd", "finance", "akimat-akmola", "akimat-astana", "child-ombudsman", "digital")

HEADINGS = {
    "kk": ["Орган", "Мерзімдер саны", "Уақтылы ұсынылды", "Кешіктіріліп ұсынылды",
           "Кешіктірілген жұмыс күндері, барлығы", "Ең ұзақ кешіктіру, жұмыс күні", "Мерзімі өтті, ұсынылмаған",
           "Мерзімі әлі келмеген", "Уақтылы: мерзімі келгендердің үлесі, %"],
    "ru": ["Орган", "Всего сроков", "Представлено в срок", "Представлено с опозданием", "Рабочих дней просрочки, всего",
           "Наибольшая просрочка, рабочих дней", "Срок истёк, не представлено", "Срок не наступил",
           "В срок: доля от наступивших сроков, %"],
    "en": ["Agency", "Deadlines", "Submitted on time", "Submitted late", "Working days late, in all",
           "Most working days late", "Past due, not submitted", "Not yet due",
           "On time: share of the deadlines that have come, %"],
}
TOTAL = {"kk": "Барлық органдар", "ru": "Все органы", "en": "All agencies"}


def table(plan, kz_calendar, lang: str) -> list[AgencyCompliance]:
    """Six bodies' deadlines of 2022 as of 16 January 2023: finance 1 on time, 1 late (2 working
    days), 1 missing; mvd 2 missing; the others 1 missing, the Astana akimat 1 not yet due besides."""
    owed = [Owed("finance", D(2022, 12, 9), D(2022, 12, 8)), Owed("finance", D(2022, 12, 9), D(2022, 12, 13)),
            Owed("finance", D(2022, 12, 9), None), Owed("mvd", D(2022, 6, 1), None), Owed("mvd", D(2022, 12, 1), None),
            *(Owed(code, D(2022, 12, 20), None) for code in CODES[2:]), Owed("akimat-astana", D(2023, 2, 1), None)]
    names = {code: body_name(plan, code, NAMED_ON, lang) for code in CODES}
    return compliance(owed, names, TODAY, kz_calendar)


def cells_of(sheet, row: int) -> list:
    return [c.value for c in sheet[row]]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_xlsx_is_in_the_language_with_numbers_a_percentage_and_a_date(shipped_plan, kz_calendar, lang):
    from openpyxl import load_workbook

    rows = table(shipped_plan, kz_calendar, lang)
    title = getattr(shipped_plan.file.plan, f"title_{lang}")
    book = load_workbook(io.BytesIO(as_xlsx(rows, 2022, title=title, today=TODAY, lang=lang)))
    (sheet,) = book.worksheets
    assert sheet.title == {"kk": "Орындалуы 2022", "ru": "Исполнение 2022", "en": "Compliance 2022"}[lang]
    assert sheet["A1"].value == {"kk": "2022 жылғы мерзімдердің орындалуы", "ru": "Исполнение сроков 2022 года",
                                 "en": "Compliance with the deadlines due in 2022"}[lang]
    assert sheet["A2"].value == title and "A2:I2" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["B3"].value == dt.datetime(2023, 1, 16) and sheet["B3"].number_format == "DD.MM.YYYY"
    assert cells_of(sheet, 4) == HEADINGS[lang]
    assert all(c.font.b for c in sheet[4])

    body = {row[0]: row for row in sheet.iter_rows(min_row=5, max_row=4 + len(rows), values_only=True)}
    finance = body[body_name(shipped_plan, "finance", NAMED_ON, lang)]
    assert finance[1:] == (3, 1, 1, 2, 2, 1, 0, pytest.approx(1 / 3))
    assert set(body) == {body_name(shipped_plan, code, NAMED_ON, lang) for code in CODES}
    for line in sheet.iter_rows(min_row=5, max_row=5 + len(rows)):
        assert all(c.data_type == "n" and isinstance(c.value, int) for c in line[1:8]), "counts are numbers"
        assert line[8].data_type == "n" and line[8].number_format == "0%", "the share is a percentage"
    assert cells_of(sheet, 5 + len(rows)) == [TOTAL[lang], 10, 1, 1, 2, 2, 7, 1, pytest.approx(1 / 9)]
    assert all(c.font.b for c in sheet[5 + len(rows)])

    texts = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert not [t for t in texts if any(code in t for code in CODES)], "no codes where people read"

    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$4:$4"
    assert sheet.freeze_panes == "A5" and sheet.auto_filter.ref == f"A4:I{4 + len(rows)}"
    assert [sheet.column_dimensions[c].width for c in "ABCDEFGHI"] == list(TABLE_WIDTHS)
    assert sum(TABLE_WIDTHS) <= 170, "about 90 % of its size on A4 landscape"
    assert sheet[5][0].alignment.wrap_text and sheet[4][3].alignment.wrap_text


def test_a_long_name_wraps_and_its_row_is_as_high(shipped_plan, kz_calendar):
    from openpyxl import load_workbook

    rows = table(shipped_plan, kz_calendar, "ru")
    sheet = load_workbook(io.BytesIO(as_xlsx(rows, 2022, title="x", today=TODAY, lang="ru"))).active
    heights = {row[0].value: sheet.row_dimensions[row[0].row].height
               for row in sheet.iter_rows(min_row=5, max_row=4 + len(rows))}
    long = body_name(shipped_plan, "digital", NAMED_ON, "ru")  # Министерство цифрового развития, инноваций и …
    assert heights[long] >= 3 * 15 and heights[body_name(shipped_plan, "finance", NAMED_ON, "ru")] == 18
    assert sheet.row_dimensions[4].height >= 3 * 15, "the headings wrap over three lines"
    # the item sheet's lines too
    long_title = "ежегодно представлять информацию " * 12
    item = Item(long, "res-3.2", long_title, "2022", D(2022, 12, 9), "overdue", None, 0)
    items = load_workbook(io.BytesIO(as_xlsx(rows, 2022, [item], title="x", today=TODAY, lang="ru"))).worksheets[1]
    assert items.row_dimensions[5].height >= 6 * 15


def test_line_counts_never_fall_short():
    assert _wrapped_lines("Министерство финансов Республики Казахстан", 46) == 1
    assert _wrapped_lines("Министерство цифрового развития, инноваций и аэрокосмической промышленности "
                          "Республики Казахстан", 46) == 3
    assert _wrapped_lines("", 10) == 1 and _wrapped_lines("a\nb", 10) == 2
    assert _wrapped_lines("х" * 30, 11) == 3, "a word longer than the column is broken"


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_csv_keeps_its_header_and_codes_and_names_in_the_language(shipped_plan, kz_calendar, lang):
    data = as_csv(table(shipped_plan, kz_calendar, lang), lang=lang)
    assert data.startswith(b"\xef\xbb\xbfagency,name,owed,on_time,late,late_working_days,most_late_working_days,"
                           b"missing,pending,on_time_percent\r\n")
    rows = {r["agency"]: r for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))}
    assert set(rows) == {*CODES, "total"}
    for code in CODES:
        assert rows[code]["name"] == body_name(shipped_plan, code, NAMED_ON, lang)
    assert rows["finance"] == {"agency": "finance", "name": rows["finance"]["name"], "owed": "3", "on_time": "1",
                               "late": "1", "late_working_days": "2", "most_late_working_days": "2", "missing": "1",
                               "pending": "0", "on_time_percent": "33.3"}
    assert (rows["total"]["name"], rows["total"]["owed"], rows["total"]["on_time_percent"]) == (TOTAL[lang], "10", "11.1")


def test_a_share_before_any_deadline_came_is_empty():
    rows = [AgencyCompliance("mvd", "ІІМ", owed=2, pending=2)]
    read = list(csv.reader(io.StringIO(as_csv(rows).decode("utf-8-sig"))))
    assert read[1][-1] == "" and read[2][-1] == ""
    assert "<td class=\"num\">—</td>" in as_html(rows, 2022, "План", TODAY, "ru").decode()


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_html_is_in_the_language(shipped_plan, kz_calendar, lang):
    rows = table(shipped_plan, kz_calendar, lang)
    page = as_html(rows, 2022, "План", TODAY, lang).decode()
    assert f'<html lang="{lang}">' in page
    for heading in HEADINGS[lang]:
        assert f">{heading}</th>" in page
    assert {"kk": "2023 жылғы 16 қаңтар жағдай бойынша", "ru": "По состоянию на 16 января 2023 г.",
            "en": "As of 16 January 2023"}[lang] in page
    for code in CODES:
        assert f'<td class="name">{escape(body_name(shipped_plan, code, NAMED_ON, lang))}</td>' in page
    visible = re.sub(r"<[^>]+>", " ", page.split("<body>")[1])
    assert not [code for code in CODES if code in visible], "no codes where people read"
    assert '<td class="num">33%</td>' in page and f'<td class="name">{TOTAL[lang]}</td>' in page
    assert "size: A4 landscape" in page


def test_bodies_are_named_as_the_plan_names_them_that_day(shipped_plan):
    plan = shipped_plan
    assert body_name(plan, "finance", NAMED_ON, "kk") == "Қаржымині"  # the plan's short Kazakh name
    assert body_name(plan, "finance", NAMED_ON, "ru") == "Министерство финансов Республики Казахстан"
    assert body_name(plan, "akimat-akmola", NAMED_ON, "ru") == "Акимат Акмолинской области"
    assert body_name(plan, "akimat-akmola", NAMED_ON, "en") == "Akimat of Akmola Region"
    assert body_name(plan, "akimat-astana", D(2022, 9, 1), "ru") == "Акимат города Нур-Султана"
    assert body_name(plan, "akimat-astana", D(2022, 9, 20), "ru") == "Акимат города Астаны"
    assert body_name(plan, "child-ombudsman", NAMED_ON, "kk").startswith("Баланың"), "a cell starts with a capital"
    assert body_name(plan, "no-such-body", NAMED_ON, "ru") == "no-such-body"


def test_ties_are_in_alphabetical_order_in_kazakh_too(shipped_plan, kz_calendar):
    names = [r.name for r in table(shipped_plan, kz_calendar, "kk") if r.missing == 1 and not r.late]
    assert names == sorted(names, key=alphabetical)
    assert sorted(["Атырау", "Ақмола", "Алматы", "Әділетмині", "Абай"], key=alphabetical) == \
        ["Абай", "Ақмола", "Алматы", "Атырау", "Әділетмині"]


def test_every_word_is_translated():
    english = labels("en")
    for lang in ("kk", "ru"):
        assert not [key for key, text in labels(lang).items() if text == english[key]]
    with pytest.raises(ValueError, match="kk, ru, en"):
        as_csv([], lang="de")
