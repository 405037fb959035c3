"""The consolidated implementation report (paragraphs 3.2 and 4 of the resolution), read back from
the DOCX and XLSX files as a reader would see them: the plan's rows in the plan's order, each
body's state and information with its letter's number and date, in Kazakh or in Russian."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import pytest

from scheduler.calendar.expand import expand
from scheduler.report import Answer, consolidate, consolidated_docx, consolidated_xlsx, unanswered
from scheduler.report.consolidated import LABELS, STATE_WORDS
from scheduler.report.consolidated_words import kk_attributive

D = dt.date
TODAY = D(2023, 1, 16)

# The plan's rows as it prints them, then the resolution's own paragraphs.
PLAN_ORDER = [str(n) for n in range(1, 8)] + ["8", "8.1", "8.2", "8.3", "8.4", "8.5"] + [str(n) for n in range(9, 37)]
RESOLUTION = ["2", "3.2", "4"]

FINANCE_TEXT = "Талдау жүргізілді: 2022 жылы Жәбірленушілерге өтемақы қорынан 14 адамға өтемақы төленді."
MVD_TEXT = "Анализ возмещения вреда проведён по 12 уголовным делам."
ABAI_TEXT = "Өңірлік комиссияның екі отырысы өтті, хаттамалар қоса беріледі."
MVD_8_1_TEXT = "Проведено 3 комплексных оперативно-профилактических мероприятия «Стоп-трафик»."


@pytest.fixture(scope="module")
def plan_answers(shipped_plan, kz_calendar):
    """Every occurrence of the shipped plan, a few of 2022 answered, returned, closed; one gone."""
    answers = {a.occurrence: a for a in unanswered(expand(shipped_plan, kz_calendar))}

    def answer(occurrence, **changes):
        answers[occurrence] = dataclasses.replace(answers[occurrence], **changes)

    answer("7:finance:2022", state="accepted", submitted_at=dt.datetime(2022, 12, 8, 15, 30), ref="12-3/45",
           ref_date=D(2022, 12, 8), text=FINANCE_TEXT)
    answer("7:mvd:2022", state="returned", submitted_at=D(2022, 12, 14), ref="3-1/998", ref_date=D(2022, 12, 13),
           text=MVD_TEXT)
    answer("1:akimat-abai:2022-H2", state="submitted", submitted_at=D(2022, 12, 29), ref="01-12/77",
           ref_date=D(2022, 12, 28), text=ABAI_TEXT)
    answer("8.1:mvd:2022", state="accepted", submitted_at=D(2022, 12, 9), ref="5/2-101", ref_date=D(2022, 12, 9),
           text=MVD_8_1_TEXT)
    answer("8.3:gpo:2022", state="closed")
    answer("8.2:knb:2022", state="cancelled")
    return shipped_plan, list(answers.values())


@pytest.fixture(scope="module")
def reports(plan_answers):
    plan, answers = plan_answers
    return {lang: consolidate(plan, answers, lang=lang, year=2022, today=TODAY) for lang in ("kk", "ru")}


@pytest.fixture(scope="module")
def documents(reports):
    import docx

    return {lang: docx.Document(io.BytesIO(consolidated_docx.write(report))) for lang, report in reports.items()}


@pytest.fixture(scope="module")
def workbooks(reports):
    from openpyxl import load_workbook

    return {lang: load_workbook(io.BytesIO(consolidated_xlsx.write(report))) for lang, report in reports.items()}


# --- the report as data ------------------------------------------------------------------------


def test_rows_follow_the_plan_with_sections_and_the_resolution_last(reports):
    rows = reports["kk"].rows
    numbers = [r.number for r in rows if r.kind != "section"]
    assert numbers == PLAN_ORDER + RESOLUTION
    assert [r.kind for r in rows if r.number in ("8", "8.1")] == ["heading", "obligation"]
    sections = [(i, r) for i, r in enumerate(rows) if r.kind == "section"]
    first_after = [rows[i + 1].number for i, _ in sections]
    assert first_after == ["1", "18", "21", "27", "31", "36", "2"]
    assert sections[-1][1].title == "Қаулының тармақтары"
    assert rows[sections[0][0]].title.startswith("1. Адам саудасына қарсы іс-қимыл")


def test_only_what_falls_due_in_the_year_and_cancelled_left_out(reports, plan_answers):
    plan, answers = plan_answers
    report = reports["kk"]
    entries = [e for r in report.rows for e in r.entries]
    assert entries and all(e.due.year == 2022 for e in entries)
    assert "8.2:knb:2022" not in {e.occurrence for e in entries}
    expected = [a for a in answers if a.due.year == 2022 and a.state != "cancelled"]
    # the placeholders (17:ngos:2022, "NGOs", named with no addressee) are listed, not counted
    unaddressed = [e for e in entries if e.state == "unaddressed"]
    assert [e.occurrence for e in unaddressed] == ["17:ngos:2022"]
    assert unaddressed[0].state_text == "мекенжайы жоқ, есепке алынбайды"
    assert len(entries) == len(expected) == sum(report.counts.values()) + 1
    assert report.counts == {"open": len(expected) - 6, "accepted": 2, "returned": 1, "submitted": 1, "closed": 1}
    row2 = next(r for r in report.rows if r.number == "2" and r.kind == "obligation")
    assert row2.entries == () and row2.note == "Бұл кезеңде орындау мерзімі жоқ"


def test_bodies_in_the_plans_order_each_named_as_on_its_date(reports):
    row = next(r for r in reports["kk"].rows if r.number == "7")
    assert [e.agency for e in row.entries] == ["finance", "mvd", "gpo"]  # "Қаржымині, ІІМ, БП"
    assert row.responsible == "Қаржымині, ІІМ, БП (келісу бойынша)" and row.deadline == "жыл сайын, 10 желтоқсанға дейін"
    astana = [e for r in reports["ru"].rows if r.number == "1" for e in r.entries if e.agency == "akimat-astana"]
    assert [e.agency_name for e in astana] == ["Акимат города Нур-Султана", "Акимат города Астаны"]  # renamed 17.09.2022
    assert [e.period for e in astana] == ["I полугодие 2022 г.", "II полугодие 2022 г."]


def test_an_answer_in_words(reports):
    kk = next(e for r in reports["kk"].rows for e in r.entries if e.occurrence == "7:finance:2022")
    assert (kk.agency_name, kk.state_text, kk.reference, kk.due_text) == (
        "Қаржымині", "қабылданды", "№ 12-3/45, 2022 жылғы 8 желтоқсан", "2022 жылғы 9 желтоқсан")
    late = next(e for r in reports["ru"].rows for e in r.entries if e.occurrence == "7:mvd:2022")
    assert late.late and late.submitted_text == "14 декабря 2022 г. (с нарушением срока)"
    assert late.state_text == "возвращено на доработку"


def test_the_resolution_paragraphs_in_russian_say_their_rule(reports):
    rows = {r.id: r for r in reports["ru"].rows if r.kind == "obligation"}
    assert rows["res-3.2"].title.startswith("Подпункт 2) пункта 3 постановления:")
    assert rows["res-3.2"].deadline == "ежегодно, не позднее 20 января (2022 – 2024 гг.)"
    assert rows["res-4"].responsible == ("Министерство труда и социальной защиты населения Республики Казахстан (2022 год), "
                                     "Министерство внутренних дел Республики Казахстан (2023 – 2024 годы)")
    assert rows["1"].deadline == "ежегодно, раз в полугодие" and rows["2"].deadline == "1 июля 2021 г."
    assert rows["1"].responsible.startswith("Министерство труда и социальной защиты населения Республики Казахстан (2021 год), "
                                            "Министерство внутренних дел Республики Казахстан (2022 – 2023 годы), акиматы")


def test_an_open_deadline_still_to_come_is_not_yet_due(plan_answers):
    plan, answers = plan_answers
    report = consolidate(plan, answers, lang="kk", year=2022, today=D(2022, 12, 1))
    finance = next(e for r in report.rows for e in r.entries if e.occurrence == "6:finance:2022")
    assert (finance.state, finance.state_text) == ("pending", "мерзімі келмеген")
    assert report.as_of == "2022 жылғы 1 желтоқсандағы жағдай бойынша"


def test_the_whole_plan_covers_every_deadline_2021_to_2024(plan_answers):
    plan, answers = plan_answers
    report = consolidate(plan, answers, lang="ru")
    dues = sorted(e.due for r in report.rows for e in r.entries)
    assert (dues[0], dues[-1]) == (D(2021, 3, 25), D(2024, 2, 9))  # res-2: a period ending on a day off, the next working day
    assert len(dues) == len(answers) - 1  # all but the cancelled one
    assert report.span == "Период: весь срок действия Плана (2021 – 2024 годы)"
    assert all(r.entries for r in report.rows if r.kind == "obligation")


def test_bad_input_is_refused(shipped_plan):
    with pytest.raises(ValueError, match="unknown state 'done'"):
        Answer("7:finance:2022", "7", "finance", "2022", D(2022, 12, 9), state="done")
    with pytest.raises(ValueError, match="kk or ru"):
        consolidate(shipped_plan, [], lang="en")
    gone = Answer("99:finance:2022", "99", "finance", "2022", D(2022, 12, 9))
    assert consolidate(shipped_plan, [gone], year=2022).left_out == ("99:finance:2022",)


def test_kazakh_dates_before_a_noun():
    assert [kk_attributive(D(2021, m, 24)) for m in (2, 4, 7, 9, 12)] == [
        "2021 жылғы 24 ақпандағы", "2021 жылғы 24 сәуірдегі", "2021 жылғы 24 шілдедегі", "2021 жылғы 24 қыркүйектегі",
        "2021 жылғы 24 желтоқсандағы"]


# --- the DOCX as a reader sees it -------------------------------------------------------------


def table_rows(document) -> list[list[str]]:
    """The table's rows as texts; a full-width (section) row once."""
    rows = []
    for row in document.tables[0].rows:
        cells = row.cells
        rows.append([cells[0].text] if cells[0]._tc is cells[-1]._tc else [c.text for c in cells])
    return rows


