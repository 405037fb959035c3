"""An email of ours written straight to the bytes that go on the wire, as `email.policy.SMTP` writes
the EmailMessage that `compose.envelope` and `compose.mime_message` build: the same headers in the same
order, folded and encoded by the standard library's own header classes (non-ASCII as RFC 2047
encoded words; a CR or LF in a value refused), the same MIME tree (multipart/mixed of a
multipart/alternative — text and HTML — and the .ics attachment).

What it saves is the `email` package's object model: parsing every header back into objects when the
message is built, and again when it is flattened. Header lines that repeat (From, Reply-To, Date, a
subject, a recipient's To) are folded once and kept. The parts differ from the EmailMessage's in one
respect only, their transfer encoding: a part that is not plain ASCII in short lines is always base64
(the `email` package would choose 8bit or quoted-printable for some), so the bytes are 7-bit and go
to any server, 8BITMIME or not. What a reader sees, once decoded, is the same.

A message this module cannot write the same way — an address that is not ASCII, which needs an
SMTPUTF8 header — is left to the EmailMessage path (`writable` says which).
"""

from __future__ import annotations

import binascii
import random
import re
import sys
from email.headerregistry import Address
from email.policy import SMTP
from functools import lru_cache

from scheduler.transport.base import Outgoing

_CRLF = b"\r\n"
_WIDTH = len(repr(sys.maxsize - 1))  # as email.generator makes its boundaries
_LINE = 78  # the default policy's max_line_length: longer lines are not sent as they are
_B64_LINE = _LINE // 4 * 3  # bytes per base64 line (76 characters), as email.contentmanager


def writable(*addresses: str | None) -> bool:
    """Whether these addresses (recipient, sender, reply-to) can go in ASCII headers."""
    return all(a is None or a.isascii() for a in addresses)


def header(name: str, value) -> bytes:
    """One header line as the SMTP policy writes it: parsed by its header class (a value with CR or
    LF is refused with ValueError, as `message[name] = value` refuses it), folded, encoded."""
    name, stored = SMTP.header_store_parse(name, value)
    return SMTP.fold_binary(name, stored)


@lru_cache(maxsize=8192)
def line(name: str, value: str) -> bytes:
    """`header` for a value that repeats from email to email (Date, a subject, the steps)."""
    return header(name, value)


@lru_cache(maxsize=65536)
def address(name: str, display_name: str, addr_spec: str) -> bytes:
    """From, To or Reply-To with a display name; kept per person."""
    return header(name, Address(display_name=display_name, addr_spec=addr_spec))


@lru_cache(maxsize=4096)
def raw(name: str, value: str) -> bytes:
    """A header set as it is (`set_raw`: an encoded subject), folded only if too long."""
    if "\r" in value or "\n" in value.replace("\n ", "").replace("\n\t", ""):
        raise ValueError("Header values may not contain linefeed or carriage return characters")
    return SMTP.fold_binary(name, value)


_PLAIN_ID = re.compile(r"<[A-Za-z0-9._-]+@[A-Za-z0-9.-]+>")


def message_id(value: str) -> bytes:
    """The Message-ID line; one of ours (`<hex@domain>`, short) is written as it is, as the policy would."""
    if len(value) <= _LINE - len("Message-ID: ") and _PLAIN_ID.fullmatch(value):
        return b"Message-ID: " + value.encode("ascii") + _CRLF
    return header("Message-ID", value)


def _boundary(*parts: bytes) -> bytes:
    while True:
        boundary = b"=" * 15 + b"%0*d" % (_WIDTH, random.randrange(sys.maxsize)) + b"=="
        if not any(boundary in part for part in parts):
            return boundary


def encode_text(text: str) -> tuple[bytes, bytes]:
    """(Content-Transfer-Encoding, body with CRLF line ends) of a text part in UTF-8: 7bit for
    ASCII in lines of up to 78 characters, else base64 of the lines ended with LF."""
    data = text.encode("utf-8")
    if data.isascii():
        lines = data.splitlines()
        if max(map(len, lines), default=0) <= _LINE:
            return b"7bit", _CRLF.join(lines) + _CRLF
    if b"\r" in data or not data.endswith(b"\n"):
        data = b"\n".join(data.splitlines()) + b"\n"
    return b"base64", base64_lines(data)


def base64_lines(data: bytes) -> bytes:
    """Base64 in lines of 76 characters, each ended with CRLF (as the `email` package writes it)."""
    encoded = binascii.b2a_base64(data, newline=False)
    width = _B64_LINE // 3 * 4
    return b"\r\n".join([encoded[i:i + width] for i in range(0, len(encoded), width)]) + _CRLF if encoded else b""


def attachment_part(ics: bytes, filename: str = "deadlines.ics") -> bytes:
    """The .ics attachment part, headers and body, as `add_attachment(…, params={"charset": "utf-8"})`
    makes it; the same for every recipient of the same deadlines, so made once for them."""
    return (b"Content-Transfer-Encoding: base64\r\n"
            + header("Content-Disposition", f'attachment; filename="{filename}"')
            + b'Content-Type: text/calendar; charset="utf-8"\r\nMIME-Version: 1.0\r\n\r\n'
            + base64_lines(ics))


def message(*, sender: str, recipient: str, headers: list[bytes], text: str, html: str,
            attachment: bytes | None, message_id: str) -> Outgoing:
    """The whole email: `headers` the top-level lines (From … X-Scheduler-Occurrences, in order,
    MIME-Version among them), then the parts."""
    text_cte, text_body = encode_text(text)
    html_cte, html_body = encode_text(html)
    inner = _boundary(text_body, html_body)
    # The parts, in order, joined once (each piece copied once, not once per level of the tree).
    alternative = [b"--", inner, b'\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: ', text_cte,
                   b"\r\n\r\n", text_body, b"\r\n--", inner, b'\r\nContent-Type: text/html; charset="utf-8"\r\n'
                   b"Content-Transfer-Encoding: ", html_cte, b"\r\nMIME-Version: 1.0\r\n\r\n", html_body,
                   b"\r\n--", inner, b"--\r\n"]
    if attachment is None:
        pieces = [*headers, b'Content-Type: multipart/alternative;\r\n boundary="', inner, b'"\r\n\r\n', *alternative]
    else:
        outer = inner
        while outer == inner:
            outer = _boundary(text_body, html_body, attachment)
        pieces = [*headers, b'Content-Type: multipart/mixed; boundary="', outer, b'"\r\n\r\n--', outer,
                  b'\r\nContent-Type: multipart/alternative;\r\n boundary="', inner, b'"\r\n\r\n', *alternative,
                  b"\r\n--", outer, _CRLF, attachment, b"\r\n--", outer, b"--\r\n"]
    data = b"".join(pieces)
    return Outgoing(sender, (recipient,), data, message_id)
