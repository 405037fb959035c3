"""What every HTTP answer carries, and the brake on guessing the dashboard's password.

The headers: a Content-Security-Policy that lets a page load only this server's resources and
its own style blocks (by hash: the templates have no scripts and no style attributes), no framing,
no content sniffing, no Referer (feed URLs carry tokens), `Cache-Control: no-store` wherever a
handler did not choose its own (the feeds keep theirs, for calendar clients), and HSTS when the
public address is https.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheduler import templating
from scheduler.app import throttle
from scheduler.clocks import clock as wall_clock
from scheduler.store.db import StoreError

log = logging.getLogger("scheduler")

_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def style_hashes() -> list[str]:
    """CSP sources for the `<style>` blocks of the web templates, the shipped ones and a site's
    (static text, so their hashes are fixed)."""
    found = []
    folders = [templating.templates_dir() / "web"] + ([Path(templating.site_dir()) / "web"] if templating.site_dir() else [])
    for web in (f for f in folders if f.is_dir()):
        for template in sorted((t for t in web.iterdir() if t.name.endswith(".j2")), key=lambda t: t.name):
            for block in _STYLE.findall(template.read_text(encoding="utf-8")):
                if "{{" in block or "{%" in block:
                    raise ValueError(f"{template.name}: a <style> block with template code cannot be allowed by hash")
                found.append("'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'")
    return sorted(set(found))


def content_security_policy() -> str:
    return "; ".join([
        "default-src 'self'",
        "style-src 'self' " + " ".join(style_hashes()),
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


# HSTS for a year, sent whenever SCHEDULER_BASE_URL is https (behind a proxy that ends TLS the
# request itself comes in over http; a browser heeds the header only over https anyway). Without
# includeSubDomains: the scheduler may be served from the ministry's own host (enbek.gov.kz/
# scheduler), and the header would then bind every site under that name (*.enbek.gov.kz), some
# perhaps still served over http only; nor `preload`, a promise only the domain's owner can make.
STRICT_TRANSPORT = ("Strict-Transport-Security", "max-age=31536000")


class SecurityHeaders:
    """Pure ASGI middleware (it neither buffers nor wraps the body): adds the headers to every
    response. It wraps the whole application, the handler of unexpected errors included, so that a
    500 carries them too (web/edges.py). `https`: whether SCHEDULER_BASE_URL is https now (asked
    on every response: a reload may change it), for Strict-Transport-Security."""

    def __init__(self, app: ASGIApp, policy: str | None = None, https: Callable[[], bool] | None = None):
        self.app = app
        self.https = https
        self.headers = [
            ("Content-Security-Policy", policy or content_security_policy()),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),  # only where the handler did not set its own
        ]

    def _strict(self) -> bool:
        try:
            return self.https is not None and self.https()
        except Exception:  # noqa: BLE001 - no settings to read (a service that failed): the headers still go
            return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
                if self._strict():
                    headers[STRICT_TRANSPORT[0]] = STRICT_TRANSPORT[1]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginThrottle:
    """Attempts per client address — failed logins; on the sign-in page, every request (`what`,
    `counted`: its words in the log line) — and their brake: after `limit` attempts within `window`
    seconds, the address is refused (429) for `window` seconds from the attempt that reached the
    limit, without its credentials being checked at all (and uncounted). Successful logins are not
    counted.

    The attempts are kept in the database (app/throttle.py, table `throttle_attempt`), so every
    instance counts the same attempts and a restart forgets none; each throttle deletes its rows
    that no window reaches any more, at most once a minute. The address is the request's client: the
    peer's, or the one a proxy named in SCHEDULER_TRUSTED_PROXIES forwarded (X-Forwarded-For). Both
    methods query the database: call them from a worker thread (`run_in_threadpool`).

    An address found not refused is taken as such by this process for CLEAR_FOR seconds without
    asking the database again (a script sends its Basic credential with every request, each of which
    would otherwise cost a round trip), unless this process counts a failure of it
    meanwhile. So a refusal another instance makes is seen here within CLEAR_FOR seconds, or at the
    address's first failure here, whichever comes first: a guesser gains at most one try here."""

    PRUNE_EVERY = 60.0  # seconds between two deletions of a throttle's expired rows, per process
    CLEAR_FOR = 1.0  # seconds an address found not refused is taken as such without asking again
    CLEAR_KEPT = 10_000  # addresses so remembered at most

    def __init__(self, engine: Callable[[], Engine], purpose: str = "login", limit: int = 10, window: float = 600.0,
                 clock: Callable[[], dt.datetime] | None = None, what: str = "login", counted: str = "failed attempts"):
        """`engine`: the current context's (asked for at each use: a reload may change it);
        `purpose`: the throttle's name in the table; `clock`: now, aware (default: the real time,
        not the replayed clock of `run --clock`: throttling keeps real time)."""
        self._engine, self.purpose, self.limit, self.window = engine, purpose, limit, window
        self._clock = clock or wall_clock
        self.what, self.counted = what, counted  # for the log line: what is refused, after how many what
        self._span = dt.timedelta(seconds=window)
        self._pruned = -math.inf  # time.monotonic() of the last deletion
        self._clear: dict[str, float] = {}  # address: time.monotonic() until which it is taken as not refused
        self._failures = 0  # failures counted by this process: a read made meanwhile is not remembered
        self._lock = threading.Lock()  # over `_clear` and `_failures` together

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again; None when it may now."""
        if self._clear.get(address, -math.inf) > time.monotonic():
            return None
        now, failures = self._clock(), self._failures
        refused = throttle.refused_since(self._engine(), self.purpose, address, now - self._span)
        if refused is None:
            self._remember_clear(address, failures)
            return None
        left = (refused + self._span - now).total_seconds()
        return max(1, min(math.ceil(self.window), math.ceil(left)))

    def failed(self, address: str) -> bool:
        """Count an attempt; True when this one reached the limit (and the address is now refused)."""
        with self._lock:
            self._failures += 1
            self._clear.pop(address, None)
        now, engine = self._clock(), self._engine()
        count = throttle.record(engine, self.purpose, address, now, now - self._span, self.limit)
        if time.monotonic() - self._pruned >= self.PRUNE_EVERY:
            self._pruned = time.monotonic()
            try:
                throttle.prune(engine, self.purpose, now - self._span)
            except StoreError as error:  # the next prune deletes them; the count never reads them
                log.warning("%s throttle: expired attempts not deleted: %s", self.what, error)
        if count != self.limit:
            return False
        # One line per refusal, never the credentials tried.
        log.warning("%s refused for %d s after %d %s within %d s from=%s",
                    self.what, self.window, self.limit, self.counted, self.window, address)
        return True

    def _remember_clear(self, address: str, failures: int) -> None:
        """Remember a read that found `address` not refused, made when `failures` had been counted:
        not if one was counted since (the read may have missed it)."""
        with self._lock:
            if failures != self._failures:
                return
            moment = time.monotonic()
            if len(self._clear) >= self.CLEAR_KEPT:  # many addresses: the lapsed forgotten, or all
                self._clear = {a: until for a, until in self._clear.items() if until > moment}
                if len(self._clear) >= self.CLEAR_KEPT:
                    self._clear = {}
            self._clear[address] = moment + self.CLEAR_FOR
