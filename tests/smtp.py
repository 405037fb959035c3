"""A real SMTP server on loopback for tests (aiosmtpd), whose answers a test can change."""

from __future__ import annotations

import asyncio
import email
import socket
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller


class Received:
    """An email as the server took it, read when a test looks at it: its headers alone when only
    they are asked for (`message["Message-ID"]`), the whole message for anything else. Parsing every
    email as it arrives would make the server, not the program under test, the slowest part of a
    2,000-email tick."""

    __slots__ = ("raw", "_headers", "_whole")

    def __init__(self, raw: bytes):
        self.raw, self._headers, self._whole = raw, None, None

    def whole(self) -> email.message.EmailMessage:
        if self._whole is None:
            self._whole = email.message_from_bytes(self.raw, policy=policy.default)
        return self._whole

    def _head(self) -> email.message.EmailMessage:
        if self._whole is not None:
            return self._whole
        if self._headers is None:
            self._headers = BytesParser(policy=policy.default).parsebytes(self.raw, headersonly=True)
        return self._headers

    def __getitem__(self, name):
        return self._head()[name]

    def get(self, name, failobj=None):
        return self._head().get(name, failobj)

    def get_all(self, name, failobj=None):
        return self._head().get_all(name, failobj)

    def keys(self):
        return self._head().keys()

    def values(self):
        return self._head().values()

    def items(self):
        return self._head().items()

    def __contains__(self, name) -> bool:
        return name in self._head()

    def __iter__(self):
        return iter(self._head())

    def __len__(self) -> int:
        return len(self._head())

    def __bytes__(self) -> bytes:
        return bytes(self.whole())

    def __str__(self) -> str:
        return str(self.whole())

    def __getattr__(self, name):
        return getattr(self.whole(), name)


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; `answer` makes it refuse with a given reply."""

    def __init__(self):
        self.messages: list[Received] = []  # each read as an EmailMessage when looked at
        self.answer: str | None = None
        self.refused = 0
        self.delay = 0.0  # seconds per message: makes deliveries overlap and crashes land mid-way
        self.slow_reply = 0.0  # seconds between keeping a message and saying so: a busy server's end-of-data

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.answer:
            self.refused += 1
            return self.answer
        self.messages.append(Received(envelope.content))
        if self.slow_reply:
            await asyncio.sleep(self.slow_reply)
        return "250 OK"

    def by_step(self, step: str):
        return [m for m in self.messages if m["X-Scheduler-Step"] == step]

    def to(self, address: str):
        return [m for m in self.messages if address in m["To"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self, smtputf8: bool = True):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = None
        self.smtputf8 = smtputf8  # False: a server that does not take internationalised addresses

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
