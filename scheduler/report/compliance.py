"""The compliance table for a year: per agency, what it owed, what came on time, late (and by how
many working days), missing, still pending, and the share on time. A pure function of occurrences,
submissions and `today`; the CLI and the dashboard write it as CSV, XLSX or HTML in Kazakh, Russian
or English (`lang`): headings from the `report` catalog (context "compliance report"), bodies by
their names in that language as they were named that year (`body_name`), counts as numbers, the
share on time as a percentage, dates as dates. The CSV keeps its machine header and codes for
scripts. The dashboard's XLSX adds a second sheet, one line per deadline (`Item`)."""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields

from scheduler import templating
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.i18n import long_date
import scheduler.report.cells as cells


@dataclass(frozen=True)
class Owed:
    agency: str
    due: dt.date
    submitted_on: dt.date | None  # local date of the submission


@dataclass
class AgencyCompliance:
    agency: str
    name: str
    owed: int = 0
    on_time: int = 0
    late: int = 0
    late_working_days: int = 0  # summed over its late submissions
    most_late_working_days: int = 0
    missing: int = 0
    pending: int = 0

    @property
    def settled(self) -> int:
        """Deadlines that have come: answered on time or late, or passed without an answer."""
        return self.on_time + self.late + self.missing

    @property
    def on_time_rate(self) -> float | None:
        """On time ÷ the deadlines that have come (as the dashboard counts it); None before any came."""
        return self.on_time / self.settled if self.settled else None


COLUMNS = [f.name for f in fields(AgencyCompliance)]
"""The CSV's columns as scripts read them (`agency` is the code, `name` the body's name in the
report's language); the CSV adds `on_time_percent` after them."""
CSV_COLUMNS = [*COLUMNS, "on_time_percent"]
SHOWN = ("name", "owed", "on_time", "late", "late_working_days", "most_late_working_days", "missing", "pending",
         "on_time_rate")
"""The columns people read (XLSX and HTML): the body's name, the counts, the share on time; no code."""
LANGUAGES = ("kk", "ru", "en")


@dataclass(frozen=True)
class Item:
    """One deadline of the year, as the item sheet lists it (names and title in the sheet's language)."""

    agency: str
    obligation: str
    title: str
    period: str
    due: dt.date
    state: str  # overdue, open, submitted, returned, accepted, closed
    submitted_on: dt.date | None
    working_days_late: int


def N_(message: str) -> str:  # marks a message for extraction; translated where it is written
    return message


STATE_WORDS = {
    "overdue": N_("overdue"), "open": N_("not yet due"), "submitted": N_("submitted"),
    "returned": N_("returned for completion"), "accepted": N_("accepted"), "closed": N_("closed"),
}


@functools.cache
def labels(lang: str) -> dict[str, str]:
    """The compliance report's headings and words in `lang` (the report catalog, context
    "compliance report"): one per column of `SHOWN`, and the titles around the table."""
    t = templating.translations(lang, "report")
    return {
        "name": t.pgettext("compliance report", "Agency"),
        "owed": t.pgettext("compliance report", "Deadlines"),
        "on_time": t.pgettext("compliance report", "Submitted on time"),
        "late": t.pgettext("compliance report", "Submitted late"),
        "late_working_days": t.pgettext("compliance report", "Working days late, in all"),
        "most_late_working_days": t.pgettext("compliance report", "Most working days late"),
        "missing": t.pgettext("compliance report", "Past due, not submitted"),
        "pending": t.pgettext("compliance report", "Not yet due"),
        "on_time_rate": t.pgettext("compliance report", "On time: share of the deadlines that have come, %"),
        "total": t.pgettext("compliance report", "All agencies"),
        "sheet": t.pgettext("compliance report", "Compliance {year}"),
        "title": t.pgettext("compliance report", "Compliance with the deadlines due in {year}"),
        "as_of": t.pgettext("compliance report", "As of {date}"),
        "data_as_of": t.pgettext("compliance report", "Data as of"),
        "note": t.pgettext("compliance report", "The share on time counts the deadlines that have come: "
                                                "submitted on time, submitted late, or past due and not submitted."),
    }


