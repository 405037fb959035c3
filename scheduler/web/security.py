"""What every HTTP answer carries, and the brake on guessing the dashboard's password.

The headers: a Content-Security-Policy that lets a page load only this server's resources and
its own style blocks (by hash: the templates have no scripts and no style attributes), no framing,
no content sniffing, no Referer (feed URLs carry tokens), and `Cache-Control: no-store` wherever a
handler did not choose its own (the feeds keep theirs, for calendar clients).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheduler import templating

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


class SecurityHeaders:
    """Pure ASGI middleware (it neither buffers nor wraps the body): adds the headers to every response."""

    def __init__(self, app: ASGIApp, policy: str | None = None):
        self.app = app
        self.headers = [
            ("Content-Security-Policy", policy or content_security_policy()),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),  # only where the handler did not set its own
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginThrottle:
    """Failed logins per client address: after `limit` failures within `window` seconds the address
    is refused (429) for `window` seconds, without its credentials being checked at all.

    Successful logins are not counted. The sign-in page counts every request with one of its own
    (`what`, `counted`: its words in the log line). The table is bounded: past `max_addresses`, the longest
    untouched addresses are forgotten first. Behind a reverse proxy on this machine the address is
    the client's, from X-Forwarded-For (uvicorn trusts that header from 127.0.0.1)."""

    def __init__(self, limit: int = 10, window: float = 600.0, max_addresses: int = 10_000,
                 clock: Callable[[], float] = time.monotonic, what: str = "login", counted: str = "failed attempts"):
        self.limit, self.window, self.max_addresses, self._clock = limit, window, max_addresses, clock
        self.what, self.counted = what, counted  # for the log line: what is refused, after how many what
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._refused_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again; None when it may now."""
        with self._lock:
            until = self._refused_until.get(address)
            if until is None:
                return None
            left = until - self._clock()
            if left <= 0:
                del self._refused_until[address]
                return None
            return max(1, math.ceil(left))

    def failed(self, address: str) -> bool:
        """Count a failure; True when this one reached the limit (and the address is now refused)."""
        now = self._clock()
        with self._lock:
            recent = self._failures.pop(address, None) or deque()
            recent.append(now)
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) < self.limit:
                self._failures[address] = recent  # re-inserted last: the most recently touched
                while len(self._failures) > self.max_addresses:
                    self._failures.popitem(last=False)
                return False
            self._refused_until[address] = now + self.window
            while len(self._refused_until) > self.max_addresses:
                self._refused_until.pop(next(iter(self._refused_until)))
        # One line per refusal, never the credentials tried.
        log.warning("%s refused for %d s after %d %s within %d s from=%s",
                    self.what, self.window, self.limit, self.counted, self.window, address)
        return True
