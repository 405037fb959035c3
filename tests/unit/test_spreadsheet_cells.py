"""Text that a spreadsheet program would compute, written as text (CONTRACT: text cells that start
with `=`, `+`, `-`, `@`, tab or CR are written as text in every XLSX/CSV): the consolidated XLSX, the
compliance XLSX and CSV and `expand`'s CSV, written by the real writers and read back with openpyxl,
with the sheets' own XML, and with the csv module. And the compliance XLSX of 2,000 lines, whole and
in order, as the linear writer now streams it."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import zipfile
from xml.etree import ElementTree

import pytest

from scheduler.calendar.expand import expand
from scheduler.cli import output
from scheduler.plan import load_plan
from scheduler.report import AgencyCompliance, Item, as_csv, as_xlsx, consolidate, consolidated_xlsx, unanswered
from scheduler.report.cells import csv_text, risky
from tests.conftest import SHIPPED_PLAN

D = dt.date
TODAY = D(2023, 1, 16)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

# What people typed, one per character the contract names.
TYPED = ("=cmd|' /C calc'!A0", "+7 701 000 00 00 — хабарласу", "-2 отырыс кейінге қалдырылды",
         "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+2", "\r=HYPERLINK(\"http://example.invalid\")")

# The shipped plan with names and titles that begin with each of them (TOML escapes for tab and CR).
PREFIXES = {"=": "=", "+": "+", "-": "-", "@": "@", "\t": "\\t", "\r": "\\r"}
RISKY_AGENCIES = dict(zip(PREFIXES, ("finance", "mvd", "gpo", "health", "mes", "labour"), strict=True))
RISKY_OBLIGATIONS = dict(zip(PREFIXES, ("7", "6", "10", "13", "15", "31"), strict=True))


def risky_plan_text() -> str:
    """The shipped plan, six agencies' names (short and full, every language) and six rows' titles and
    forms beginning with `=`, `+`, `-`, `@`, tab and CR."""
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    for prefix, code in RISKY_AGENCIES.items():
        text = _prefixed(text, f"[agency.{code}]\n", r"(?:short|name)_(?:kk|ru|en)", PREFIXES[prefix])
    for prefix, number in RISKY_OBLIGATIONS.items():
        text = _prefixed(text, f'id = "{number}"\n', r"(?:title|form)_(?:kk|ru|en)", PREFIXES[prefix])
    return text


def _prefixed(text: str, block_start: str, keys: str, escaped: str) -> str:
    start = text.index(block_start)
    end = text.index("\n\n", start)
    block = re.sub(rf'^({keys}) = "', lambda m: f'{m.group(1)} = "{escaped}', text[start:end], flags=re.M)
    return text[:start] + block + text[end:]


def sheets_xml(data: bytes) -> dict[str, ElementTree.Element]:
    """Every worksheet of an XLSX file, parsed from the file's own XML."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: ElementTree.fromstring(archive.read(name)) for name in archive.namelist()
                if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)}


def assert_written_as_text(data: bytes, typed) -> None:
    """No formula anywhere in the file; each of `typed` is in it as an inline string, exactly, and
    openpyxl reads it back as a string cell holding exactly that."""
    from openpyxl import load_workbook

    strings = set()
    for name, root in sheets_xml(data).items():
        assert list(root.iter(f"{MAIN}f")) == [], f"a formula in {name}"
        strings |= {"".join(t.text or "" for t in cell.iter(f"{MAIN}t"))
                    for cell in root.iter(f"{MAIN}c") if cell.get("t") == "inlineStr"}
    cells = {c.value: c for sheet in load_workbook(io.BytesIO(data)).worksheets for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str)}
    for text in typed:
        assert text in strings, f"{text!r} not written as an inline string"
        assert text in cells and cells[text].data_type == "s", f"{text!r} not read back as typed"