def body_name(plan, code: str, day: dt.date, lang: str) -> str:
    """The body's name in `lang` as it was on `day`, as the consolidated report names it: the plan's
    short Kazakh name, the full Russian or English one (`Plan.display_name`), its first letter a
    capital as a table's cell starts; a code the plan does not know, as it is."""
    if plan.agency(code) is None and code not in plan.file.offices:
        return code
    name = plan.display_name(code, day, lang, short=lang == "kk")
    return name[:1].upper() + name[1:]


def year_outside(plan_years: range, year: int) -> str | None:
    """Why there is no report for `year` (None if there is one). The CLI and the dashboard both
    ask this: the plan's years, the year after (its last deadlines fall there) and the year before."""
    if plan_years.start - 1 <= year <= plan_years.stop:
        return None
    return f"{year} is outside the plan's period {plan_years.start}–{plan_years.stop - 1} (and the year after)"


def working_days_late(calendar: WorkdayCalendar, due: dt.date, submitted: dt.date) -> int:
    """Working days after `due` up to and including the day it came."""
    count, day = 0, due
    while day < submitted:
        day += dt.timedelta(days=1)
        count += calendar.is_working_day(day)
    return count


def compliance(owed: Iterable[Owed], names: dict[str, str], today: dt.date, calendar: WorkdayCalendar) -> list[AgencyCompliance]:
    """One row per agency, the most missing first, then the most late, then by name."""
    table: dict[str, AgencyCompliance] = {}
    for item in owed:
        row = table.setdefault(item.agency, AgencyCompliance(item.agency, names.get(item.agency, item.agency)))
        row.owed += 1
        if item.submitted_on is None:
            if item.due < today:
                row.missing += 1
            else:
                row.pending += 1
        elif item.submitted_on <= item.due:
            row.on_time += 1
        else:
            late = working_days_late(calendar, item.due, item.submitted_on)
            row.late += 1
            row.late_working_days += late
            row.most_late_working_days = max(row.most_late_working_days, late)
    return sorted(table.values(), key=lambda r: (-r.missing, -r.late, alphabetical(r.name), r.agency))


CYRILLIC = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
"""The Kazakh alphabet's order, which holds the Russian one: code points would put Ә, Ғ, Қ, Ң, Ө,
Ұ, Ү, Һ and І after Я (Ақмола after Атырау)."""
_LETTER = {letter: index for index, letter in enumerate(CYRILLIC)}


def alphabetical(name: str) -> tuple:
    """A sort key putting Kazakh and Russian names in alphabetical order (Latin ones before them)."""
    return tuple((1, _LETTER[c]) if c in _LETTER else (0, ord(c)) for c in name.casefold())


def total(rows: list[AgencyCompliance]) -> AgencyCompliance:
    sums = AgencyCompliance("total", "")
    for row in rows:
        for name in COLUMNS[2:]:
            value = getattr(row, name)
            current = getattr(sums, name)
            setattr(sums, name, max(current, value) if name == "most_late_working_days" else current + value)
    return sums


TEXT_COLUMNS = ("agency", "name")  # the others are counts


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"the compliance report is written in {', '.join(LANGUAGES)}, not {lang!r}")
    return lang


def _percent(row: AgencyCompliance) -> float | None:
    rate = row.on_time_rate
    return None if rate is None else round(100 * rate, 1)


def as_csv(rows: list[AgencyCompliance], *, lang: str = "kk") -> bytes:
    """The table, one line per agency and the total, under the machine header scripts read
    (`CSV_COLUMNS`): the code, the name in the report's language (`rows` carry it; the total's is
    "All agencies" in `lang`), the counts, and the share on time in percent with one decimal (empty
    before any deadline came). A name a spreadsheet would compute is quoted (`cells.csv_text`)."""
    everyone = total(rows)
    everyone.name = labels(_language(lang))["total"]
    lines = [[cells.csv_text(getattr(row, c)) if c in TEXT_COLUMNS else getattr(row, c) for c in COLUMNS] + [_percent(row)]
             for row in [*rows, everyone]]
    text = cells.csv_lines([CSV_COLUMNS, *lines], ending="\r\n")
    return text.encode("utf-8-sig")  # the BOM lets Excel read Kazakh names correctly


