"""Text cells that a spreadsheet program would take for a formula, written as text (CONTRACT: text
cells that start with `=`, `+`, `-`, `@`, tab or CR are written as text in every XLSX/CSV).

An answer's text, a letter's number or a plan's title is what a person typed; opened in Excel or
LibreOffice, a cell starting with one of these characters would otherwise be computed
(`=cmd|' /C calc'!A0` runs a program through DDE). Every XLSX and CSV writer of the project puts its
text through this module, so the rule lives in one place:

- XLSX (openpyxl): a text stays a string cell (openpyxl would make `=…` a formula and `#N/A` an
  error), holding exactly what was typed; a risky one is also marked "quote prefix", as Excel marks
  a cell typed with a leading `'`, so that editing it in Excel keeps it text.
- CSV has no cell types, so the usual OWASP mitigation applies: a risky text field gets a leading
  single quote (`'=1+2`), which spreadsheet programs show as text. Only text columns go through
  `csv_text`; numbers and ISO dates are written as they are. `csv_lines` writes the rows, a field
  holding a CR quoted on every Python.
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterable, Sequence

RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r")


def risky(value: object) -> bool:
    """Whether `value` is a text a spreadsheet program would read as a formula."""
    return isinstance(value, str) and value.startswith(RISKY_STARTS)


def csv_text(value):
    """A field of a CSV file's text column: a risky text behind a single quote, anything else (a
    number, None, a harmless text) as it is."""
    return "'" + value if risky(value) else value


def csv_lines(rows: Iterable[Sequence], ending: str = "\n") -> str:
    """Rows as CSV text, each ended by `ending`, a field holding a CR quoted whatever the ending.
    Python before 3.11.9 (Debian 12 has 3.11.2) quoted only the ending's own characters: under
    "\n", a title or a quoted `'\r…` split its row in two when read back (CPython gh-67044)."""
    out = []
    for row in rows:
        line = io.StringIO()
        csv.writer(line, lineterminator="\r\n").writerow(row)  # "\r\n": CR and LF both quoted
        out.append(line.getvalue()[:-2] + ending)
    return "".join(out)


def xlsx_text(cell):
    """Keep `cell` as typed: a string cell when its value is text (never a formula or an error
    code), quote-prefixed when risky. Call it after the value is set; returns the cell."""
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if risky(cell.value):
            cell.quotePrefix = True
    return cell


def twins(cell) -> tuple:
    """`cell` (a write-only sheet's, styled) and a cell of the same style quote-prefixed, for
    `refill`. Style them before: once a cell is written, openpyxl keeps its style object itself in
    the workbook's table of styles, so changing it afterwards would change what was written."""
    from openpyxl.cell import WriteOnlyCell

    marked = WriteOnlyCell(cell.parent)
    marked._style = copy.copy(cell._style)  # as openpyxl copies a cell's style (copy_worksheet)
    marked.quotePrefix = True
    return cell, marked


def refill(pair: tuple, value):
    """One of `pair` (`twins`) holding `value`, for a line of a write-only sheet, which writes a
    line as it is appended, so the same two cells serve line after line: a text kept as typed, in
    the quote-prefixed one when risky."""
    cell = pair[1] if risky(value) else pair[0]
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def put(sheet, row: int, column: int, value):
    """`sheet.cell(row, column, value)`, a text kept as text."""
    return xlsx_text(sheet.cell(row, column, value))


def row_cells(sheet, values) -> list:
    """Cells for `sheet.append`, on a regular or a write-only sheet, each text kept as text; style
    them before appending them (a write-only sheet writes a row as it is appended)."""
    from openpyxl.cell import WriteOnlyCell

    return [xlsx_text(WriteOnlyCell(sheet, value)) for value in values]
