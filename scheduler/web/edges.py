"""What the web side answers to a request it cannot serve as asked, and the order of the layers
that make every answer carry the security headers.

- `Refused`: raised by a handler or a form reader for input no handler should see (a NUL in a
  form's field), answered by the message page with its status, in the reader's language.
- `RefuseNul`: a NUL (`%00`) in the path or the query string is answered 400 before any handler
  reads it: PostgreSQL refuses NUL in text, so an id carrying one would fail as a database error
  (and on SQLite would be stored). Form fields are checked where the forms are read
  (`dashboard.read_small_form`, `agency.read_form`), since a document's bytes may hold NULs.
- `App`: Starlette whose outermost layer is `SecurityHeaders`, outside Starlette's own
  ServerErrorMiddleware (which Starlette puts first, before any middleware given to it): an
  unexpected error's 500 then carries the headers like every other answer. The 500 page says
  only that something went wrong (the traceback goes to the log, never to the browser).

The pages take the reader's language as the people's pages do (`?lang=`, the cookie,
Accept-Language, the plan's default), without a session: a request refused at the edge is never
looked up further.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from scheduler.web.security import SecurityHeaders

log = logging.getLogger("scheduler")


class Refused(Exception):
    """The request is answered by the message page: `status`, the words under `key` (web/words.py)."""

    def __init__(self, status: int, key: str):
        super().__init__(key)
        self.status, self.key = status, key


def nul_in_form(fields) -> bool:
    """Whether a parsed form (a dict of lists, as parse_qs gives, or Starlette's FormData) has a NUL
    in a field's name or text value (documents are not fields: their bytes are theirs)."""
    pairs = fields.multi_items() if hasattr(fields, "multi_items") else \
        ((name, value) for name, values in fields.items() for value in values)
    return any("\x00" in name or (isinstance(value, str) and "\x00" in value) for name, value in pairs)


def nul_in_address(scope: Scope) -> bool:
    """A NUL in the request's path (decoded) or its query string (once decoded, as it is read)."""
    query = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(query.replace(b"+", b" "))


Refuse = Callable[[Request, int, str], Awaitable[Response]]


class RefuseNul:
    """Pure ASGI middleware: a NUL in the path or the query string gets the message page, 400."""

    def __init__(self, app: ASGIApp, refuse: Refuse):
        self.app, self.refuse = app, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and nul_in_address(scope):
            response = await self.refuse(Request(scope, receive), 400, "nul")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def handlers(auth) -> tuple[Refuse, dict]:
    """The refusal page maker (for `RefuseNul`) and the app's exception handlers: `Refused`, and
    every unexpected error (the 500 page)."""

    async def refuse(request: Request, status: int, key: str) -> Response:
        if request.url.path.startswith("/api/"):  # the API answers with problem documents, never a page
            from scheduler.api.problems import refusal

            return refusal(request, status, key)
        return auth.message(request, status, key, auth.language(request, None))

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, Refused)
        return await refuse(request, error.status, error.key)

    async def server_error(request: Request, error: Exception) -> Response:
        # ServerErrorMiddleware logs nothing itself: it raises the error on after this answer,
        # and the server logs it with its traceback. The page says nothing of it.
        try:
            return auth.message(request, 500, "server_error", auth.language(request, None))
        except Exception:  # noqa: BLE001 - the page itself failed (no service, no templates): plain words
            log.exception("the error page could not be written")
            return PlainTextResponse("Internal Server Error\n", status_code=500)

    return refuse, {Refused: refused, Exception: server_error}


class App(Starlette):
    """Starlette with SecurityHeaders outside its error handler (see the module's docstring)."""

    def __init__(self, *args, policy: str | None = None, https: Callable[[], bool] | None = None, **kwargs):
        self._headers = {"policy": policy, "https": https}
        super().__init__(*args, **kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), **self._headers)
