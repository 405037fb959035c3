"""An agency's people's pages: `/my` (what is owed, answering, asking for time) and the documents
of answers (`/files/<id>`)."""

from __future__ import annotations

from starlette.routing import Route

from scheduler.web.agency.files import download
from scheduler.web.agency.my import answer_post, extension_post, my

routes = [
    Route("/my", my, methods=["GET"]),
    Route("/my/answer", answer_post, methods=["POST"]),
    Route("/my/extension", extension_post, methods=["POST"]),
    Route("/files/{file_id}", download, methods=["GET"]),
]