@pytest.fixture(scope="module")
def risky_plan(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "obligations.toml"
    path.write_text(risky_plan_text(), encoding="utf-8")
    return load_plan(path)


def test_the_rule():
    assert all(risky(text) and csv_text(text) == "'" + text for text in TYPED)
    for harmless in ("Қаржымині", "12-3/45", "", " =1", "'=1", "№ 5/2-101"):
        assert not risky(harmless) and csv_text(harmless) == harmless
    assert csv_text(None) is None and not risky(-5) and not risky(D(2022, 12, 9))


def test_the_plan_keeps_what_was_typed(risky_plan):
    assert risky_plan.file.agencies["mes"].short_kk == "\tБҒМ"
    assert risky_plan.obligation("31").title_kk.startswith("\r")
    assert risky_plan.display_name("finance", D(2022, 12, 9), "ru") == "=Министерство финансов Республики Казахстан"


# --- the consolidated XLSX ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_consolidated_xlsx_answers_names_and_titles_stay_text(risky_plan, kz_calendar, lang):
    answers = {a.occurrence: a for a in unanswered(expand(risky_plan, kz_calendar))}
    answered = ["7:finance:2022", "7:mvd:2022", "6:finance:2022", "6:mvd:2022", "6:labour:2022", "6:gpo:2022"]
    for occurrence, text in zip(answered, TYPED, strict=True):
        answers[occurrence] = dataclasses.replace(answers[occurrence], state="submitted", submitted_at=D(2022, 12, 8),
                                                  ref="12-3/45", ref_date=D(2022, 12, 8), text=text)
    report = consolidate(risky_plan, list(answers.values()), lang=lang, year=2022, today=TODAY)
    data = consolidated_xlsx.write(report)
    names = [risky_plan.display_name(code, D(2022, 12, 9), lang, short=lang == "kk")
             for code in ("finance", "mvd", "gpo", "labour")]
    titles = [getattr(risky_plan.obligation(n), f"title_{lang}") or risky_plan.obligation(n).title_kk
              for n in RISKY_OBLIGATIONS.values()]
    assert all(risky(t) for t in names + titles)
    # an answer's text is shown without the blanks around it (the store keeps it so): "\t=1+2" as "=1+2"
    assert_written_as_text(data, [*(t.strip() for t in TYPED), *names, *titles])


# --- the compliance XLSX and CSV ----------------------------------------------------------------

STATES = ("overdue", "open", "submitted", "returned", "accepted", "closed")
RU_STATES = {"overdue": "просрочено", "open": "срок не наступил", "submitted": "представлено",
             "returned": "возвращено на доработку", "accepted": "принято", "closed": "снято с контроля"}


def lines(count: int) -> list[Item]:
    """`count` deadlines, every third one's agency and title typed with a risky first character."""
    found = []
    for n in range(count):
        typed = TYPED[n % len(TYPED)] if n % 3 == 0 else None
        due = D(2022, 1, 10) + dt.timedelta(days=n % 350)
        late = n % 5 == 0
        found.append(Item(typed or f"Орган {n % 47}", str(n % 36 + 1), typed or f"Мероприятие {n}", f"2022-Q{n % 4 + 1}",
                          due, STATES[n % len(STATES)], due + dt.timedelta(days=3) if late else None, 3 if late else 0))
    return found


def table() -> list[AgencyCompliance]:
    return [AgencyCompliance(f"code-{n}", text, owed=4, on_time=1, late=1, late_working_days=2,
                             most_late_working_days=2, missing=1, pending=1) for n, text in enumerate(TYPED)]


def test_the_compliance_xlsx_of_2000_lines_is_whole_in_order_and_ready_to_print():
    from openpyxl import load_workbook

    items = lines(2000)
    data = as_xlsx(table(), 2022, items, title="=План", today=TODAY, lang="ru")
    assert_written_as_text(data, [*TYPED, "=План"])
    book = load_workbook(io.BytesIO(data))
    summary, sheet = book.worksheets
    assert book.active is summary, "opens on the compliance table, in the reader's language too"
    assert summary.title == "Исполнение 2022" and summary["A1"].value == "Исполнение сроков 2022 года"
    assert summary["A2"].value == "=План" and summary["A3"].value == "Данные на" and summary["B3"].value == dt.datetime(2023, 1, 16)
    assert [c.value for c in summary[4]][:3] == ["Орган", "Всего сроков", "Представлено в срок"] and summary["A4"].font.b
    assert [c.value for c in summary[5]] == [TYPED[0], 4, 1, 1, 2, 2, 1, 1, 1 / 3]
    assert [c.value for c in summary[4 + len(TYPED) + 1]] == ["Все органы", 24, 6, 6, 12, 2, 6, 6, 6 / 18]

    assert sheet.title == "Сроки 2022" and sheet["A1"].font.b and sheet["A1"].font.sz == 14
    assert sheet["A2"].value == "=План" and sheet["A3"].value.startswith("По состоянию на 16 января 2023")
    assert [c.value for c in sheet[4]][:3] == ["Орган", "Пункт", "Наименование"]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("DDE2E6") for c in sheet[4])
    assert sheet.max_row == 4 + 2000
    read = list(sheet.iter_rows(min_row=5, values_only=True))
    expected = [(i.agency, i.obligation, i.title, i.period, dt.datetime.combine(i.due, dt.time()), RU_STATES[i.state],
                 dt.datetime.combine(i.submitted_on, dt.time()) if i.submitted_on else None, i.working_days_late or None)
                for i in items]
    assert read == expected
    for row in sheet.iter_rows(min_row=5):  # a cell per column, line after line: marked only where risky
        assert [c.quotePrefix for c in row] == [risky(c.value) for c in row], [c.value for c in row]
    assert sum(row[2].quotePrefix for row in sheet.iter_rows(min_row=5)) == 667
    last = sheet[sheet.max_row]
    assert last[4].number_format == "DD.MM.YYYY" and all(c.alignment.vertical == "top" for c in last[:6])
    assert last[0].alignment.wrap_text and last[2].alignment.wrap_text
    late = next(row for row in sheet.iter_rows(min_row=5) if row[6].value is not None)
    assert late[6].number_format == "DD.MM.YYYY"
    assert [sheet.column_dimensions[c].width for c in "ABCDEFGH"] == [40, 8, 70, 12, 12, 22, 13, 12]
    assert sheet.freeze_panes == "A5" and sheet.auto_filter.ref == "A4:H2004" and sheet.print_title_rows == "$4:$4"
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_options.gridLines
    # each line says its height (short names and titles here: a line each; tests/unit/test_compliance_report.py)
    assert {sheet.row_dimensions[n].height for n in range(5, 5 + 2000)} == {18.0}