TABLE_WIDTHS = (46, *(15,) * (len(SHOWN) - 1))
"""The compliance sheet's columns, in characters: the name wraps in its column, a heading in its
own; 166 in all, printed on A4 landscape at about 90 % (fit to the page's width)."""
HEAD_ROW = 4  # under the title, the plan's title and the date of the data


def as_xlsx(rows: list[AgencyCompliance], year: int, items: list[Item] | None = None, *,
            title: str = "", today: dt.date | None = None, lang: str = "kk") -> bytes:
    """The compliance sheet in `lang`: title rows (the report's, the plan's `title`, the date of
    the data as a date when `today` is given), the header row, one row per agency by name (no
    codes) and the total; counts as numbers, the share on time as a number formatted as a percentage.
    Printed on A4 landscape, fit to the page's width, the header repeated on every page; the header
    frozen and filtered. With `items`, a second sheet listing every deadline. Written in openpyxl's
    write-only mode, each row streamed out as it comes: the time is linear in the rows and the
    memory holds a row, not the sheet (33,000 lines: 22 MiB, against 112 MiB as a whole workbook).
    Texts are kept as typed (`cells`)."""
    from openpyxl import Workbook

    lang = _language(lang)
    if items is not None and today is None:
        raise ValueError("the item sheet says 'as of' a day: give `today`")
    book = Workbook(write_only=True)
    _compliance_sheet(book, rows, year, title, today, lang)
    if items is not None:
        _item_sheet(book, items, year, title, today, lang)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


LINE_HEIGHT = 15.0  # points per line of 11-point Calibri, the workbook's font
_WIDTHS = {**dict.fromkeys(" іiIІjl.,;:'!|", 0.5), **dict.fromkeys("гғтfrstzJ-()/\"", 0.75),
           **dict.fromkeys("жмфшщыюmw%—№ЖМШЩЫЮMW", 1.5)}
"""Calibri's letters against its digits (a column's width counts digits): most are about as wide,
these narrower or wider, capitals a quarter wider (measured on Carlito, its metric twin)."""


def _text_width(text: str) -> float:
    return sum(_WIDTHS.get(c, 1.25 if c.isupper() else 1.0) for c in text)


@functools.lru_cache(maxsize=4096)
def _wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped at spaces in a column `width` digits wide (a little
    more than it does, never fewer: a hyphen may break a line too). Kept: the item sheet repeats
    each title and name on many lines."""
    lines, room, space = 0, width - 1, _WIDTHS[" "]
    for paragraph in text.splitlines() or [""]:
        count, used = 1, 0.0
        for word in paragraph.split():
            size = _text_width(word)
            if used and used + space + size > room:
                count, used = count + 1, 0.0
            used += (space if used else 0.0) + size
            while used > room:  # a word longer than the line is broken
                count, used = count + 1, used - room
        lines += count
    return lines


def _height(texts: Iterable[tuple[str, float]], *, bold: bool = False) -> float:
    """The height in points of a row whose wrapped cells hold `texts` (text, column width). Set on
    every row that wraps: LibreOffice keeps the default height of a row that does not say its own,
    printing its second line over the next row, and a merged cell's row never grows in any program."""
    scale = 1.05 if bold else 1.0
    lines = max((_wrapped_lines(text, width / scale) for text, width in texts), default=1)
    return LINE_HEIGHT * lines + 3


def _print_setup(sheet) -> None:
    """A4 landscape, one page wide, the header row repeated on every page, page numbers below."""
    from openpyxl.worksheet.worksheet import Worksheet

    sheet.print_title_rows = f"{HEAD_ROW}:{HEAD_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "&P / &N"


