"""Documents attached to an answer: what is accepted, checked on the content, never on the name alone.

PDF, DOCX, XLSX, PNG and JPEG only, recognised by their first bytes (and, for the Office formats,
by the parts inside the ZIP container); a name whose extension says otherwise is refused, and so are
Office documents that carry macros. The caller gives the size limit, and the document as bytes
(`check_upload`) or as a file (`check_file`: an upload spooled to disk, whose size is taken without
reading it and whose bytes are hashed and kept a chunk at a time, never whole in memory).

A ZIP's table of contents is judged from its end record before it is read: more than `MAX_PARTS`
parts, or a table larger than `MAX_DIRECTORY` bytes, is refused at once (a DOCX or XLSX holds tens
or hundreds of parts; reading the names of a quarter of a million takes seconds of a core).
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import IO

from scheduler.errors import BadInput

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = "image/png"
JPEG = "image/jpeg"
KINDS = {PDF: ("PDF", (".pdf",)), DOCX: ("DOCX", (".docx",)), XLSX: ("XLSX", (".xlsx",)),
         PNG: ("PNG", (".png",)), JPEG: ("JPEG", (".jpg", ".jpeg"))}
NAME_LIMIT = 200
MAX_PARTS = 10_000  # parts of a ZIP (DOCX, XLSX) whose names are read
MAX_DIRECTORY = 4 << 20  # bytes of a ZIP's table of contents
CHUNK = 1 << 20  # bytes read at a time from an uploaded file
IN_MEMORY = 1 << 20  # a kept document larger than this waits on disk


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    size: int
    sha256: str
    source: bytes | IO[bytes] = field(repr=False, compare=False)  # the bytes, or a temporary file holding them

    @property
    def content(self) -> bytes:
        """The document's bytes (read from its temporary file when it has one: one document at a time)."""
        if isinstance(self.source, bytes):
            return self.source
        self.source.seek(0)
        return self.source.read()

    def described(self) -> dict:
        return {"name": self.name, "content_type": self.content_type, "size": self.size, "sha256": self.sha256}


class TooManyParts(BadInput):
    """A ZIP whose table of contents is too large to read."""


def sniff(content: bytes) -> str | None:
    """The content type of a document we accept, from its bytes; None for anything else
    (TooManyParts for a ZIP too large to look into)."""
    return sniff_file(io.BytesIO(content), len(content))


def zip_extent(handle: IO[bytes], size: int) -> tuple[int, int] | None:
    """(parts, bytes of the table of contents) that a ZIP's end record declares (ZIP64's too);
    None when no end record is found."""
    tail = min(size, 22 + 0xFFFF + 20)
    handle.seek(size - tail)
    data = handle.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or len(data) - at < 22:
        return None
    parts = int.from_bytes(data[at + 10:at + 12], "little")
    directory = int.from_bytes(data[at + 12:at + 16], "little")
    if at >= 20 and data[at - 20:at - 16] == b"PK\x06\x07":  # the ZIP64 locator, then its end record
        handle.seek(min(int.from_bytes(data[at - 12:at - 4], "little"), size))
        record = handle.read(56)
        if len(record) == 56 and record[:4] == b"PK\x06\x06":
            parts = max(parts, int.from_bytes(record[32:40], "little"))
            directory = max(directory, int.from_bytes(record[40:48], "little"))
    return parts, directory


def sniff_file(handle: IO[bytes], size: int) -> str | None:
    """As `sniff`, for a document in a file of `size` bytes: its first bytes, and for a ZIP its
    table of contents (after its extent is checked: TooManyParts)."""
    handle.seek(0)
    head = handle.read(8)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        extent = zip_extent(handle, size)
        if extent is None:
            return None
        parts, directory = extent
        if parts > MAX_PARTS or directory > MAX_DIRECTORY:
            raise TooManyParts(f"a ZIP of {parts:,} parts ({directory / 2**20:.1f} MB of table of contents): more "
                               f"than the {MAX_PARTS:,} parts a DOCX or XLSX may have; refused without reading them")
        try:
            handle.seek(0)
            names = set(zipfile.ZipFile(handle).namelist())
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            return None
        if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
            return None
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    return None


