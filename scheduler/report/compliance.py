"""The compliance table for a year: per agency, what it owed, what came on time, late (and by how
many working days), missing, and still pending. A pure function of occurrences, submissions and
`today`; the CLI writes it as CSV, XLSX or HTML. The dashboard's XLSX adds a second sheet, one line
per deadline (`Item`), in the page's language and ready to print; its words and the HTML report's
come from the `report` catalog."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields

from scheduler import templating
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.i18n import long_date
from scheduler.report import cells


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


COLUMNS = [f.name for f in fields(AgencyCompliance)]


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


COLUMN_WORDS = {
    "agency": N_("code"), "name": N_("agency"), "owed": N_("owed"), "on_time": N_("on time"), "late": N_("late"),
    "late_working_days": N_("working days late, in all"), "most_late_working_days": N_("most working days late"),
    "missing": N_("missing"), "pending": N_("not yet due"),
}
STATE_WORDS = {
    "overdue": N_("overdue"), "open": N_("not yet due"), "submitted": N_("submitted"),
    "returned": N_("returned for completion"), "accepted": N_("accepted"), "closed": N_("closed"),
}


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
    return sorted(table.values(), key=lambda r: (-r.missing, -r.late, r.agency))


def total(rows: list[AgencyCompliance]) -> AgencyCompliance:
    sums = AgencyCompliance("total", "")
    for row in rows:
        for name in COLUMNS[2:]:
            value = getattr(row, name)
            current = getattr(sums, name)
            setattr(sums, name, max(current, value) if name == "most_late_working_days" else current + value)
    return sums


TEXT_COLUMNS = ("agency", "name")  # the others are counts


def as_csv(rows: list[AgencyCompliance]) -> bytes:
    """The table, one line per agency and the total; a name a spreadsheet would compute is quoted
    (`cells.csv_text`)."""
    lines = [[cells.csv_text(getattr(row, c)) if c in TEXT_COLUMNS else getattr(row, c) for c in COLUMNS]
             for row in [*rows, total(rows)]]
    text = cells.csv_lines([COLUMNS, *lines], ending="\r\n")
    return text.encode("utf-8-sig")  # the BOM lets Excel read Kazakh names correctly


def as_xlsx(rows: list[AgencyCompliance], year: int, items: list[Item] | None = None, *,
            title: str = "", today: dt.date | None = None, lang: str = "en") -> bytes:
    """The table as the CSV has it; with `items`, a second sheet listing every deadline. Written in
    openpyxl's write-only mode, each row streamed out as it comes: the time is linear in the rows
    and the memory holds a row, not the sheet (33,000 lines: 22 MiB, against 112 MiB as a whole
    workbook). Texts are kept as typed (`cells`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    if items is not None and today is None:
        raise ValueError("the item sheet says 'as of' a day: give `today`")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"compliance {year}")
    sheet.column_dimensions["B"].width = 60  # a write-only sheet takes its columns before its rows
    header = cells.row_cells(sheet, COLUMNS)
    bold = Font(bold=True)
    for cell in header:
        cell.font = bold
    sheet.append(header)
    for row in [*rows, total(rows)]:
        sheet.append(cells.row_cells(sheet, [getattr(row, c) for c in COLUMNS]))
    if items is not None:
        _item_sheet(book, items, year, title, today, lang)
        book.active = len(book.worksheets) - 1  # opens on the sheet in the reader's language
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


ITEM_WIDTHS = (40, 8, 70, 12, 12, 22, 13, 12)
DATE_COLUMNS = (4, 6)  # due, submitted on (0-based)
WRAPPED_COLUMNS = (0, 2)  # agency, title


def _item_sheet(book, items: list[Item], year: int, title: str, today: dt.date, lang: str) -> None:
    """Title rows, then a header row frozen above the lines and filtered; printed landscape, fit to
    the page's width, the header repeated on every page. The rows are counted here, never asked of
    the sheet: `max_row` scans every cell, and asked once a line it made the sheet quadratic
    (8,000 lines 25 s, 33,000 over 10 minutes)."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    _ = templating.translations(lang).gettext
    sheet = book.create_sheet(_("Deadlines {year}").format(year=year))
    titles = [_("Deadlines due in {year}: each agency's, one per line").format(year=year), title,
              _("As of {date}").format(date=long_date(today, lang))]
    header = [_("Agency"), _("Item"), _("Title"), _("Period"), _("Due"), _("State"), _("Submitted on"),
              _("Working days late")]
    head_row = len(titles) + 1
    _set_up_item_sheet(sheet, head_row, last_row=head_row + len(items), last_column=get_column_letter(len(header)))
    for number, text in enumerate(titles):
        line = cells.row_cells(sheet, [text])
        if number == 0:
            line[0].font = Font(bold=True, size=14)
        sheet.append(line)
    wrap = Alignment(wrap_text=True, vertical="top")
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE2E6")
    line = cells.row_cells(sheet, header)
    for cell in line:
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
    sheet.append(line)
    for item in items:
        line = cells.row_cells(sheet, [item.agency, item.obligation, item.title, item.period, item.due,
                                       _(STATE_WORDS.get(item.state, item.state)), item.submitted_on,
                                       item.working_days_late or None])
        for column in DATE_COLUMNS:
            line[column].number_format = "DD.MM.YYYY"
        for column in WRAPPED_COLUMNS:
            line[column].alignment = wrap
        sheet.append(line)


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


def as_html(rows: list[AgencyCompliance], year: int, plan_title: str, today: dt.date, lang: str = "en") -> bytes:
    """The table as a page: headings and dates in `lang` (the `report` catalog), the codes kept
    beside the names for whoever matches them with the CSV."""
    page = templating.environment(lang).get_template("report.html.j2").render(
        rows=rows, total=total(rows), columns=COLUMNS, year=year, plan_title=plan_title, today=today,
        column_words=COLUMN_WORDS, as_of=long_date(today, lang))
    return page.encode("utf-8")
