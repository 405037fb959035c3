"""The consolidated report as a Word document, in the plan's own table layout.

Landscape A4; the report's title, the plan's title, its approval and the span above a table
№ | activity | form of completion | responsible | deadline | information on implementation, whose
header row repeats on every page. Sections are full-width rows; row 8's form and deadline cells are
merged down over 8.1–8.5 as the plan prints them. Times New Roman (12 pt above the table, 10 pt in
it), which has every Kazakh letter; the text is marked Kazakh or Russian for spelling and
hyphenation.
"""

from __future__ import annotations

import io
from itertools import groupby

from scheduler.report.consolidated import Consolidated, Row

FONT = "Times New Roman"
_LANG_TAGS = {"kk": "kk-KZ", "ru": "ru-RU"}
# Column widths in centimetres; together the landscape A4 page less its margins (29.7 − 2 − 1.5).
_WIDTHS_CM = (1.2, 5.6, 2.8, 3.8, 2.6, 10.2)
_HEADER_FILL = "D9D9D9"
_SECTION_FILL = "F2F2F2"


def write(report: Consolidated) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    document = Document()
    _set_up_styles(document, report.lang)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(2.0), Cm(1.5)
    section.top_margin, section.bottom_margin = Cm(1.5), Cm(1.5)
    _page_number_footer(section)

    properties = document.core_properties
    properties.title = f"{report.title}. {report.span}"
    properties.subject = report.plan_title
    properties.language = _LANG_TAGS[report.lang]

    for text, bold, size in ((report.title, True, 14), (report.plan_title, True, 12), (report.approved, False, 12),
                             (report.span, False, 12), (report.as_of, False, 12)):
        if not text:
            continue
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(2)
        run = paragraph.add_run(text)
        run.bold, run.font.size = bold, Pt(size)
    summary = document.add_paragraph(report.summary)
    summary.paragraph_format.space_before = Pt(6)
    summary.paragraph_format.space_after = Pt(6)

    _table(document, report)
    if report.record:
        record = document.add_paragraph()
        record.paragraph_format.space_before = Pt(8)
        record.add_run(report.record).font.size = Pt(9)

    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def _table(document, report: Consolidated) -> None:
    """The report's table: a header repeated on every page, a row per section, heading and row, the
    form and deadline of a heading's rows merged down beside them."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm

    labels = report.labels
    table = document.add_table(rows=1, cols=len(_WIDTHS_CM))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, _WIDTHS_CM):
        column.width = Cm(width)
    header = table.rows[0]
    _repeat_as_header(header)
    for cell, key, width in zip(header.cells, ("number", "activity", "form", "responsible", "deadline", "information"),
                                _WIDTHS_CM):
        cell.width = Cm(width)
        _fill(cell, labels[key], bold=True, centered=True)
        _shade(cell, _HEADER_FILL)

    merge_down: dict[str, list] = {}  # heading id -> its row and the rows under it
    for row in report.rows:
        cells = table.add_row().cells
        for cell, width in zip(cells, _WIDTHS_CM):
            cell.width = Cm(width)
        if row.kind == "section":
            merged = cells[0].merge(cells[-1])
            _fill(merged, row.title, bold=True, centered=True)
            _shade(merged, _SECTION_FILL)
            _keep_with_next(merged)
            continue
        _fill(cells[0], row.number, centered=True)
        _fill(cells[1], row.title, bold=row.kind == "heading")
        _fill(cells[3], row.responsible)
        if row.kind == "heading":
            _fill(cells[2], row.form)
            _fill(cells[4], row.deadline)
            merge_down[row.id] = [cells]
            continue
        if row.under in merge_down:
            merge_down[row.under].append(cells)
        else:
            _fill(cells[2], row.form)
            _fill(cells[4], row.deadline)
        _information(cells[5], row, labels)
    for rows in merge_down.values():
        for column in (2, 4):
            rows[0][column].merge(rows[-1][column])


def _information(cell, row: Row, labels: dict[str, str]) -> None:
    """Each body's answers: its name, then per deadline the state, the letter and the text. A body
    owing several deadlines in the span (half-years, quarters, years) is named once above them."""
    from docx.shared import Cm, Pt

    if not row.entries:
        _fill(cell, row.note, italic=True)
        return
    paragraphs = iter([cell.paragraphs[0]])

    def paragraph(space_before: float = 0, indent: bool = False):
        made = next(paragraphs, None) or cell.add_paragraph()
        if space_before:
            made.paragraph_format.space_before = Pt(space_before)
        if indent:
            made.paragraph_format.left_indent = Cm(0.3)
        return made

    for number, (name, group) in enumerate(groupby(row.entries, key=lambda e: e.agency_name)):
        group = list(group)
        space = 4 if number else 0
        if len(group) > 1:
            paragraph(space).add_run(name).bold = True
            space = 0
        for entry in group:
            due = f"{labels['due_inline']}: {entry.due_text}"
            when = f"{entry.period} ({due})" if entry.period else due
            line = paragraph(space, indent=len(group) > 1)
            space = 1
            if len(group) == 1:
                line.add_run(name).bold = True
                line.add_run(" — ")
                line.add_run(entry.state_text).italic = True
                line.add_run(f" ({entry.period}; {due})" if entry.period else f" ({due})")
            else:
                line.add_run(f"{when} — ")
                line.add_run(entry.state_text).italic = True
            facts = [entry.reference] if entry.reference else []
            if entry.submitted_text:
                facts.append(f"{labels['submitted_inline']}: {entry.submitted_text}")
            if facts:
                paragraph(indent=len(group) > 1).add_run("; ".join(facts))
            for text in entry.text.splitlines():
                if text.strip():
                    paragraph(indent=len(group) > 1).add_run(text.strip())


def _fill(cell, text: str, *, bold: bool = False, italic: bool = False, centered: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = cell.paragraphs[0]
    if centered:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic = bold or None, italic or None


def _set_up_styles(document, lang: str) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = 0
    properties = normal.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    language = properties.find(qn("w:lang"))
    if language is None:
        language = properties.makeelement(qn("w:lang"), {})
        properties.append(language)
    language.set(qn("w:val"), _LANG_TAGS[lang])
    for name in ("Table Grid",):
        document.styles[name].font.name = FONT


def _repeat_as_header(row) -> None:
    """The row repeats at the top of every page and is never split across two."""
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        element = properties.makeelement(qn(tag), {qn("w:val"): "true"})
        properties.append(element)


def _keep_with_next(cell) -> None:
    """A section's heading row stays on the page of the row after it."""
    for paragraph in cell.paragraphs:
        paragraph.paragraph_format.keep_with_next = True
    from docx.oxml.ns import qn

    properties = cell._tc.getparent().get_or_add_trPr()
    properties.append(properties.makeelement(qn("w:cantSplit"), {qn("w:val"): "true"}))


def _shade(cell, fill: str) -> None:
    from docx.oxml.ns import qn

    properties = cell._tc.get_or_add_tcPr()
    properties.append(properties.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto",
                                                           qn("w:fill"): fill}))


def _page_number_footer(section) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = paragraph._p.makeelement(qn("w:fldSimple"), {qn("w:instr"): "PAGE"})
    paragraph._p.append(field)