def clean_name(name: str) -> str:
    """The file's own name, without folders or control characters, at most NAME_LIMIT characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    if len(base) > NAME_LIMIT:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: NAME_LIMIT - len(ext) - 1] + dot + ext) if dot and len(ext) <= 8 else base[:NAME_LIMIT]
    return base


class TooLarge(BadInput):
    """A document over the size limit: its name, its whole size and the limit, in bytes (so that a
    page can say it in its own language: web/agency.py)."""

    def __init__(self, name: str, size: int, limit: int):
        self.name, self.size, self.limit = name, size, limit
        super().__init__(f"{too_large(name, size, limit)}, set by SCHEDULER_MAX_UPLOAD_MB")


def too_large(name: str, size: int, limit: int) -> str:
    """Both sizes exactly: in MB, and in bytes (grouped by spaces), since a file a byte over a 20 MB
    limit is "20.0 MB" too: "a.pdf: 21.0 MB (22 020 096 bytes) is more than the limit, 20 MB (20 971 520 bytes)"."""
    def grouped(value: int) -> str:
        return f"{value:,}".replace(",", " ")

    limit_mb = f"{limit >> 20}" if limit % 2**20 == 0 else f"{limit / 2**20:.1f}"
    return (f"{name}: {size / 2**20:.1f} MB ({grouped(size)} bytes) is more than the limit, "
            f"{limit_mb} MB ({grouped(limit)} bytes)")


def check_upload(name: str, content: bytes, limit_bytes: int, size: int | None = None) -> Upload:
    """An accepted document, or BadInput saying why not (naming the file). `size`: the file's whole
    size when `content` was read only up to the limit and a byte (as a page reads an upload)."""
    shown = clean_name(name)
    if not shown:
        raise BadInput(f"{name!r}: a document needs a file name").worded("no_file_name")
    if len(content) > limit_bytes:
        raise TooLarge(shown, max(size or 0, len(content)), limit_bytes)
    if not content:
        raise BadInput(f"{shown}: the file is empty").worded("file_empty", name=shown)
    kind = _sniffed(shown, io.BytesIO(content), len(content))
    if kind is None:
        raise BadInput(f"{shown}: not a PDF, DOCX, XLSX, PNG or JPEG document (judged by its content; "
                       "Office files with macros are refused)").worded("not_a_document", name=shown)
    label, extensions = KINDS[kind]
    if not shown.lower().endswith(extensions):
        raise BadInput(f"{shown}: the content is {label}, but the name says otherwise; name it *{extensions[0]}"
                       ).worded("misnamed", name=shown, kind=label, extension=extensions[0])
    return Upload(shown, kind, len(content), hashlib.sha256(content).hexdigest(), content)


def _sniffed(shown: str, handle: IO[bytes], size: int) -> str | None:
    try:
        return sniff_file(handle, size)
    except TooManyParts as refused:
        raise TooManyParts(f"{shown}: {refused}").worded("too_many_parts", name=shown) from None


def check_file(name: str, handle: IO[bytes], limit_bytes: int) -> Upload:
    """As `check_upload`, for a document in a file (an upload spooled to disk): its size taken
    without reading it, so nothing is read past the limit; its content judged from its first bytes
    (and a ZIP's capped table of contents); its bytes hashed and copied a chunk at a time into a
    temporary file of the Upload's own, so that the caller may close its file. Blocking: run it
    off the event loop (web/agency.py)."""
    shown = clean_name(name)
    if not shown:
        raise BadInput(f"{name!r}: a document needs a file name").worded("no_file_name")
    size = handle.seek(0, io.SEEK_END)
    if size > limit_bytes:
        raise TooLarge(shown, size, limit_bytes)
    if not size:
        raise BadInput(f"{shown}: the file is empty").worded("file_empty", name=shown)
    kind = _sniffed(shown, handle, size)
    if kind is None:
        raise BadInput(f"{shown}: not a PDF, DOCX, XLSX, PNG or JPEG document (judged by its content; "
                       "Office files with macros are refused)").worded("not_a_document", name=shown)
    label, extensions = KINDS[kind]
    if not shown.lower().endswith(extensions):
        raise BadInput(f"{shown}: the content is {label}, but the name says otherwise; name it *{extensions[0]}"
                       ).worded("misnamed", name=shown, kind=label, extension=extensions[0])
    digest, kept = hashlib.sha256(), tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
    handle.seek(0)
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        kept.write(chunk)
    return Upload(shown, kind, size, digest.hexdigest(), kept)
