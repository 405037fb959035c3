"""uvicorn's h11 protocol with a deadline for the request head and a cap on connections waiting for one.

uvicorn closes a connection that stays idle after a response (`timeout_keep_alive`), but waits
forever for the first request's head, or for the rest of one begun: a client that connects and
sends half a request line holds a file descriptor until it leaves. Enough of them, and the process
has no descriptor left, for /healthz, for the database or for SMTP. Here, a connection that has
not delivered a complete request head within `head_timeout` seconds is closed, and when more than
`max_waiting` connections are waiting for one, the longest waiting is closed first: a new client
is never turned away because stalled ones got there before it.

`EventLoop` is asyncio's own loop with one fault of its accept loop mended: when accept() finds no
file descriptor left (EMFILE), asyncio stops watching the listening socket and, a second later,
watches it again — once for every accept that failed in that round (up to uvicorn's backlog, 2048).
A stop within that second closes the socket first, and each of those late calls then failed on its
descriptor, -1 (`ValueError: Invalid file descriptor: -1`, a traceback per call in the log). Here a
socket closed in the meantime is left alone: there is nothing left to accept on.
"""

from __future__ import annotations

import asyncio
import resource
from collections import OrderedDict

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT = 10.0  # seconds for a request's head: a few hundred bytes, even over a poor mobile link


class EventLoop(asyncio.SelectorEventLoop):
    """The loop uvicorn runs (`uvicorn.Config(loop=LOOP)`): asyncio's, but a listening socket is
    watched again after running out of descriptors only while it is still open."""

    def _start_serving(self, protocol_factory, sock, *args, **kwargs):  # asyncio's own signature, passed on
        if sock.fileno() == -1:  # the server closed (a stop) while the retry after EMFILE waited
            return
        super()._start_serving(protocol_factory, sock, *args, **kwargs)


LOOP = f"{__name__}:EventLoop"  # for uvicorn.Config(loop=…), which takes an import string


def default_max_waiting() -> int:
    """A quarter of the process's descriptors, so that stalled clients can never take them all."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(8, min(1000, soft // 4))


def guarded_h11(head_timeout: float = HEAD_TIMEOUT, max_waiting: int | None = None) -> type[H11Protocol]:
    """A protocol class for uvicorn.Config(http=…); each server gets its own (it keeps its waiting list)."""
    cap = max_waiting if max_waiting is not None else default_max_waiting()
    waiting: OrderedDict[GuardedH11Protocol, None] = OrderedDict()  # oldest first

    class GuardedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._await_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_arrived()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # a request's head is in: the app has it now
                self._head_arrived()

        def on_response_complete(self) -> None:
            if not self.transport.is_closing():
                self._await_head()  # the next request on this connection gets the same deadline
            super().on_response_complete()

        def _await_head(self) -> None:
            self._head_arrived()
            self._head_timer = self.loop.call_later(head_timeout, self._head_overdue)
            waiting[self] = None
            while len(waiting) > cap:
                oldest, _ = waiting.popitem(last=False)
                oldest._close()

        def _head_arrived(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            waiting.pop(self, None)

        def _head_overdue(self) -> None:
            self._head_timer = None
            waiting.pop(self, None)
            if self.conn.their_state is h11.IDLE:
                self._close()

        def _close(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol
