"""The consolidated DOCX as a word processor lays it out: LibreOffice prints it to PDF, and every
page carries the table's header, the Kazakh letters and the answers (skipped where LibreOffice or
poppler's pdftotext is not installed)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scheduler.calendar.expand import expand
from scheduler.report import consolidate, consolidated_docx, unanswered

OFFICE = shutil.which("libreoffice") or shutil.which("soffice")
# LibreOffice's Writer is what opens a DOCX: an install of Calc alone (libreoffice-calc-nogui) has none.
WRITER = bool(OFFICE) and any(Path(os.path.realpath(OFFICE)).parent.glob("libswlo.so"))
pytestmark = pytest.mark.skipif(not WRITER or not shutil.which("pdftotext"),
                                reason="needs LibreOffice Writer and pdftotext (apt-get install libreoffice-writer-nogui poppler-utils)")


def test_every_page_repeats_the_header_and_shows_the_answers(shipped_plan, kz_calendar, tmp_path):
    answers = {a.occurrence: a for a in unanswered(expand(shipped_plan, kz_calendar))}
    answers["7:finance:2022"] = dataclasses.replace(answers["7:finance:2022"], state="accepted", ref="12-3/45",
                                                    ref_date=dt.date(2022, 12, 8), text="Өтемақы 14 адамға төленді.")
    report = consolidate(shipped_plan, answers.values(), lang="kk", year=2022, today=dt.date(2023, 1, 16))
    source = tmp_path / "consolidated-2022.docx"
    source.write_bytes(consolidated_docx.write(report))
    subprocess.run([OFFICE, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "consolidated-2022.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 10
    assert all("Орындалуы туралы ақпарат" in page for page in pages), "the header row repeats on every page"
    text = " ".join(" ".join(pages).split())
    assert "Жоспардың орындалуы туралы жиынтық ақпарат" in text
    assert "Қаржымині — қабылданды" in text and "№ 12-3/45, 2022 жылғы 8 желтоқсан" in text
    assert "Өтемақы 14 адамға төленді." in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout if shutil.which("pdffonts") else ""
    assert "Serif" in fonts or "Times" in fonts or not fonts  # Times New Roman, or its metric twin
