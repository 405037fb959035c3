"""The consolidated report from the store, on SQLite and PostgreSQL: answers recorded through the
real use cases (submitted with the letter's number and date and the text, returned, accepted,
closed, extended; one occurrence gone from the plan), read back by the adapter and written as DOCX
and XLSX, then opened with python-docx and openpyxl and read as a reader would."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from scheduler.app import answer, reports
from scheduler.calendar.expand import expand
from scheduler.plan import load_plan
from scheduler.report import Answer
from scheduler.store.sync import sync
from tests.conftest import SHIPPED_PLAN
from tests.integration.test_delivery import ALMATY, at
from tests.unit.test_consolidated import PLAN_ORDER, RESOLUTION

D = dt.date
TODAY = D(2023, 1, 16)
FINANCE_TEXT = "Талдау жүргізілді: 2022 жылы Жәбірленушілерге өтемақы қорынан 14 адамға өтемақы төленді."
MVD_TEXT = "Анализ возмещения вреда проведён по 12 уголовным делам."
ABAI_TEXT = "Өңірлік комиссияның екі отырысы өтті.\nХаттамалар қоса беріледі."
MVD_8_1_TEXT = "Проведено 3 комплексных оперативно-профилактических мероприятия «Стоп-трафик»."

MINFIN_RU = "Министерство финансов Республики Казахстан"
MVD_RU = "Министерство внутренних дел Республики Казахстан"
GPO_RU = "Генеральная прокуратура Республики Казахстан"


@pytest.fixture
def answered(database_url, make_service, tmp_path):
    """The shipped plan synced with contacts; row 7 no longer owed by БП (7:gpo:* cancelled); a few
    of 2022's deadlines answered, returned, accepted, closed and extended through app/answer.py."""
    service = make_service(database_url)
    source = SHIPPED_PLAN.read_text(encoding="utf-8")
    start = source.index('id = "7"\n')
    smaller = tmp_path / "without-gpo-in-row-7.toml"
    smaller.write_text(source[:start] + source[start:].replace('["finance", "mvd", "gpo"]', '["finance", "mvd"]', 1),
                       encoding="utf-8")
    assert sync(service.engine, load_plan(smaller), None, at(11, 2)).cancelled == 3
    engine, timing = service.engine, service.timing

    def submit(oid, when, **fields):
        answer.submit(engine, timing, oid, at=when, now=when + dt.timedelta(minutes=5), **fields)

    def act(oid, action, when, **fields):
        answer.act(engine, timing, oid, action, now=when, **fields)

    act("6:finance:2022", "extend", at(12, 5), until=D(2022, 12, 20), reason="letter No. 5 of 5 December")
    act("6:mvd:2022", "extend", at(12, 5), until=D(2023, 1, 13), reason="the year's statistics come in January")
    submit("7:finance:2022", at(12, 8, 15, 30), ref="12-3/45", ref_date=D(2022, 12, 8), text=FINANCE_TEXT)
    act("7:finance:2022", "accept", at(12, 12, 10))
    # received on 10 December at 01:00 in Almaty, still 9 December in UTC: late by the local date
    submit("8.1:mvd:2022", at(12, 10, 1), ref="5/2-101", ref_date=D(2022, 12, 9), text=MVD_8_1_TEXT)
    submit("7:mvd:2022", at(12, 14, 11), ref="3-1/998", ref_date=D(2022, 12, 13), text=MVD_TEXT)
    act("7:mvd:2022", "return", at(12, 15), reason="the table is missing")
    submit("1:akimat-abai:2022-H2", at(12, 29, 17), ref="01-12/77", ref_date=D(2022, 12, 28), text=ABAI_TEXT)
    act("8.3:gpo:2022", "close", at(12, 20), reason="not applicable to the prosecutors")
    yield service
    engine.dispose()

ASSUMED_2022 = ("допущение: рабочий орган МВК в 2022 году — Министерство внутренних дел Республики Казахстан "
                "(источник этого не устанавливает)")

