"""What every page's endpoint reads of the application it is served by: the sign-in and page
helpers (`Auth`) and the dashboard's Basic-auth and form-token guard, set on `app.state` by
`create_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from scheduler.web.auth import Auth
    from scheduler.web.guard import Guard


def auth_of(request: Request) -> Auth:
    return request.app.state.auth


def guard_of(request: Request) -> Guard:
    return request.app.state.guard
