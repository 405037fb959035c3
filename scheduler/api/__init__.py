"""The JSON API under `/api/v1/`: a Starlette Router mounted in the web app (scheduler/web/app.py).

Requests carry `Authorization: Bearer TOKEN` (`scheduler tokens add`); each token reads as a person
of its role does on the pages (scheduler/api/reads.py). Every error is an RFC 9457 problem document
(`application/problem+json`) with a stable `type`, never a traceback or an HTML page. The endpoints
are declared once (`ENDPOINTS`): the routes and the OpenAPI 3.1 document at `/api/v1/openapi.json`
are both made from those declarations and the pydantic models the endpoints return
(scheduler/api/models.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from starlette.routing import Mount, Route, Router

from scheduler.api import endpoints
from scheduler.api.describe import _declare
from scheduler.api.problems import PREFIX, not_found
from scheduler.api.runner import ApiState, wrap

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def routes(current: Callable, clock: Callable[[], dt.datetime]) -> list:
    """The API's routes, to be given to the web app: one Mount at /api/v1."""
    api = ApiState(current, clock)
    declared = _declare(endpoints)
    router = Router(routes=[Route(e.route, wrap(api, e), methods=METHODS, name=e.name) for e in declared],
                    default=not_found)
    mount = Mount(PREFIX, app=router)
    # Every address under the prefix is the API's, a newline (%0A) in it too: a problem document, never a page
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return [mount]