def test_the_compliance_xlsx_without_items_is_the_table_alone():
    from openpyxl import load_workbook

    data = as_xlsx(table(), 2021)
    assert_written_as_text(data, TYPED)
    book = load_workbook(io.BytesIO(data))
    assert [s.title for s in book.worksheets] == ["Орындалуы 2021"]  # Kazakh unless told
    assert book.active.max_row == 4 + len(TYPED) + 1 + 2  # title rows, header, agencies, total, a gap, the note
    assert book.active["A3"].value is None, "no date of the data: none given"
    with pytest.raises(ValueError, match="give `today`"):
        as_xlsx(table(), 2021, lines(1))
    with pytest.raises(ValueError, match="kk, ru, en"):
        as_xlsx(table(), 2021, lang="de")


def test_the_compliance_csv_quotes_risky_names_and_leaves_the_counts():
    read = list(csv.reader(io.StringIO(as_csv(table()).decode("utf-8-sig"), newline="")))
    assert read[0] == ["agency", "name", "owed", "on_time", "late", "late_working_days", "most_late_working_days",
                       "missing", "pending", "on_time_percent"]
    assert [r[1] for r in read[1:-1]] == ["'" + t for t in TYPED]
    assert [r[0] for r in read[1:-1]] == [f"code-{n}" for n in range(len(TYPED))]
    assert all(r[2:] == ["4", "1", "1", "2", "2", "1", "1", "33.3"] for r in read[1:-1])
    assert read[-1] == ["total", "Барлық органдар", "24", "6", "6", "12", "2", "6", "6", "33.3"]
    assert list(csv.reader(io.StringIO(as_csv(table(), lang="ru").decode("utf-8-sig"))))[-1][1] == "Все органы"


# --- expand's CSV -------------------------------------------------------------------------------


def test_expand_csv_quotes_risky_texts_and_leaves_the_dates(risky_plan, kz_calendar):
    occurrences = [o for o in expand(risky_plan, kz_calendar) if o.due.year == 2022]
    read = list(csv.DictReader(io.StringIO(output.as_csv(risky_plan, occurrences), newline="")))
    assert len(read) == len(occurrences)
    for row, occurrence in zip(read, occurrences, strict=True):
        plain = output.record(risky_plan, occurrence)
        assert (row["nominal_due"], row["due"]) == (occurrence.nominal_due.isoformat(), occurrence.due.isoformat())
        for name in ("title", "title_en", "form", "agency_name"):
            typed = plain[name] or ""
            assert row[name] == ("'" + typed if risky(typed) else typed), (occurrence.id, name)
    finance = next(r for r in read if r["id"] == "7:finance:2022")
    assert finance["title"].startswith("'=Адам саудасының") and finance["agency_name"] == "'=Қазақстан Республикасы Қаржы министрлігі"
    assert next(r for r in read if r["obligation"] == "15")["title"].startswith("'\t")
    assert next(r for r in read if r["agency"] == "mes")["agency_name"].startswith("'\tҚазақстан Республикасы")
    assert next(r for r in read if r["obligation"] == "31")["title"].startswith("'\rІІМ")
    untouched = next(r for r in read if r["obligation"] == "1" and r["agency"] == "akimat-abai")
    assert not untouched["title"].startswith("'") and untouched["period"] == "2022-H1"
