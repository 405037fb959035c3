"""`/files/<id>`: an answer's document, to those who may read the answer."""

from __future__ import annotations

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from scheduler import bounds
from scheduler.app import pages
from scheduler.web.deps import auth_of


async def download(request: Request) -> Response:
    auth = auth_of(request)
    visitor = await auth.visitor(request)
    if isinstance(visitor, Response):
        return visitor
    # ASCII digits within the id column's range: a larger number names no document (and
    # PostgreSQL would refuse it as out of range for `integer`), nor does '²' or '1_0'.
    file_id = bounds.number(request.path_params["file_id"], 1)
    if file_id is None:
        return auth.refusal(request, 404, "no_document", visitor.language)
    found = await run_in_threadpool(pages.document, auth.current().engine, file_id)
    if found is None or not visitor.person.sees(found[1]):
        return auth.refusal(request, 404, "no_document", visitor.language)
    stored, _ = found
    # Always an attachment, with the type its content was checked to be (never HTML), and
    # nosniff (the app's headers): a browser saves it rather than render it in our origin.
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in stored.name)
    return Response(stored.content, media_type=stored.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.name)}",
        "X-Content-Type-Options": "nosniff"})