def information(document, number: str) -> str:
    """The "information on implementation" cell of the plan row `number`."""
    row = next(r for r in document.tables[0].rows[1:] if r.cells[0].text == number and r.cells[1].text != number)
    return row.cells[5].text


def test_the_store_s_answers_become_the_report_s(answered, shipped_plan, kz_calendar):
    found = {a.occurrence: a for a in reports.answers(answered.engine, ALMATY, 2022)}
    assert found["7:finance:2022"] == Answer("7:finance:2022", "7", "finance", "2022", D(2022, 12, 9), "accepted",
                                             D(2022, 12, 8), "12-3/45", D(2022, 12, 8), FINANCE_TEXT)
    assert found["7:mvd:2022"].state == "returned" and found["7:mvd:2022"].ref == "3-1/998", "the answer sent back"
    assert found["8.1:mvd:2022"].submitted_at == D(2022, 12, 10), "the local date, not UTC's"
    assert found["6:finance:2022"].due == D(2022, 12, 20) and found["8.3:gpo:2022"].state == "closed"
    assert found["6:gpo:2022"] == Answer("6:gpo:2022", "6", "gpo", "2022", D(2022, 12, 9))
    assert "6:mvd:2022" not in found, "extended into 2023"
    assert "7:gpo:2022" not in found, "cancelled: left the plan"
    assert all(a.due.year == 2022 for a in found.values())
    assert reports.answers(answered.engine, ALMATY, 2023)[0].due.year == 2023
    everything = {a.occurrence for a in reports.answers(answered.engine, ALMATY)}
    planned = {o.id for o in expand(shipped_plan, kz_calendar)}
    assert everything == planned - {"7:gpo:2021", "7:gpo:2022", "7:gpo:2023"}


