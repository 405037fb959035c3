"""Documents attached to an answer: what is accepted, checked on the content, never on the name alone.

PDF, DOCX, XLSX, PNG and JPEG only, recognised by their first bytes (and, for the Office formats,
by the parts inside the ZIP container); a name whose extension says otherwise is refused, and so are
Office documents that carry macros. Pure: the caller reads the bytes and gives the size limit.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass

from scheduler.errors import BadInput

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = "image/png"
JPEG = "image/jpeg"
KINDS = {PDF: ("PDF", (".pdf",)), DOCX: ("DOCX", (".docx",)), XLSX: ("XLSX", (".xlsx",)),
         PNG: ("PNG", (".png",)), JPEG: ("JPEG", (".jpg", ".jpeg"))}
NAME_LIMIT = 200


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    size: int
    sha256: str
    content: bytes

    def described(self) -> dict:
        return {"name": self.name, "content_type": self.content_type, "size": self.size, "sha256": self.sha256}


def sniff(content: bytes) -> str | None:
    """The content type of a document we accept, from its bytes; None for anything else."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
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


def check_upload(name: str, content: bytes, limit_bytes: int) -> Upload:
    """An accepted document, or BadInput saying why not (naming the file)."""
    shown = clean_name(name)
    if not shown:
        raise BadInput(f"{name!r}: a document needs a file name")
    if len(content) > limit_bytes:
        raise BadInput(f"{shown}: {len(content) / 2**20:.1f} MB is more than the limit of "
                       f"{limit_bytes / 2**20:g} MB (SCHEDULER_MAX_UPLOAD_MB)")
    if not content:
        raise BadInput(f"{shown}: the file is empty")
    kind = sniff(content)
    if kind is None:
        raise BadInput(f"{shown}: not a PDF, DOCX, XLSX, PNG or JPEG document (judged by its content; "
                       "Office files with macros are refused)")
    label, extensions = KINDS[kind]
    if not shown.lower().endswith(extensions):
        raise BadInput(f"{shown}: the content is {label}, but the name says otherwise; name it *{extensions[0]}")
    return Upload(shown, kind, len(content), hashlib.sha256(content).hexdigest(), content)
