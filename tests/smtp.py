"""A real SMTP server on loopback for tests (aiosmtpd), whose answers a test can change."""

from __future__ import annotations

import asyncio
import email
import socket
from email import policy

from aiosmtpd.controller import Controller


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; `answer` makes it refuse with a given reply."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
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
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
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