def test_the_docx_in_russian_reads_as_the_plan_with_the_answers(answered):
    import docx

    report = reports.consolidated(answered.engine, answered.plan, ALMATY, lang="ru", year=2022, today=TODAY)
    document = docx.Document(io.BytesIO(reports.write(report, "docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Сводная информация о ходе исполнения Плана" in text and "Период: 2022 год" in text
    assert "По состоянию на 16 января 2023 г." in text
    assert "принято — 1, представлено — 2, возвращено на доработку — 1" in text and "снято с контроля — 1" in text
    numbers = [r.cells[0].text for r in document.tables[0].rows[1:] if r.cells[0].text != r.cells[1].text]
    assert numbers == PLAN_ORDER + RESOLUTION

    row7 = information(document, "7")
    assert row7.index(MINFIN_RU) < row7.index(MVD_RU) and GPO_RU not in row7
    assert f"{MINFIN_RU} — принято (срок: 9 декабря 2022 г.)" in row7
    assert "№ 12-3/45, 8 декабря 2022 г.; дата представления: 8 декабря 2022 г." in row7 and FINANCE_TEXT in row7
    assert f"{MVD_RU} — возвращено на доработку" in row7
    assert "№ 3-1/998, 13 декабря 2022 г.; дата представления: 14 декабря 2022 г. (с нарушением срока)" in row7
    assert MVD_TEXT in row7
    row6 = information(document, "6")
    # row 6's information goes to the working body: who held it in 2022 is the plan's assumption, said
    assert f"{MINFIN_RU} — не представлено ({ASSUMED_2022}; срок: 20 декабря 2022 г.)" in row6, "the extended date"
    assert f"{MVD_RU} — " not in row6 and f"{GPO_RU} — не представлено ({ASSUMED_2022}; срок: 9 декабря 2022 г.)" in row6
    assert "дата представления: 10 декабря 2022 г. (с нарушением срока)" in information(document, "8.1")
    assert MVD_8_1_TEXT in information(document, "8.1")
    assert f"{GPO_RU} — снято с контроля" in information(document, "8.3")
    abai = information(document, "1")
    assert "представлено (II полугодие 2022 г.; срок: 30 декабря 2022 г.)" in abai
    assert "№ 01-12/77, 28 декабря 2022 г." in abai
    assert "Өңірлік комиссияның екі отырысы өтті.\nХаттамалар қоса беріледі." in abai
    assert information(document, "2") == "В этом периоде срок исполнения не наступает"


def test_the_xlsx_in_kazakh_one_line_per_body(answered):
    from openpyxl import load_workbook

    report = reports.consolidated(answered.engine, answered.plan, ALMATY, lang="kk", year=2022, today=TODAY)
    sheet = load_workbook(io.BytesIO(reports.write(report, "xlsx"))).active
    assert sheet.title == "2022"
    header = next(r for r in range(1, 12) if sheet.cell(r, 1).value == "Р/с №")
    lines = [[c.value for c in row] for row in sheet.iter_rows(min_row=header + 1)]
    assert [line[0] for line in lines if line[1] is not None] == PLAN_ORDER + RESOLUTION  # the plan rows

    def body(number, name):
        [found] = [line for line in lines if line[0] == number and line[1] is None and line[3] == name]
        return found

    finance = body("7", "Қаржымині")
    assert finance[4] == dt.datetime(2022, 12, 9) and finance[6] == "қабылданды"
    assert finance[7] == "№ 12-3/45, 2022 жылғы 8 желтоқсан" and finance[8] == dt.datetime(2022, 12, 8)
    assert finance[9] == FINANCE_TEXT
    mvd = body("7", "ІІМ")
    assert (mvd[6], mvd[7], mvd[8], mvd[9]) == ("пысықтауға қайтарылды", "№ 3-1/998, 2022 жылғы 13 желтоқсан",
                                                dt.datetime(2022, 12, 14), MVD_TEXT)
    assert not [line for line in lines if line[0] == "7" and line[3] == "БП"]
    extended = body("6", "Қаржымині")
    assert extended[4] == dt.datetime(2022, 12, 20) and extended[6] == "ұсынылмаған"
    assert body("8.3", "БП")[6] == "бақылаудан алынды"
    assert body("8.1", "ІІМ")[8] == dt.datetime(2022, 12, 10)


def test_a_date_extended_into_the_next_year_is_reported_there(answered):
    import docx

    report = reports.consolidated(answered.engine, answered.plan, ALMATY, lang="ru", year=2023, today=TODAY)
    document = docx.Document(io.BytesIO(reports.write(report, "docx")))
    row6 = information(document, "6")
    # ІІМ owes two deadlines in 2023 now, so it is named once above both
    assert f"{MVD_RU}\nза 2022 год; {ASSUMED_2022} (срок: 13 января 2023 г.) — не представлено\nсрок: 8 декабря 2023 г. — " in row6
    assert f"{MINFIN_RU} — срок не наступил (срок: 8 декабря 2023 г.)" in row6


def test_the_whole_plan_and_the_refusals(answered):
    from openpyxl import load_workbook

    whole = reports.consolidated(answered.engine, answered.plan, ALMATY, lang="kk", today=TODAY)
    assert whole.year is None and whole.span == "Кезең: Жоспардың барлық мерзімі (2021 – 2024 жылдар)"
    assert sum(whole.counts.values()) == 1690 - 3 - 4  # 3 cancelled; the placeholders' 4 listed, not counted
    assert sum(e.state == "unaddressed" for r in whole.rows for e in r.entries) == 4
    assert whole.counts["accepted"] == 1 and whole.counts["closed"] == 1 and whole.counts["returned"] == 1
    assert load_workbook(io.BytesIO(reports.write(whole, "xlsx"))).active.title == "2021-2024"
    with pytest.raises(ValueError, match="written in kk or ru"):
        reports.consolidated(answered.engine, answered.plan, ALMATY, lang="en", year=2022)
    with pytest.raises(ValueError, match="comes as docx or xlsx"):
        reports.write(whole, "pdf")
