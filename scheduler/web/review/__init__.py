"""The secretariat's review pages, one module per page: the queue of new answers and extension
requests (`/review`), a body's paper backlog (`/review/paper`), the consolidated report, and each
occurrence's page (`/occurrences/<id>`) with the decisions the state allows."""

from __future__ import annotations

from starlette.routing import Route

from scheduler.web.review.backlog import backlog_page, backlog_post
from scheduler.web.review.consolidated import consolidated
from scheduler.web.review.occurrence import act, occurrence, paper
from scheduler.web.review.queue import accept_answers, close_history, queue

routes = [
    Route("/review", queue, methods=["GET"]),
    Route("/review/close", close_history, methods=["POST"]),
    Route("/review/accept", accept_answers, methods=["POST"]),
    Route("/review/paper", backlog_page, methods=["GET"]),
    Route("/review/paper", backlog_post, methods=["POST"]),
    Route("/reports/consolidated", consolidated, methods=["GET"]),
    Route("/occurrences/{occurrence_id:path}", occurrence, methods=["GET"]),
    Route("/occurrences/{occurrence_id:path}/act", act, methods=["POST"]),
    Route("/occurrences/{occurrence_id:path}/answer", paper, methods=["POST"]),
]
