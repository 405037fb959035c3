"""What guards the admin's HTTP Basic credential and the pages' forms. An address that keeps
guessing the credential wrong is refused for a while (429). A form carries an HMAC token bound to
what it acts on, under a key derived from the deployment's secret key file (so a form rendered by
one instance is good on another, and after a restart), and a cross-site Origin is refused: a
browser that remembers the Basic credential cannot be made to post by another site. Behind a
reverse proxy the browser's Origin is the public one, SCHEDULER_BASE_URL. Small form bodies are
read within a size and a time limit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from scheduler.web.security import LoginThrottle

FORM_KEY_LABEL = b"scheduler dashboard form tokens v1"


FORM_LIMIT = 64 * 1024  # bytes: a token and a note of 500 characters need far less


FORM_TIMEOUT = 30.0  # seconds for a form's body to arrive: a client that stalls does not hold a task for ever


class Guard:
    """Checks the Basic credential (throttled per client address) and makes and checks form tokens.

    `secret_key` is the deployment's key (SCHEDULER_SECRET_KEY_FILE); the form key is an HMAC of
    it under a fixed label, so it is the same in every instance and across restarts, and tells
    nothing about the key that derives contacts' feed links. Without it (tests), a key per process."""

    def __init__(self, credential: tuple[str, str] | None, secret_key: bytes | None, throttle: LoginThrottle):
        self.credential = credential
        self._key = hmac.new(secret_key, FORM_KEY_LABEL, hashlib.sha256).digest() if secret_key else secrets.token_bytes(32)
        self.throttle = throttle  # kept in the database: shared by every instance, kept over a restart

    async def allows(self, request: Request) -> bool:
        return await self.refusal(request) is None

    async def refusal(self, request: Request) -> Response | None:
        """None when the request carries the admin credential; otherwise the answer to give it."""
        if self.credential is None:
            return Response("the dashboard is off: set SCHEDULER_ADMIN_PASSWORD\n", status_code=404)
        address = request.client.host if request.client else "unknown"
        wait = await run_in_threadpool(self.throttle.retry_after, address)
        if wait is None:
            given = basic_credential(request)
            if given is None:
                return challenge()
            want_user, want_password = self.credential
            same_user = hmac.compare_digest(given[0].encode(), want_user.encode())
            same_password = hmac.compare_digest(given[1].encode(), want_password.encode())
            if same_user and same_password:
                return None
            await run_in_threadpool(self.throttle.failed, address)  # the limit's last failure gets its 401; the next, 429
            return challenge()
        return Response("too many failed logins from this address; try again later\n", status_code=429,
                        headers={"Retry-After": str(wait)})

    def token(self, purpose: str, bound: str = "") -> str:
        """A form's token: for `purpose` (an occurrence id, an action on it), bound to a session
        when one is given (the personal pages), else to the admin's credential alone."""
        message = f"{bound}\0{purpose}" if bound else purpose
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, purpose: str, token: str, bound: str = "") -> bool:
        return hmac.compare_digest(self.token(purpose, bound), token)


def basic_credential(request: Request) -> tuple[str, str] | None:
    """(user, password) from an Authorization: Basic header; None when there is none.

    A Basic header that does not decode counts as a wrong credential: it is a try like any other."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    return user, password


async def read_small_form(request: Request) -> dict[str, list[str]] | Response:
    """The posted form, or the answer to give when it is too large, too slow or never came."""
    body = bytearray()
    try:
        async with asyncio.timeout(FORM_TIMEOUT):
            async for chunk in request.stream():
                body += chunk
                if len(body) > FORM_LIMIT:
                    return Response("the form is too large\n", status_code=413, headers={"Connection": "close"})
    except TimeoutError:
        return Response("the form did not arrive in time\n", status_code=408, headers={"Connection": "close"})
    except ClientDisconnect:
        return Response(status_code=400)
    form = parse_qs(body.decode("utf-8", "replace"))
    from scheduler.web.edges import Refused, nul_in_form

    if nul_in_form(form):  # PostgreSQL keeps no NUL in text: the reader's page says so, 400
        raise Refused(400, "nul")
    return form


def challenge() -> Response:
    return Response("authentication required\n", status_code=401, headers={"WWW-Authenticate": 'Basic realm="scheduler"'})


def same_origin(request: Request, public_base_url: str) -> bool:
    """No Origin (a script, not a browser), or the request's own host, or the public address that a
    reverse proxy in front serves (its Host differs from the browser's)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    given = urlsplit(origin)
    public = urlsplit(public_base_url)
    if given.netloc and given.netloc == request.headers.get("host"):
        return True
    return bool(given.netloc) and (given.scheme.lower(), given.netloc.lower()) == (public.scheme.lower(), public.netloc.lower())
