"""SMTP delivery with aiosmtplib: a few connections, each reused for many messages (and, through
`session()`, for every batch of a tick). A message already written as bytes (`Outgoing`) is sent as
it is with `sendmail`; an EmailMessage is flattened by aiosmtplib's `send_message`.

Replies 4xx and connection trouble are transient (retried later with backoff); 5xx replies are
permanent and recorded with the server's answer, and so is a message the client cannot send at all
(an internationalised address to a server without SMTPUTF8, say).

Timeouts follow RFC 5321, 4.5.3.2: five minutes for the greeting and for each command, ten for the
reply to the end of the data, which a busy server may take long to give. Giving up sooner makes a
slow server's every email go out twice: it was accepted, but the client had stopped listening.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import aiosmtplib

from scheduler.transport.base import Delivery, Message, Outgoing, TransportError

CONCURRENCY = 8
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

    def session(self) -> SmtpSession:
        """Connections kept open for several calls of `deliver` (a whole tick); closed on leaving."""
        return SmtpSession(self)

    async def deliver(self, messages: Sequence[Message]) -> list[Delivery]:
        async with self.session() as connections:
            return await connections.deliver(messages)


class SmtpSession:
    """Up to `concurrency` connections, opened when first needed and kept for the session: each
    sends message after message from one queue, whatever call of `submit` or `deliver` put them
    there, so that a batch's last messages and the next batch's first go out side by side. A
    connection idle for a while is asked NOOP before its next message, and opened again if the
    server has closed it meanwhile, so that no message fails for an idle connection."""

    IDLE = 5.0  # seconds without a message after which a kept connection is checked first

    def __init__(self, transport: SmtpTransport):
        self.transport = transport
        self.queue: asyncio.Queue[tuple[Message, asyncio.Future] | None] = asyncio.Queue()
        self.workers: list[asyncio.Task] = []
        self._taken = asyncio.Event()  # set whenever a connection takes a message from the queue

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, *exc) -> None:
        for _ in self.workers:
            self.queue.put_nowait(None)
        await asyncio.gather(*self.workers, return_exceptions=True)
        self.workers = []

    def open(self, expected: int) -> None:
        """Connect ahead, as many connections as `expected` messages will use, while the caller
        writes them: the first is sent as soon as it is written rather than after a connection's
        greeting and EHLO."""
        while len(self.workers) < min(expected, self.transport.concurrency):
            self.workers.append(asyncio.ensure_future(self._worker(connect=True)))

    async def room(self) -> None:
        """Return once fewer messages wait than twice the connections: a caller writing messages
        while others are sent lets the sending go first, and writes the next ones while the
        connections wait for the server."""
        await asyncio.sleep(0)
        while self.queue.qsize() >= 2 * self.transport.concurrency:
            self._taken.clear()
            await self._taken.wait()

    def submit(self, message: Message) -> asyncio.Future:
        """Queue one message; the future is its Delivery."""
        if len(self.workers) < self.transport.concurrency:
            self.workers.append(asyncio.ensure_future(self._worker()))
        future = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((message, future))
        return future

    async def deliver(self, messages: Sequence[Message]) -> list[Delivery]:
        return list(await asyncio.gather(*(self.submit(m) for m in messages)))

    async def _worker(self, connect: bool = False) -> None:
        client: aiosmtplib.SMTP | None = None
        last = time.monotonic()
        try:
            if connect:  # a connection that fails here is tried again with the first message, and its error recorded
                client = self.transport._client()
                try:
                    await client.connect()
                except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
                    client = None
            while (item := await self.queue.get()) is not None:
                self._taken.set()
                message, future = item
                if client is not None and time.monotonic() - last > self.IDLE:
                    client = await _answering(client)
                client, delivery = await self._send(client, message)
                last = time.monotonic()
                if not future.done():
                    future.set_result(delivery)
        finally:
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
                    client.close()

    async def _send(self, client: aiosmtplib.SMTP | None, message: Message) -> tuple[aiosmtplib.SMTP | None, Delivery]:
        """Send one message (connecting first if need be): the client to go on with, and the outcome."""
        transport = self.transport
        host, port = transport.host, transport.port
        try:
            if client is None or not client.is_connected:
                client = transport._client()
                await client.connect()
            if isinstance(message, Outgoing):
                await client.sendmail(message.sender, list(message.recipients), message.data, timeout=transport.data_timeout)
            else:
                await client.send_message(message, timeout=transport.data_timeout)
            return client, Delivery(message)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            first = refused.recipients[0]
            return client, Delivery(message, TransportError(
                f"SMTP {host}:{port} refused {first.recipient}: {first.code} {first.message}",
                transient=400 <= first.code < 500, code=first.code))
        except aiosmtplib.SMTPResponseException as error:
            transient = 400 <= error.code < 500
            return (None if error.code == 421 else client), Delivery(message, TransportError(  # 421: the server is closing
                f"SMTP {host}:{port} answered {error.code} {error.message}", transient=transient, code=error.code))
        except aiosmtplib.SMTPNotSupported as error:
            return client, Delivery(message, TransportError(
                f"SMTP {host}:{port} cannot take this message: {error}", transient=False))
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as error:
            return None, Delivery(message, TransportError(
                f"SMTP {host}:{port}: {error.__class__.__name__}: {error}", transient=True))
        except Exception as error:  # noqa: BLE001 - a message that cannot be sent at all fails alone
            return client, Delivery(message, TransportError(
                f"cannot send: {error.__class__.__name__}: {error}", transient=False))


async def _answering(client: aiosmtplib.SMTP) -> aiosmtplib.SMTP | None:
    """A kept connection that still answers, or None."""
    if not client.is_connected:
        return None
    try:
        await client.noop()
        return client
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
        client.close()
        return None
