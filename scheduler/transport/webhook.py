"""Posting a webhook message over HTTP, with short timeouts: the one place this program speaks to a
webhook receiver. The standard library's http.client (no further dependency): one connection per
endpoint and pass, reused for its messages. A response of any status is an answer (`Answer`); no
response — the connection refused or dropped, a timeout, a bad address — is a `WebhookError`."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from scheduler import __version__
from scheduler.errors import SchedulerError

TIMEOUT = 5.0  # seconds for connecting, and for each read or write: an attempt never hangs on a receiver
READ_AT_MOST = 64 * 1024  # of a response's body: read (so that the connection can be reused), not kept


class WebhookError(SchedulerError):
    """The receiver did not answer (refused, dropped, timed out, unknown host)."""

    def __init__(self, message: str, duration_ms: int):
        super().__init__(message)
        self.duration_ms = duration_ms


@dataclass(frozen=True)
class Answer:
    status: int
    duration_ms: int


class Client:
    """Posts to one endpoint's URL, keeping its connection open between messages. Redirects are not
    followed (a receiver names its own URL)."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self._secure = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._secure:
                self._connection = http.client.HTTPSConnection(self._host, self._port, timeout=TIMEOUT,
                                                               context=ssl.create_default_context())
            else:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT)
        return self._connection

    def post(self, headers: dict[str, str], body: str) -> Answer:
        started = time.monotonic()
        content = body.encode("utf-8")
        try:
            connection = self._connect()
            connection.request("POST", self._path, body=content,
                               headers={**headers, "user-agent": f"scheduler/{__version__} (webhooks)",
                                        "content-length": str(len(content))})
            response = connection.getresponse()
            response.read(READ_AT_MOST)
            if response.will_close or not response.isclosed():
                self.close()  # closed by the receiver, or a body longer than is read: a new connection next time
        except (OSError, http.client.HTTPException, socket.timeout, ssl.SSLError) as error:
            self.close()
            took = int((time.monotonic() - started) * 1000)
            raise WebhookError(f"{type(error).__name__}: {str(error) or 'no answer'}"[:500], took) from error
        return Answer(response.status, int((time.monotonic() - started) * 1000))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_) -> None:
        self.close()
