"""Where the pages' work runs, so that no request starves another and `/healthz` always answers.

Three lanes of worker threads, each with its own limit, none sharing Starlette's default pool:

- `heavy`: building a page or checking uploaded documents (the dashboard's figures, its lists,
  `/my`, the review queue, ZIP inspection). At most as many at once as the machine has cores (two
  at least): the others wait on the event loop, holding no thread and no database connection.
  Python threads share one interpreter lock, so more of them at once would only slow every one,
  and the event loop with them.
- `light`: short reads every request makes before deciding what to do (the data's version).
- `probe`: the health check alone, so that it never queues behind pages.

`Flights` keeps results computed once per key: requests that ask for the same key while it is
being computed wait for that one computation (single flight), and the latest results are kept
(a small LRU), so fifty people opening the dashboard at once cost one computation. Keys carry
the data's version, so a change is seen by the next request.

Limiters and futures belong to one event loop: `Lanes` makes its limiters on first use in each
loop that serves an app (tests run several apps, each in a loop of its own).
"""

from __future__ import annotations

import asyncio
import functools
import os
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")

HEAVY_AT_ONCE = max(2, min(8, os.cpu_count() or 1))
LIGHT_AT_ONCE = 8
PROBE_AT_ONCE = 2


class Lanes:
    def __init__(self, heavy: int = HEAVY_AT_ONCE, light: int = LIGHT_AT_ONCE, probe: int = PROBE_AT_ONCE):
        self._sizes = {"heavy": heavy, "light": light, "probe": probe}
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, anyio.CapacityLimiter]] = \
            weakref.WeakKeyDictionary()

    def _limiter(self, lane: str) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiters = self._by_loop.get(loop)
        if limiters is None:
            limiters = self._by_loop[loop] = {name: anyio.CapacityLimiter(size) for name, size in self._sizes.items()}
        return limiters[lane]

    async def run(self, lane: str, function: Callable[..., T], *args, **kwargs) -> T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=self._limiter(lane))

    async def heavy(self, function: Callable[..., T], *args, **kwargs) -> T:
        return await self.run("heavy", function, *args, **kwargs)

    async def light(self, function: Callable[..., T], *args, **kwargs) -> T:
        return await self.run("light", function, *args, **kwargs)

    async def probe(self, function: Callable[..., T], *args, **kwargs) -> T:
        return await self.run("probe", function, *args, **kwargs)


LANES = Lanes()  # one per process: the cores are the process's, whichever app asks


class Flights:
    """Results by key, each computed once however many ask at once; the last `size` kept."""

    def __init__(self, size: int = 32):
        self.size = size
        self._done: OrderedDict[Hashable, object] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]  # type: ignore[return-value]
        running = self._running.get(key)
        if running is None or running.get_loop() is not asyncio.get_running_loop():
            running = self._running[key] = asyncio.ensure_future(compute())
            running.add_done_callback(functools.partial(self._finished, key))
        # Shielded: a client that goes away does not cancel the others' computation.
        return await asyncio.shield(running)

    def _finished(self, key: Hashable, future: asyncio.Future) -> None:
        if self._running.get(key) is future:
            del self._running[key]
        if future.cancelled() or future.exception() is not None:
            return  # not kept: the next request tries again (each waiter got the error)
        self._done[key] = future.result()
        self._done.move_to_end(key)
        while len(self._done) > self.size:
            self._done.popitem(last=False)

    def clear(self) -> None:
        self._done.clear()


class Coalesced:
    """A read made afresh for whoever asks, shared by those who ask while it waits to start.

    Every asker gets a value read after it asked (a change committed before the request is seen),
    yet however many ask at once, at most one read runs and one more waits: those who ask while a
    read runs share the next one. For the data's version, asked by every dashboard request."""

    def __init__(self) -> None:
        self._next: asyncio.Future | None = None
        self._running = False

    async def get(self, read: Callable[[], Awaitable[T]]) -> T:
        if self._next is None or self._next.get_loop() is not asyncio.get_running_loop():
            self._next = asyncio.get_running_loop().create_future()
            if not self._running:
                asyncio.ensure_future(self._run(read))
        return await asyncio.shield(self._next)

    async def _run(self, read: Callable[[], Awaitable[T]]) -> None:
        while self._next is not None:
            future, self._next = self._next, None
            self._running = True
            try:
                future.set_result(await read())
            except BaseException as error:  # noqa: BLE001 - each asker gets the read's error
                future.set_exception(error)
                if not isinstance(error, Exception):
                    raise
            finally:
                self._running = False
