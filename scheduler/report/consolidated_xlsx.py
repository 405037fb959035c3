"""The consolidated report as a spreadsheet: the plan's columns, then one row per body's answer
under its plan row, so that a filter on the body, the state or the row number finds them.

Title rows above a frozen header with filters; wrapped text; dates as dates; printed landscape on
A4, fitted to the page's width, the header repeated on every page.
"""

from __future__ import annotations

import io

from scheduler.report import cells
from scheduler.report.consolidated import Consolidated

# The plan's columns; a body's row puts its name under "responsible", its due date under
# "deadline", and its answer in the columns after. (label key, width in characters)
COLUMNS = (
    ("number", 6),
    ("activity", 42),
    ("form", 18),
    ("responsible", 28),
    ("deadline", 14),
    ("period", 22),
    ("state", 15),
    ("letter", 20),
    ("submitted", 15),
    ("text", 38),
)
FONT = "Times New Roman"  # as in the DOCX: every Kazakh letter, and narrow enough for long names
FONT_SIZE = 10
LINE_HEIGHT = 13  # points per line of 10-point text
DATE_FORMAT = "DD.MM.YYYY"


def write(report: Consolidated) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = str(report.year) if report.year is not None else _whole_span(report)
    labels = report.labels
    width = len(COLUMNS)
    last_column = get_column_letter(width)
    wrap = Alignment(wrap_text=True, vertical="top")
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    titles = [(report.title, Font(name=FONT, bold=True, size=14), 22),
              (report.plan_title, Font(name=FONT, bold=True, size=12), 34),
              (report.approved, Font(name=FONT, size=12), 17), (report.span, Font(name=FONT, size=12), 17)]
    if report.as_of:
        titles.append((report.as_of, Font(name=FONT, size=12), 17))
    titles.append((report.summary, Font(name=FONT, size=FONT_SIZE), 16))
    for number, (text, font, height) in enumerate(titles, start=1):
        cells.put(sheet, number, 1, text).font = font
        sheet.cell(number, 1).alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=width)
        sheet.row_dimensions[number].height = height

    header_row = len(titles) + 2
    header_fill = PatternFill("solid", fgColor="D9D9D9")
    for column, (key, characters) in enumerate(COLUMNS, start=1):
        cell = cells.put(sheet, header_row, column, labels[key])
        cell.font = Font(name=FONT, bold=True, size=FONT_SIZE)
        cell.fill = header_fill
        cell.border = border
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(column)].width = characters
    # Bold labels are wider than the estimate counts on: give them a line more.
    sheet.row_dimensions[header_row].height = _height([(labels[key], w) for key, w in COLUMNS]) + LINE_HEIGHT

    section_fill = PatternFill("solid", fgColor="F2F2F2")
    plain, bold = Font(name=FONT, size=FONT_SIZE), Font(name=FONT, size=FONT_SIZE, bold=True)
    quiet = Font(name=FONT, size=FONT_SIZE, color="808080")
    at = header_row
    for row in report.rows:
        at += 1
        if row.kind == "section":
            cell = cells.put(sheet, at, 1, row.title)
            cell.font, cell.fill = bold, section_fill
            cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
            sheet.merge_cells(start_row=at, start_column=1, end_row=at, end_column=width)
            sheet.row_dimensions[at].height = _height([(row.title, sum(w for _, w in COLUMNS))])
            continue
        values = [row.number, row.title, row.form, row.responsible, row.deadline, "", "", "", None,
                  row.note if not row.entries else ""]
        _put(sheet, at, values, wrap, border, plain)
        if row.kind == "heading":
            sheet.cell(at, 2).font = bold
        for entry in row.entries:
            at += 1
            _put(sheet, at, [row.number, "", "", entry.agency_name, entry.due, entry.period, entry.state_text,
                             entry.reference, entry.submitted_on, entry.text], wrap, border, plain)
            sheet.cell(at, 1).font = quiet
            for column in (5, 9):
                sheet.cell(at, column).number_format = DATE_FORMAT

    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    sheet.auto_filter.ref = f"A{header_row}:{last_column}{at}"
    if report.record:  # below the table, out of its filter
        cells.put(sheet, at + 2, 1, report.record).font = Font(name=FONT, size=FONT_SIZE - 1, color="595959")
        sheet.merge_cells(start_row=at + 2, start_column=1, end_row=at + 2, end_column=width)
    _page_setup(sheet, header_row)

    book.properties.title = f"{report.title}. {report.span}"
    book.properties.subject = report.plan_title
    book.properties.language = {"kk": "kk-KZ", "ru": "ru-RU"}[report.lang]
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _page_setup(sheet, header_row: int) -> None:
    """A4 landscape, one page wide, the header repeated on every page, page numbers below."""
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.oddFooter.center.text = "&P / &N"


def _put(sheet, row: int, values: list, alignment, border, font) -> None:
    for column, value in enumerate(values, start=1):
        cell = cells.put(sheet, row, column, value if value != "" else None)
        cell.alignment, cell.border, cell.font = alignment, border, font
    # Spreadsheet programs do not grow a row to its wrapped text on opening a file: say its height.
    sheet.row_dimensions[row].height = _height([(v, w) for v, (_, w) in zip(values, COLUMNS) if isinstance(v, str)])


def _height(cells: list[tuple[str, int]]) -> float:
    """Points for the tallest of the cells' texts wrapped at their columns' widths."""
    lines = 1
    for text, characters in cells:
        per_line = max(1, int(characters * 1.2))
        lines = max(lines, sum(max(1, -(-len(part) // per_line)) for part in text.split("\n")))
    return lines * LINE_HEIGHT + 4


def _whole_span(report: Consolidated) -> str:
    years = sorted({e.due.year for r in report.rows for e in r.entries})
    return f"{years[0]}-{years[-1]}" if years else "plan"
