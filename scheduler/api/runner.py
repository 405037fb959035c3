"""How an API request is run: the per-minute limits, the bearer token checked against the stored
hashes and read as a person of its role, the query and body checked, the endpoint called, and every
refusal or fault answered as a problem document."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import scheduler.api.models as models
import scheduler.api.reads as reads
from scheduler.api.problems import ApiError, errors_of, etag, problem, read_body
from scheduler.store.db import StoreError

log = logging.getLogger("scheduler")

# Requests allowed in a minute (per instance: each instance counts its own): per token, per client
# address, and requests with a wrong token per address (which a guesser makes).
LIMITS = {"token": 600, "address": 1200, "bad-token": 30}
WINDOW = 60.0  # seconds


class Limiter:
    """A sliding window of the last minute's requests per key, in memory (the event loop's thread
    alone uses it); at most `keys` keys, the least recently seen forgotten first."""

    def __init__(self, keys: int = 10_000):
        from collections import OrderedDict

        self.seen: OrderedDict[tuple, list[float]] = OrderedDict()
        self.keys = keys

    def hit(self, key: tuple, limit: int, now: float | None = None) -> float | None:
        """Count a request; None when it is allowed, else the seconds until one would be."""
        import time

        now = time.monotonic() if now is None else now
        times = [t for t in self.seen.pop(key, ()) if t > now - WINDOW]
        self.seen[key] = times
        if len(self.seen) > self.keys:
            self.seen.popitem(last=False)
        if len(times) >= limit:
            return max(1.0, times[0] + WINDOW - now)
        times.append(now)
        return None

    def over(self, key: tuple, limit: int, now: float | None = None) -> float | None:
        """Whether `key` is at its limit already (counting nothing)."""
        import time

        now = time.monotonic() if now is None else now
        times = [t for t in self.seen.get(key, ()) if t > now - WINDOW]
        return max(1.0, times[0] + WINDOW - now) if len(times) >= limit else None


@dataclass
class ApiState:
    """What the API's endpoints work with: the use cases' context and the clock (asked for at each
    request: a reload may change the context), and this instance's limits."""

    current: Callable
    clock: Callable[[], dt.datetime]
    limiter: Limiter = field(default_factory=Limiter)



@contextlib.contextmanager
def refusals():
    """The use cases' refusals as problem documents."""
    from scheduler.errors import BadInput, Conflict, IllegalTransition, NotPermitted, UnknownOccurrence

    try:
        yield
    except UnknownOccurrence:
        raise ApiError("not-found", "no such occurrence (or not for this token)") from None
    except Conflict as error:
        raise ApiError("precondition-failed", str(error)) from None
    except NotPermitted as error:
        raise ApiError("forbidden", str(error)) from None
    except IllegalTransition as error:
        raise ApiError("illegal-transition", str(error)) from None
    except BadInput as error:
        raise ApiError("refused", str(error)) from None


async def read_form(api: ApiState, request: Request):
    """A multipart (or urlencoded) form read as the pages read it (`forms.read_form`: its size
    limits, its deadline, NUL refused); ApiError otherwise."""
    from scheduler.web.agency.forms import read_form as read_page_form
    from scheduler.web.edges import Refused

    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise ApiError("unsupported-media-type", f"Content-Type {kind or 'none'}: send multipart/form-data")
    try:
        form = await read_page_form(request, api.current().settings.max_upload_mb << 20)
    except Refused:
        raise ApiError("invalid-body", "a NUL (code 0) cannot be stored in a field: remove it and try again") from None
    if isinstance(form, Response):
        if form.status_code == 413:
            raise ApiError("payload-too-large", "the form is larger than its documents may be")
        raise ApiError("invalid-body", bytes(form.body).decode(errors="replace").strip() or "the form did not arrive")
    return form


def person(api: ApiState, request: Request):
    """The person the request's token acts as; ApiError when it carries no live token."""
    from scheduler.app import tokens
    from scheduler.app.people import Scope

    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthorized", "send Authorization: Bearer TOKEN (`scheduler tokens add`)", headers=challenge)
    ctx = api.current()
    found = tokens.authenticate(ctx.engine, token.strip(), api.clock())
    if found is None:
        raise ApiError("unauthorized", "the token is unknown, altered or revoked",
                       headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
    return reads.person_of(found, Scope.of_plan(ctx.plan, ctx.timing.local_day(api.clock())))


def too_many(request: Request, wait: float, what: str) -> Response:
    return problem(request, "too-many-requests", f"{what}: at most so many requests a minute; retry in "
                   f"{wait:.0f} s", headers={"Retry-After": str(int(wait + 0.999))})

async def authenticated(api: ApiState, request: Request, address: str):
    from starlette.concurrency import run_in_threadpool

    if (wait := api.limiter.over(("bad-token", address), LIMITS["bad-token"])) is not None:
        raise ApiError("too-many-requests", f"too many requests with a wrong token from {address}; retry in "
                                            f"{wait:.0f} s", headers={"Retry-After": str(int(wait + 0.999))})
    try:
        return await run_in_threadpool(person, api, request)
    except ApiError:
        api.limiter.hit(("bad-token", address), LIMITS["bad-token"])
        raise

def wrap(api: ApiState, endpoint):
    async def handle(request: Request) -> Response:
        pass

        address = request.client.host if request.client else "-"
        if (wait := api.limiter.hit(("address", address), LIMITS["address"])) is not None:
            return too_many(request, wait, f"requests from {address}")
        if request.method not in endpoint.allowed:
            return problem(request, "method-not-allowed", f"{request.method} is not allowed on {request.url.path}",
                           headers={"Allow": ", ".join(endpoint.allowed)})
        try:
            who = None if endpoint.public else await authenticated(api, request, address)
            if who is not None and (wait := api.limiter.hit(("token", who.email), LIMITS["token"])) is not None:
                return too_many(request, wait, f"requests with the token {who.name}")
            if endpoint.body is not None:
                request.state.body = await read_body(request, endpoint.body)
            if endpoint.form is not None:
                request.state.form = await read_form(api, request)
            query = None
            if endpoint.query is not None:
                params = request.query_params
                duplicated = sorted({k for k in params.keys() if len(params.getlist(k)) > 1})
                if duplicated:
                    raise ApiError("invalid-parameter", f"given more than once: {', '.join(duplicated)}")
                try:
                    query = endpoint.query.model_validate(dict(params))
                except ValidationError as error:
                    raise ApiError("invalid-parameter", "see `errors`", errors_of(error)) from None
            result = await endpoint.handler(api, request, who, query)
        except ApiError as error:
            return problem(request, error.kind, error.detail, error.errors, error.headers)
        except StoreError as error:
            log.warning("API %s: %s", request.url.path, error)
            return problem(request, "unavailable", "the database did not answer; try again later",
                           headers={"Retry-After": "5"})
        except Exception:  # noqa: BLE001 - logged with its traceback; the client gets a problem document
            log.exception("API %s failed", request.url.path)
            return problem(request, "internal")
        if result is None:
            return problem(request, "not-found", f"nothing at {request.url.path} (or not for this token)")
        version = getattr(result, "version", None) if isinstance(result, models.OccurrenceDetail) else None
        return JSONResponse(result.model_dump(mode="json"), headers={
            "Cache-Control": "no-store", **({"ETag": etag(version)} if version is not None else {})})

    return handle