def _compliance_sheet(book, rows: list[AgencyCompliance], year: int, title: str, today: dt.date | None,
                      lang: str) -> None:
    """The table under three title rows: a write-only sheet takes its columns, merges, heights and
    print setup before its rows, so each row's height is set just before it is appended."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    words = labels(lang)
    sheet = book.create_sheet(words["sheet"].format(year=year))
    last_column = get_column_letter(len(SHOWN))
    last_row = HEAD_ROW + len(rows) + 1  # the agencies and the total
    note_row = last_row + 2
    for column, width in enumerate(TABLE_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.merged_cells.add(f"A2:{last_column}2")
    sheet.merged_cells.add(f"A{note_row}:{last_column}{note_row}")
    sheet.freeze_panes = f"A{HEAD_ROW + 1}"
    if rows:
        sheet.auto_filter.ref = f"A{HEAD_ROW}:{last_column}{last_row - 1}"  # the total stays below
    _print_setup(sheet)

    span = sum(TABLE_WIDTHS)  # a merged row's width
    font = Font(name="Calibri", size=11)
    bold = Font(name="Calibri", size=11, bold=True)
    thin = Side(style="thin", color="A0A8B0")
    boxed = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")

    written = 0

    def add(line: list, height: float | None = None) -> None:
        """Append `line` (styled) as the next row, `height` points high (set before it is written)."""
        nonlocal written
        written += 1
        if height is None:
            sheet.append(line)
        else:
            _append_sized(sheet, written, line, height)

    heading = cells.row_cells(sheet, [words["title"].format(year=year)])
    heading[0].font = Font(name="Calibri", size=14, bold=True)
    add(heading, LINE_HEIGHT * 1.4 + 3)
    plan_title = cells.row_cells(sheet, [title])
    plan_title[0].font, plan_title[0].alignment = font, wrap
    add(plan_title, _height([(title, span)]))
    if today is not None:
        as_of = cells.row_cells(sheet, [words["data_as_of"], today])
        as_of[0].font = as_of[1].font = font
        as_of[1].number_format = "DD.MM.YYYY"
        as_of[1].alignment = Alignment(horizontal="left")
        add(as_of)
    else:
        add([])
    headings = [words[c] for c in SHOWN]
    header = cells.row_cells(sheet, headings)
    fill = PatternFill("solid", fgColor="DDE2E6")
    for number, cell in enumerate(header):
        cell.font, cell.fill, cell.border = bold, fill, boxed
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="left" if number == 0 else "center")
    add(header, _height(zip(headings, TABLE_WIDTHS), bold=True))
    everyone = total(rows)
    everyone.name = words["total"]
    above = Border(left=thin, right=thin, top=Side(style="medium"), bottom=thin)
    for row in [*rows, everyone]:
        last = row is everyone
        line = cells.row_cells(sheet, [getattr(row, c) for c in SHOWN])
        for cell in line:
            cell.font, cell.border = (bold, above) if last else (font, boxed)
            cell.alignment = top  # beside a name on two lines, the numbers on its first
        line[0].alignment = wrap
        line[-1].number_format = "0%"
        add(line, _height([(row.name, TABLE_WIDTHS[0])], bold=last))
    add([])
    note = cells.row_cells(sheet, [words["note"]])
    note[0].font, note[0].alignment = Font(name="Calibri", size=11, italic=True), wrap
    add(note, _height([(words["note"], span)]))
    assert written == note_row


ITEM_WIDTHS = (40, 8, 70, 12, 12, 22, 13, 12)
DATE_COLUMNS = (4, 6)  # due, submitted on (0-based)
WRAPPED_COLUMNS = (0, 2)  # agency, title


def _item_sheet(book, items: list[Item], year: int, title: str, today: dt.date, lang: str) -> None:
    """Title rows, then a header row frozen above the lines and filtered; printed landscape, fit to
    the page's width, the header repeated on every page. The rows are counted here, never asked of
    the sheet: `max_row` scans every cell, and asked once a line it made the sheet quadratic
    (8,000 lines 25 s, 33,000 over 10 minutes)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    _ = templating.translations(lang, "report").gettext
    sheet = book.create_sheet(_("Deadlines {year}").format(year=year))
    titles = [_("Deadlines due in {year}: each agency's, one per line").format(year=year), title,
              _("As of {date}").format(date=long_date(today, lang))]
    header = [_("Agency"), _("Item"), _("Title"), _("Period"), _("Due"), _("State"), _("Submitted on"),
              _("Working days late")]
    head_row = len(titles) + 1
    _set_up_item_sheet(sheet, head_row, last_row=head_row + len(items), last_column=get_column_letter(len(header)))
    for number, text in enumerate(titles):
        line = cells.row_cells(sheet, [text])
        line[0].font = Font(name="Calibri", bold=True, size=14) if number == 0 else Font(name="Calibri", size=11)
        sheet.append(line)
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    bold, fill = Font(name="Calibri", size=11, bold=True), PatternFill("solid", fgColor="DDE2E6")
    line = cells.row_cells(sheet, header)
    for cell in line:
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
    _append_sized(sheet, head_row, line, _height(zip(header, ITEM_WIDTHS), bold=True))
    # Two cells per column (`cells.twins`: plain, quote-prefixed), styled once and given each line's
    # value in turn. Styled anew on each cell, a style is looked up by its hash every time (most of
    # the sheet's time at 33,000 lines); made anew, a cell costs a good part of that again.
    columns = []
    for number, _column in enumerate(header):
        cell = WriteOnlyCell(sheet)
        cell.alignment = wrap if number in WRAPPED_COLUMNS else top  # beside a title on several lines, on its first
        if number in DATE_COLUMNS:
            cell.number_format = "DD.MM.YYYY"
        columns.append(cells.twins(cell))
    for number, item in enumerate(items, start=head_row + 1):
        values = [item.agency, item.obligation, item.title, item.period, item.due,
                  _(STATE_WORDS.get(item.state, item.state)), item.submitted_on, item.working_days_late or None]
        line = [None if value is None else cells.refill(pair, value) for pair, value in zip(columns, values, strict=True)]
        _append_sized(sheet, number, line, _height(((item.agency, ITEM_WIDTHS[0]), (item.title, ITEM_WIDTHS[2]))))


