"""`scheduler report --kind compliance --lang kk|ru|en` through the installed command, in every
format (CONTRACT, third round): the XLSX read back with openpyxl (headings in the language, bodies by
name and no codes, numbers, a percentage, A4 landscape fit to the width), the CSV read back (its
machine header and codes kept, names in the language), the HTML in each language; Kazakh when no
--lang is given; a wrong --lang refused with exit status 2 and a clear message."""

from __future__ import annotations

import csv
import io
import re

import pytest

pytestmark = pytest.mark.acceptance
NOW = "2023-01-16T10:00"
RU_HEADINGS = ["Орган", "Всего сроков", "Представлено в срок", "Представлено с опозданием",
               "Рабочих дней просрочки, всего", "Наибольшая просрочка, рабочих дней", "Срок истёк, не представлено",
               "Срок не наступил", "В срок: доля от наступивших сроков, %"]
KK_HEADINGS = ["Орган", "Мерзімдер саны", "Уақтылы ұсынылды", "Кешіктіріліп ұсынылды",
               "Кешіктірілген жұмыс күндері, барлығы", "Ең ұзақ кешіктіру, жұмыс күні", "Мерзімі өтті, ұсынылмаған",
               "Мерзімі әлі келмеген", "Уақтылы: мерзімі келгендердің үлесі, %"]
CODE = re.compile(r"\b(akimat-[a-z-]+|finance|mvd|gpo|labour|supreme-court|child-ombudsman)\b")


def ok(result) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture
def answered(scheduler):
    ok(scheduler("sync"))
    ok(scheduler("submit", "7:finance:2022", "--at", "2022-12-08T12:00"))  # on time
    ok(scheduler("submit", "6:finance:2022", "--at", "2022-12-13T12:00"))  # 2 working days late
    return scheduler


def report(run, *args: str) -> str:
    return ok(run("report", "--kind", "compliance", "--year", "2022", "--now", NOW, *args))


@pytest.mark.parametrize(("lang", "headings", "finance", "akmola"), [
    ("ru", RU_HEADINGS, "Министерство финансов Республики Казахстан", "Акимат Акмолинской области"),
    ("kk", KK_HEADINGS, "Қаржымині", "Ақмола облысының әкімдігі"),
])
def test_the_xlsx_is_in_the_language_and_ready_to_print(answered, lang, headings, finance, akmola):
    from openpyxl import load_workbook

    assert report(answered, "--lang", lang, "--format", "xlsx", "--output", "c.xlsx").startswith(
        f"c.xlsx: compliance report in {lang}, ")
    book = load_workbook(answered.cwd / "c.xlsx")
    sheet = book.active
    assert [c.value for c in sheet[4]] == headings
    assert "2022" in sheet["A1"].value and sheet["A2"].value.startswith(("План мероприятий", "Қазақстан Республикасы"))
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=5) if row[0].value and row[1].value is not None}
    assert [c.value for c in rows[finance][1:8]] == [6, 1, 1, 2, 2, 4, 0]
    assert isinstance(rows[akmola][1].value, int) and rows[akmola][1].data_type == "n"
    for row in rows.values():
        assert all(isinstance(c.value, int) for c in row[1:8]), "counts are numbers"
        assert row[8].number_format == "0%" and row[8].data_type == "n"
    assert rows[finance][8].value == pytest.approx(1 / 6)
    texts = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str))
    assert not CODE.findall(texts), "no codes where people read"
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$4:$4"


def test_the_csv_keeps_codes_for_scripts_and_names_in_the_language(answered):
    for lang, finance in (("ru", "Министерство финансов Республики Казахстан"),
                          ("en", "Ministry of Finance of the Republic of Kazakhstan"), ("kk", "Қаржымині")):
        report(answered, "--lang", lang, "--format", "csv", "--output", f"c-{lang}.csv")
        text = (answered.cwd / f"c-{lang}.csv").read_bytes().decode("utf-8-sig")
        rows = {r["agency"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}
        assert list(next(iter(rows.values()))) == ["agency", "name", "owed", "on_time", "late", "late_working_days",
                                                   "most_late_working_days", "missing", "pending", "on_time_percent"]
        assert rows["finance"]["name"] == finance
        finance_row = rows["finance"]
        assert (finance_row["on_time"], finance_row["late"], finance_row["on_time_percent"]) == ("1", "1", "16.7")
        assert rows["total"]["name"] == {"ru": "Все органы", "en": "All agencies", "kk": "Барлық органдар"}[lang]
    assert rows["akimat-akmola"]["name"] == "Ақмола облысының әкімдігі"


@pytest.mark.parametrize(("lang", "heading", "name", "as_of"), [
    ("kk", "Мерзімдер саны", "Ақмола облысының әкімдігі", "2023 жылғы 16 қаңтар жағдай бойынша"),
    ("ru", "Всего сроков", "Акимат Акмолинской области", "По состоянию на 16 января 2023 г."),
    ("en", "Deadlines", "Akimat of Akmola Region", "As of 16 January 2023"),
])
def test_the_html_is_in_the_language(answered, lang, heading, name, as_of):
    page = report(answered, "--lang", lang, "--format", "html")
    assert f'<html lang="{lang}">' in page and f">{heading}</th>" in page and as_of in page
    assert f'<td class="name">{name}</td>' in page
    body = re.sub(r"<[^>]+>", " ", page.split("<body>")[1])
    assert not CODE.findall(body), "no codes where people read"


def test_without_lang_the_report_is_in_kazakh(answered):
    from openpyxl import load_workbook

    data = answered.cwd / "d.xlsx"
    report(answered, "--format", "xlsx", "--output", str(data))
    assert [c.value for c in load_workbook(data).active[4]] == KK_HEADINGS
    assert '<html lang="kk">' in report(answered, "--format", "html")
    text = report(answered, "--output", "d.csv")
    assert "compliance report in kk" in text
    assert "agency,name,owed" in (answered.cwd / "d.csv").read_text(encoding="utf-8-sig").splitlines()[0]


def test_a_wrong_language_is_refused(answered):
    for args, message in [
        (("report", "--year", "2022", "--lang", "de"), "Invalid value for '--lang': 'de' is not one of 'kk', 'ru', 'en'"),
        (("report", "--year", "2022", "--lang", "RU", "--format", "xlsx"), "'RU' is not one of 'kk', 'ru', 'en'"),
        (("report", "--kind", "consolidated", "--year", "2022", "--lang", "en"),
         "--lang en: the consolidated report is written in Kazakh or Russian (--lang kk or ru)"),
    ]:
        result = answered(*args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
