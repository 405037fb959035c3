"""Documents checked from a file, as the web form spools them: the size taken without reading past
the limit, the bytes hashed and kept a chunk at a time in a temporary file of the document's own,
and a ZIP with more parts than a DOCX or XLSX has refused from its end record, unread."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from scheduler.answers import files
from scheduler.answers.files import DOCX, MAX_PARTS, PDF, TooManyParts, check_file, check_upload, sniff, zip_extent
from scheduler.errors import BadInput


class Counting(io.BytesIO):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.taken = 0

    def read(self, size=-1):
        found = super().read(size)
        self.taken += len(found)
        return found


def office(parts: int = 0, extra: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w/>" + extra.decode())
        for n in range(parts):
            archive.writestr(f"word/media/p{n}.bin", b"")
    return buffer.getvalue()


def test_a_document_is_kept_in_a_file_of_its_own_and_read_back_whole():
    content = b"%PDF-1.7\n" + bytes(range(256)) * 9000  # over a chunk and over what stays in memory
    source = io.BytesIO(content)
    upload = check_file("Хат.pdf", source, 20 << 20)
    source.close()  # the form's file goes; the document stays
    assert (upload.name, upload.content_type, upload.size) == ("Хат.pdf", PDF, len(content))
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    assert not isinstance(upload.source, bytes), "not held in memory"
    assert upload.content == content and upload.content == content, "read again whole, as often as stored"
    assert upload.described() == check_upload("Хат.pdf", content, 20 << 20).described()


def test_a_file_over_the_limit_is_refused_unread():
    source = Counting(b"%PDF-1.7\n" + b"0" * (3 << 20))
    with pytest.raises(BadInput) as refused:
        check_file("big.pdf", source, 1 << 20)
    assert str(refused.value).startswith("big.pdf: 3.0 MB") and source.taken == 0


def test_a_zip_with_more_parts_than_a_docx_has_is_refused_unread():
    content = office(parts=MAX_PARTS)  # and the two of a DOCX: one over
    assert zip_extent(io.BytesIO(content), len(content))[0] == MAX_PARTS + 2
    source = Counting(content)
    with pytest.raises(BadInput) as refused:
        check_file("report.docx", source, 20 << 20)
    said = str(refused.value)
    assert said.startswith("report.docx: a ZIP of 10,002 parts") and "more than the 10,000 parts a DOCX or XLSX may have" in said
    assert source.taken < 70_000, "only the first bytes and the end record"
    with pytest.raises(TooManyParts):
        check_upload("report.docx", content, 20 << 20)  # the command line's way too


def test_a_zip_whose_table_of_contents_is_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(files, "MAX_DIRECTORY", 1000)
    with pytest.raises(TooManyParts, match="table of contents"):
        check_file("a.docx", io.BytesIO(office(parts=20)), 20 << 20)


def test_an_ordinary_docx_passes_and_a_broken_zip_is_not_a_document():
    upload = check_file("letter.docx", io.BytesIO(office(parts=50)), 20 << 20)
    assert upload.content_type == DOCX and sniff(office()) == DOCX
    for broken in (b"PK\x03\x04garbage", office()[:-10]):
        with pytest.raises(BadInput, match="not a PDF"):
            check_file("a.docx", io.BytesIO(broken), 20 << 20)


def test_empty_and_nameless_files_are_refused_as_before():
    with pytest.raises(BadInput, match="the file is empty"):
        check_file("empty.pdf", io.BytesIO(b""), 1 << 20)
    with pytest.raises(BadInput, match="needs a file name"):
        check_file("../", io.BytesIO(b"%PDF-"), 1 << 20)
    with pytest.raises(BadInput, match="the content is PNG, but the name says otherwise"):
        check_file("scan.pdf", io.BytesIO(b"\x89PNG\r\n\x1a\n...."), 1 << 20)