def _append_sized(sheet, number: int, line: list, height: float) -> None:
    """Append `line` as row `number` of a write-only sheet, `height` points high: the height is
    written with the row, then forgotten (kept, 33,000 of them would hold the memory the
    write-only sheet saves)."""
    sheet.row_dimensions[number].height = height
    sheet.append(line)
    del sheet.row_dimensions[number]


def _set_up_item_sheet(sheet, head_row: int, last_row: int, last_column: str) -> None:
    """Widths, frozen header, filter and print setup: before the rows, as a write-only sheet wants."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    for column, width in enumerate(ITEM_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{head_row + 1}"
    sheet.auto_filter.ref = f"A{head_row}:{last_column}{last_row}"
    sheet.print_title_rows = f"{head_row}:{head_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True


def as_html(rows: list[AgencyCompliance], year: int, plan_title: str, today: dt.date, lang: str = "kk") -> bytes:
    """The table as a page in `lang`: headings, bodies' names, the date and the share on time in
    that language's style (no codes), ready to print on A4 landscape."""
    from babel.numbers import format_decimal, format_percent

    lang = _language(lang)
    everyone = total(rows)
    everyone.name = labels(lang)["total"]

    def shown(row: AgencyCompliance, column: str) -> str:
        value = getattr(row, column)
        if column == "name":
            return value
        if column == "on_time_rate":
            return "—" if value is None else format_percent(value, "#,##0%", locale=lang)
        return format_decimal(value, locale=lang)

    page = templating.environment(lang, domain="report").get_template("report.html.j2").render(
        rows=rows, total=everyone, columns=SHOWN, words=labels(lang), shown=shown, year=year, plan_title=plan_title,
        as_of=long_date(today, lang))
    return page.encode("utf-8")
