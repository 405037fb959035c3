"""SMTP delivery with aiosmtplib: a few connections, each reused for many messages.

Replies 4xx and connection trouble are transient (retried later with backoff); 5xx replies are
permanent and recorded with the server's answer, and so is a message the client cannot send at all
(an internationalised address to a server without SMTPUTF8, say).

Timeouts follow RFC 5321, 4.5.3.2: five minutes for the greeting and for each command, ten for the
reply to the end of the data, which a busy server may take long to give. Giving up sooner makes a
slow server's every email go out twice: it was accepted, but the client had stopped listening.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from email.message import EmailMessage

import aiosmtplib

from scheduler.transport.base import Delivery, TransportError

CONCURRENCY = 4
COMMAND_TIMEOUT = 5 * 60  # RFC 5321 4.5.3.2: initial 220, MAIL, RCPT
DATA_TIMEOUT = 10 * 60  # RFC 5321 4.5.3.2.6: the reply to the end of the data


class SmtpTransport:
    name = "smtp"

    def __init__(self, host: str, port: int = 587, tls: str = "starttls", username: str | None = None,
                 password: str | None = None, concurrency: int = CONCURRENCY,
                 command_timeout: float = COMMAND_TIMEOUT, data_timeout: float = DATA_TIMEOUT):
        self.host, self.port, self.tls = host, port, tls
        self.username, self.password = username, password
        self.concurrency = concurrency
        self.command_timeout, self.data_timeout = command_timeout, data_timeout

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.tls == "tls",
            start_tls=True if self.tls == "starttls" else False,
            username=self.username,
            password=self.password,
            timeout=self.command_timeout,
        )

    async def deliver(self, messages: Sequence[EmailMessage]) -> list[Delivery]:
        results: list[Delivery | None] = [None] * len(messages)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(len(messages)):
            queue.put_nowait(index)

        async def worker() -> None:
            client: aiosmtplib.SMTP | None = None
            while not queue.empty():
                index = queue.get_nowait()
                message = messages[index]
                try:
                    if client is None or not client.is_connected:
                        client = self._client()
                        await client.connect()
                    await client.send_message(message, timeout=self.data_timeout)
                    results[index] = Delivery(message)
                except aiosmtplib.SMTPRecipientsRefused as refused:
                    first = refused.recipients[0]
                    results[index] = Delivery(message, TransportError(
                        f"SMTP {self.host}:{self.port} refused {first.recipient}: {first.code} {first.message}",
                        transient=400 <= first.code < 500, code=first.code))
                except aiosmtplib.SMTPResponseException as error:
                    transient = 400 <= error.code < 500
                    results[index] = Delivery(message, TransportError(
                        f"SMTP {self.host}:{self.port} answered {error.code} {error.message}", transient=transient, code=error.code))
                    if error.code == 421:  # the server is closing the connection
                        client = None
                except aiosmtplib.SMTPNotSupported as error:
                    results[index] = Delivery(message, TransportError(
                        f"SMTP {self.host}:{self.port} cannot take this message: {error}", transient=False))
                except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as error:
                    results[index] = Delivery(message, TransportError(
                        f"SMTP {self.host}:{self.port}: {error.__class__.__name__}: {error}", transient=True))
                    client = None
                except Exception as error:  # noqa: BLE001 - a message that cannot be sent at all fails alone
                    results[index] = Delivery(message, TransportError(
                        f"cannot send: {error.__class__.__name__}: {error}", transient=False))
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    pass

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(messages)) or 1)))
        return [r for r in results if r is not None]