def by_number(rows: list[list[str]]) -> dict[str, list[str]]:
    """The plan's rows by number, and the resolution's paragraphs (after their own heading) as
    "res-2", "res-3.2", "res-4"."""
    found, prefix = {}, ""
    for row in rows:
        if len(row) == 1:
            prefix = "res-" if row[0] in (LABELS["kk"]["resolution"], LABELS["ru"]["resolution"]) else ""
        else:
            found[prefix + row[0]] = row
    return found


def document_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for row in document.tables[0].rows:
        parts += [c.text for c in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_docx_is_the_plans_table_in_landscape(documents, lang):
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn

    document = documents[lang]
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height
    assert round(section.page_width.cm, 1) == 29.7
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size.pt == 10
    assert normal.element.rPr.rFonts.get(qn("w:hAnsi")) == "Times New Roman"  # Cyrillic is set in hAnsi
    header = document.tables[0].rows[0]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on every page
    labels = LABELS[lang]
    assert [c.text for c in header.cells] == [labels[k] for k in ("number", "activity", "form", "responsible",
                                                                   "deadline", "information")]
    heading = [p.text for p in document.paragraphs[:5]]
    assert heading[0] == labels["report"]
    assert heading[1].startswith({"kk": "Қазақстан Республикасы Үкіметінің Адам саудасына",  # the plan's own title
                                  "ru": "План мероприятий Правительства Республики Казахстан"}[lang])
    assert heading[3] == {"kk": "Кезең: 2022 жыл", "ru": "Период: 2022 год"}[lang]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_docx_rows_in_the_plans_order_with_8_over_its_sub_rows(documents, lang):
    rows = table_rows(documents[lang])[1:]
    numbers = [r[0] for r in rows if len(r) > 1]
    assert numbers == PLAN_ORDER + RESOLUTION
    sections = [r[0] for r in rows if len(r) == 1]
    assert sections[0].startswith("1. ") and sections[5].startswith("6. ")
    assert sections[-1] == LABELS[lang]["resolution"]
    numbered = by_number(rows)
    assert numbered["8"][1].endswith({"kk": "іс-шараларын өткізу:", "ru": "мероприятий:"}[lang])
    # Row 8's form and deadline are one merged cell down its sub-rows, as the plan prints it.
    assert numbered["8.5"][2] == numbered["8"][2] and numbered["8.5"][4] == numbered["8"][4] != ""
    assert numbered["res-3.2"][1].startswith({"kk": "Қаулының 3-тармағының 2) тармақшасы:",
                                              "ru": "Подпункт 2) пункта 3 постановления:"}[lang])


def test_docx_kazakh_information_column(documents):
    rows = by_number(table_rows(documents["kk"])[1:])
    seven = rows["7"][5]
    assert "Қаржымині — қабылданды (мерзімі: 2022 жылғы 9 желтоқсан)" in seven
    assert "№ 12-3/45, 2022 жылғы 8 желтоқсан" in seven and FINANCE_TEXT in seven
    assert "ІІМ — пысықтауға қайтарылды" in seven and MVD_TEXT in seven
    assert "ұсынылған күні: 2022 жылғы 14 желтоқсан (мерзімі өткеннен кейін)" in seven
    assert "БП — ұсынылмаған" in seven
    assert "№ 5/2-101, 2022 жылғы 9 желтоқсан" in rows["8.1"][5] and MVD_8_1_TEXT in rows["8.1"][5]
    assert "БП — бақылаудан алынды" in rows["8.3"][5]
    one = rows["1"][5]
    # A body owing two half-years is named once, above its two deadlines.
    assert "Абай облысының әкімдігі\n2022 жылғы I жартыжылдық (мерзімі: 2022 жылғы 30 маусым) — ұсынылмаған" in one
    assert "2022 жылғы II жартыжылдық (мерзімі: 2022 жылғы 30 желтоқсан) — ұсынылды\n№ 01-12/77, 2022 жылғы 28 желтоқсан" in one
    assert ABAI_TEXT in one
    assert rows["2"][5] == "Бұл кезеңде орындау мерзімі жоқ"
    assert "2021 жыл үшін" in rows["res-4"][5] and rows["res-2"][5] == "Бұл кезеңде орындау мерзімі жоқ"
    text = document_text(documents["kk"])
    assert not any(word in text for word in STATE_WORDS["ru"].values())


def test_docx_russian_information_column(documents):
    rows = by_number(table_rows(documents["ru"])[1:])
    seven = rows["7"][5]
    assert "Министерство финансов Республики Казахстан — принято (срок: 9 декабря 2022 г.)" in seven
    assert "№ 12-3/45, 8 декабря 2022 г." in seven and FINANCE_TEXT in seven
    assert "Министерство внутренних дел Республики Казахстан — возвращено на доработку" in seven
    assert "дата представления: 14 декабря 2022 г. (с нарушением срока)" in seven
    assert "Генеральная прокуратура Республики Казахстан — не представлено" in seven
    assert "Генеральная прокуратура Республики Казахстан — снято с контроля" in rows["8.3"][5]
    assert "I полугодие 2022 г. (срок: 30 июня 2022 г.) — не представлено" in rows["1"][5]
    assert rows["2"][5] == "В этом периоде срок исполнения не наступает" and rows["2"][4] == "1 июля 2021 г."


KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")


def without_the_plans_own_kazakh(text: str, plan) -> str:
    """The text less what the plan has only in Kazakh (titles, forms, section names) and the
    answers' own words, so that what remains is the report's."""
    own = [plan.file.plan.title_kk, *(s.title_kk for s in plan.file.sections), *(h.title_kk for h in plan.file.headings),
           *(h.form_kk for h in plan.file.headings if h.form_kk),
           *(o.title_kk for o in plan.obligations), *(o.form_kk for o in plan.obligations if o.form_kk),
           *(a.name_ru for a in plan.file.agencies.values() if a.name_ru),  # "Акимат области Ұлытау"
           FINANCE_TEXT, ABAI_TEXT]
    for piece in sorted(own, key=len, reverse=True):
        text = text.replace(piece, "")
    return text


def test_russian_files_have_no_kazakh_of_their_own(documents, workbooks, plan_answers):
    plan, _ = plan_answers
    docx_text = without_the_plans_own_kazakh(document_text(documents["ru"]), plan)
    sheet = workbooks["ru"].active
    xlsx_text = without_the_plans_own_kazakh(
        "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None), plan)
    for text in (docx_text, xlsx_text):
        assert KAZAKH_LETTERS.findall(text) == []
        words = set(re.findall(r"\w+", text))
        for label in (*LABELS["kk"].values(), *STATE_WORDS["kk"].values()):
            if label in (*LABELS["ru"].values(), *STATE_WORDS["ru"].values()):
                continue  # the same word in both languages ("Орган")
            assert label not in text if " " in label else label not in words
    assert "Сводная информация о ходе исполнения Плана" in docx_text and "не представлено" in xlsx_text


# --- the XLSX as a reader sees it -------------------------------------------------------------


def header_row(sheet, lang) -> int:
    return next(r[0].row for r in sheet.iter_rows() if r[0].value == LABELS[lang]["number"])


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_xlsx_is_set_up_for_reading_filtering_and_printing(workbooks, lang):
    sheet = workbooks[lang].active
    labels = LABELS[lang]
    top = header_row(sheet, lang)
    assert sheet["A1"].value == labels["report"] and sheet["A2"].value.startswith(
        {"kk": "Қазақстан Республикасы Үкіметінің", "ru": "План мероприятий Правительства Республики Казахстан"}[lang])
    assert [c.value for c in sheet[top]] == [labels[k] for k in ("number", "activity", "form", "responsible", "deadline",
                                                                  "period", "state", "letter", "submitted", "text")]
    assert sheet.freeze_panes == f"A{top + 1}"
    assert sheet.auto_filter.ref == f"A{top}:J{sheet.max_row}"
    assert sheet.print_title_rows == f"${top}:${top}"
    setup = sheet.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet["B20"].alignment.wrap_text and sheet.column_dimensions["B"].width > 30


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_xlsx_rows_in_the_plans_order_with_one_row_per_answer(workbooks, lang):
    sheet = workbooks[lang].active
    rows = list(sheet.iter_rows(min_row=header_row(sheet, lang) + 1, values_only=True))
    plan_rows = [r[0] for r in rows if r[1]]
    assert plan_rows == PLAN_ORDER + RESOLUTION
    finance = {"kk": "Қаржымині", "ru": "Министерство финансов Республики Казахстан"}[lang]
    answer = next(r for r in rows if r[0] == "7" and r[3] == finance)
    assert answer[4] == dt.datetime(2022, 12, 9)  # a date the spreadsheet can sort and filter
    assert answer[6] == STATE_WORDS[lang]["accepted"]
    assert answer[7] == {"kk": "№ 12-3/45, 2022 жылғы 8 желтоқсан", "ru": "№ 12-3/45, 8 декабря 2022 г."}[lang]
    assert answer[8] == dt.datetime(2022, 12, 8) and answer[9] == FINANCE_TEXT
    # every answer row sits under its plan row
    current = None
    for row in rows:
        if row[1]:
            current = row[0]
        elif row[3]:
            assert row[0] == current
    states = {r[6] for r in rows if r[6]}
    assert states == {STATE_WORDS[lang][s] for s in ("open", "accepted", "returned", "submitted", "closed", "unaddressed")}


def test_xlsx_for_the_whole_plan(plan_answers):
    from openpyxl import load_workbook

    plan, answers = plan_answers
    sheet = load_workbook(io.BytesIO(consolidated_xlsx.write(consolidate(plan, answers, lang="kk")))).active
    assert sheet.title == "2021-2024"
    dues = [r[4] for r in sheet.iter_rows(min_row=header_row(sheet, "kk") + 1, values_only=True)
            if isinstance(r[4], dt.datetime)]
    assert (min(dues), max(dues)) == (dt.datetime(2021, 3, 25), dt.datetime(2024, 2, 9))
    assert len(dues) == len(answers) - 1


def test_docx_for_the_whole_plan(plan_answers):
    import docx

    plan, answers = plan_answers
    document = docx.Document(io.BytesIO(consolidated_docx.write(consolidate(plan, answers, lang="kk"))))
    assert document.paragraphs[3].text == "Кезең: Жоспардың барлық мерзімі (2021 – 2024 жылдар)"
    rows = by_number(table_rows(document)[1:])
    assert list(rows) == PLAN_ORDER + ["res-" + n for n in RESOLUTION]
    two = rows["2"][5]
    assert "2021 жылғы 1 шілде" in two and "ұсынылмаған" in two  # a 2021 one-off
    seven = rows["7"][5]
    assert "Қаржымині\nмерзімі: 2021 жылғы 10 желтоқсан — ұсынылмаған" in seven
    assert "мерзімі: 2022 жылғы 9 желтоқсан — қабылданды" in seven and "мерзімі: 2023 жылғы 8 желтоқсан" in seven
    assert "мерзімі: 2024 жылғы 9 ақпан" in rows["res-4"][5]


def test_a_plan_without_sections_or_printed_cells(write_plan, kz_calendar):
    """A plan that gives only the rules: the responsible bodies are said from the directory, the
    Russian deadline from the rule, and both files are written."""
    import docx
    from openpyxl import load_workbook

    from scheduler.plan import load_plan
    from tests.conftest import MINIMAL_PLAN

    plan = load_plan(write_plan(MINIMAL_PLAN))
    answers = unanswered(expand(plan, kz_calendar))
    kk = consolidate(plan, answers, lang="kk", year=2022)
    ru = consolidate(plan, answers, lang="ru", year=2022)
    assert [(r.kind, r.number, r.responsible) for r in kk.rows] == [("obligation", "7", "Еңбекмині, ІІМ")]
    assert ru.rows[0].deadline == "ежегодно, до 10 декабря" and kk.rows[0].deadline == ""
    assert [e.agency_name for e in ru.rows[0].entries] == ["Еңбек министрлігі", "Ішкі істер министрлігі"]  # no Russian names
    assert kk.as_of == "" and kk.summary == "Барлығы: 2 (ұсынылмаған — 2)"
    assert docx.Document(io.BytesIO(consolidated_docx.write(ru))).tables[0].rows[1].cells[0].text == "7"
    assert load_workbook(io.BytesIO(consolidated_xlsx.write(kk))).active.title == "2022"
