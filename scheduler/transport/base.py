"""What every transport promises, and the one error type it raises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from scheduler.errors import SchedulerError


class TransportError(SchedulerError):
    """A message was not delivered. `transient` errors (4xx, connection trouble) are worth retrying."""

    def __init__(self, message: str, *, transient: bool, code: int | None = None):
        super().__init__(message)
        self.transient = transient
        self.code = code


@dataclass(frozen=True)
class Outgoing:
    """A message already written as the bytes that go on the wire (CRLF line ends, 7-bit: every
    non-ASCII header encoded, every part base64 or quoted-printable), with its envelope. What a tick
    sends (scheduler/notify/wire.py); `message["Message-ID"]` reads as on an EmailMessage."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes
    message_id: str

    def __getitem__(self, name: str) -> str | None:
        return self.message_id if name.lower() == "message-id" else None


Message = EmailMessage | Outgoing


@dataclass(frozen=True)
class Delivery:
    """The outcome for one message: `error` is None when it was accepted."""

    message: Message
    error: TransportError | None = None


class Transport(Protocol):
    name: str

    async def deliver(self, messages: Sequence[Message]) -> list[Delivery]:
        """Deliver each message; never raises for one message's failure, reports it instead."""
        ...
