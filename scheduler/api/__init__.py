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
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router

from scheduler.api import models, reads
from scheduler.store.db import StoreError

log = logging.getLogger("scheduler")

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]



def N_(message: str) -> str:  # marks a message for extraction (the `web` catalog); translated where it is sent
    return message


# The kinds of error: type (stable), status, title (in the language asked for: Accept-Language).
PROBLEMS = {
    "unauthorized": (401, N_("A valid API token is needed")),
    "not-found": (404, N_("No such resource")),
    "invalid-parameter": (400, N_("A parameter is not valid")),
    "method-not-allowed": (405, N_("The method is not allowed here")),
    "unavailable": (503, N_("The database cannot be reached")),
    "internal": (500, N_("Something went wrong on the server")),
    "invalid-body": (400, N_("The request's body is not valid")),
    "unsupported-media-type": (415, N_("The body must be JSON")),
    "payload-too-large": (413, N_("The request's body is too large")),
    "forbidden": (403, N_("The token's role may not do this")),
    "illegal-transition": (409, N_("Not possible in the occurrence's present state")),
    "refused": (422, N_("The decision was not recorded")),
    "precondition-failed": (412, N_("The occurrence changed since it was read")),
    "precondition-required": (428, N_("If-Match with the version read is needed")),
}
BODY_LIMIT = 64 << 10  # bytes of a JSON body
PROBLEMS["too-many-requests"] = (429, N_("Too many requests: wait and try again"))

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


def language_of(request: Request) -> str:
    """The language of a problem's title: the first of ours that Accept-Language names, else English
    (other systems read the API; the `type` is what they act on)."""
    from scheduler.web.auth import Auth

    return next(iter(Auth.accepted_languages(request.headers.get("accept-language", ""))), "en")


def problem_type(kind: str) -> str:
    return f"{PREFIX}/problems/{kind}"


class ApiError(Exception):
    def __init__(self, kind: str, detail: str | None = None, errors: list[dict] | None = None,
                 headers: dict | None = None):
        super().__init__(detail or kind)
        self.kind, self.detail, self.errors, self.headers = kind, detail, errors, headers or {}


def problem(request: Request, kind: str, detail: str | None = None, errors: list[dict] | None = None,
            headers: dict | None = None) -> Response:
    from scheduler.templating import translations

    status, title = PROBLEMS[kind]
    language = language_of(request)
    body = models.Problem(type=problem_type(kind), title=translations(language, "web").gettext(title), status=status,
                          detail=detail, instance=request.url.path, errors=errors)
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status, media_type=PROBLEM,
                        headers={"Cache-Control": "no-store", "Content-Language": language, "Vary": "Accept-Language",
                                 **(headers or {})})


@dataclass(frozen=True)
class Endpoint:
    path: str  # under PREFIX, in OpenAPI's form ("/occurrences/{id}")
    route: str  # in Starlette's ("/occurrences/{id:path}")
    name: str  # the operationId
    summary: str
    response: type[BaseModel]
    handler: Callable[..., Awaitable[BaseModel]]
    query: type[BaseModel] | None = None
    path_params: tuple[tuple[str, str], ...] = ()  # (name, description)
    errors: tuple[str, ...] = ("unauthorized", "unavailable")
    public: bool = False  # no token needed
    method: str = "GET"
    body: type[BaseModel] | None = None  # a JSON body, for POST
    if_match: bool = False  # the version read is required (If-Match)

    @property
    def allowed(self) -> tuple[str, ...]:
        return ("GET", "HEAD") if self.method == "GET" else (self.method,)


def _errors_of(error: ValidationError) -> list[dict]:
    return [{"parameter": ".".join(str(p) for p in e["loc"]) or None, "problem": e["msg"]} for e in error.errors()]


def routes(current: Callable, clock: Callable[[], dt.datetime]) -> list:
    """The API's routes, to be given to the web app: one Mount at /api/v1."""

    def person(request: Request):
        """The person the request's token acts as; ApiError when it carries no live token."""
        from scheduler.app import tokens
        from scheduler.app.people import Scope

        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError("unauthorized", "send Authorization: Bearer TOKEN (`scheduler tokens add`)", headers=challenge)
        ctx = current()
        found = tokens.authenticate(ctx.engine, token.strip(), clock())
        if found is None:
            raise ApiError("unauthorized", "the token is unknown, altered or revoked",
                           headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
        return reads.person_of(found, Scope.of_plan(ctx.plan, ctx.timing.local_day(clock())))

    limiter = Limiter()

    def too_many(request: Request, wait: float, what: str) -> Response:
        return problem(request, "too-many-requests", f"{what}: at most so many requests a minute; retry in "
                       f"{wait:.0f} s", headers={"Retry-After": str(int(wait + 0.999))})

    async def authenticated(request: Request, address: str):
        from starlette.concurrency import run_in_threadpool

        if (wait := limiter.over(("bad-token", address), LIMITS["bad-token"])) is not None:
            raise ApiError("too-many-requests", f"too many requests with a wrong token from {address}; retry in "
                                                f"{wait:.0f} s", headers={"Retry-After": str(int(wait + 0.999))})
        try:
            return await run_in_threadpool(person, request)
        except ApiError:
            limiter.hit(("bad-token", address), LIMITS["bad-token"])
            raise

    def wrap(endpoint: Endpoint):
        async def handle(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            address = request.client.host if request.client else "-"
            if (wait := limiter.hit(("address", address), LIMITS["address"])) is not None:
                return too_many(request, wait, f"requests from {address}")
            if request.method not in endpoint.allowed:
                return problem(request, "method-not-allowed", f"{request.method} is not allowed on {request.url.path}",
                               headers={"Allow": ", ".join(endpoint.allowed)})
            try:
                who = None if endpoint.public else await authenticated(request, address)
                if who is not None and (wait := limiter.hit(("token", who.email), LIMITS["token"])) is not None:
                    return too_many(request, wait, f"requests with the token {who.name}")
                if endpoint.body is not None:
                    request.state.body = await read_body(request, endpoint.body)
                query = None
                if endpoint.query is not None:
                    params = request.query_params
                    duplicated = sorted({k for k in params.keys() if len(params.getlist(k)) > 1})
                    if duplicated:
                        raise ApiError("invalid-parameter", f"given more than once: {', '.join(duplicated)}")
                    try:
                        query = endpoint.query.model_validate(dict(params))
                    except ValidationError as error:
                        raise ApiError("invalid-parameter", "see `errors`", _errors_of(error)) from None
                result = await endpoint.handler(request, who, query)
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

    async def list_occurrences(request, who, query):
        ctx = current()
        today = ctx.timing.local_day(clock())
        if query.agency and ctx.plan.agency(query.agency) is None:
            from scheduler.plan.suggest import unknown_agency

            raise ApiError("invalid-parameter", f"agency: {unknown_agency(ctx.plan, query.agency)}")
        if query.plan:
            try:
                ctx.plan.member(query.plan)
            except KeyError as error:
                raise ApiError("invalid-parameter", f"plan: {error.args[0]}") from None
        from starlette.concurrency import run_in_threadpool

        try:
            return await run_in_threadpool(reads.occurrences, ctx.engine, ctx.plan, who, query, today)
        except reads.BadCursor as error:
            raise ApiError("invalid-parameter", f"cursor: {error}") from None

    async def one_occurrence(request, who, query):
        from starlette.concurrency import run_in_threadpool

        ctx = current()
        return await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, request.path_params["id"],
                                       ctx.timing.local_day(clock()), ctx.timing.zone)

    async def record_event(request, who, query):
        from starlette.concurrency import run_in_threadpool

        from scheduler import bounds
        from scheduler.app import answer
        from scheduler.errors import BadInput, Conflict, IllegalTransition, NotPermitted, UnknownOccurrence

        ctx, now = current(), clock()
        oid = request.path_params["id"]
        today = ctx.timing.local_day(now)
        seen = await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, oid, today,
                                       ctx.timing.zone)
        if seen is None:
            return None
        version = version_of(request.headers.get("if-match"))
        body: models.EventRequest = request.state.body
        if body.until is not None:
            first, last = bounds.extension_span(ctx.plan.plan_of(oid))
            if not first <= body.until <= last:
                raise ApiError("invalid-body", f"until: {body.until.isoformat()} is outside "
                                               f"{first.isoformat()} … {last.isoformat()}")
        try:
            await run_in_threadpool(lambda: answer.act(
                ctx.engine, ctx.timing, oid, body.action, now=now, actor=who.actor(), reason=body.reason,
                until=body.until, expected_version=version, client=request.client.host if request.client else None))
        except UnknownOccurrence:
            return None
        except Conflict as error:
            raise ApiError("precondition-failed", str(error)) from None
        except NotPermitted as error:
            raise ApiError("forbidden", str(error)) from None
        except IllegalTransition as error:
            raise ApiError("illegal-transition", str(error)) from None
        except BadInput as error:
            raise ApiError("refused", str(error)) from None
        return await run_in_threadpool(reads.occurrence, ctx.engine, ctx.plan, who, oid, today,
                                       ctx.timing.zone)

    async def list_agencies(request, who, query):
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(reads.agencies, current().engine)

    async def index(request, who, query):
        return Index(openapi=f"{PREFIX}/openapi.json")

    async def openapi(request, who, query):
        return OpenApi.model_validate(document())

    endpoints = _declare(list_occurrences, one_occurrence, list_agencies, index, openapi, record_event)
    router = Router(routes=[Route(e.route, wrap(e), methods=METHODS, name=e.name) for e in endpoints],
                    default=_not_found)
    return [Mount(PREFIX, app=router)]


async def _not_found(scope, receive, send) -> None:
    request = Request(scope, receive)
    await problem(request, "not-found", f"nothing at {request.url.path}")(scope, receive, send)


def etag(version: int) -> str:
    return f'"v{version}"'


def version_of(if_match: str | None) -> int:
    """The version an If-Match names (`"v3"`, `W/"v3"`); ApiError when it is missing or not ours."""
    if not if_match or not if_match.strip():
        raise ApiError("precondition-required", 'send If-Match with the ETag of the occurrence as read (e.g. "v3")')
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not (tag.startswith("v") and tag[1:].isdigit() and len(tag) < 12):
        raise ApiError("precondition-failed", f"If-Match {if_match!r} is not an ETag of this occurrence")
    return int(tag[1:])


async def read_body(request: Request, model: type[BaseModel]) -> BaseModel:
    """The request's JSON body, at most BODY_LIMIT bytes, as `model`; ApiError otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError("unsupported-media-type", f"Content-Type {kind or 'none'}: send application/json")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > BODY_LIMIT:
        raise ApiError("payload-too-large", f"at most {BODY_LIMIT} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > BODY_LIMIT:
            raise ApiError("payload-too-large", f"at most {BODY_LIMIT} bytes")
    try:
        return model.model_validate_json(bytes(data))
    except ValidationError as error:
        raise ApiError("invalid-body", "see `errors`", _body_errors(error)) from None


def _body_errors(error: ValidationError) -> list[dict]:
    return [{"field": ".".join(str(p) for p in e["loc"]) or None, "problem": e["msg"]} for e in error.errors()]


class Index(BaseModel):
    """Where the API's description is."""

    openapi: str


class OpenApi(BaseModel):
    """The OpenAPI 3.1 document itself (its schema is OpenAPI's own)."""

    model_config = {"extra": "allow"}
    openapi: str


ENDPOINTS: list[Endpoint] = []


def _declare(list_occurrences, one_occurrence, list_agencies, index, openapi, record_event) -> list[Endpoint]:
    declared = [
        # before the occurrence's own route, whose {id:path} would take ".../events" too
        Endpoint("/occurrences/{id}/events", "/occurrences/{id:path}/events", "recordEvent",
                 "Record a decision on the occurrence's answer (as the pages and the CLI do); answers the "
                 "occurrence as it is now", models.OccurrenceDetail, record_event, method="POST",
                 body=models.EventRequest, if_match=True,
                 path_params=(("id", "The occurrence's id, e.g. 7:finance:2022"),),
                 errors=("invalid-body", "unauthorized", "forbidden", "not-found", "illegal-transition",
                         "payload-too-large", "precondition-failed", "unsupported-media-type", "refused",
                         "precondition-required", "unavailable")),
        Endpoint("/occurrences", "/occurrences", "listOccurrences",
                 "Occurrences the token reads, filtered as on the dashboard, a page at a time (cursor)",
                 models.OccurrencePage, list_occurrences, query=models.OccurrenceQuery,
                 errors=("invalid-parameter", "unauthorized", "unavailable")),
        Endpoint("/occurrences/{id}", "/occurrences/{id:path}", "getOccurrence",
                 "One occurrence with its answer, its documents' metadata and every event",
                 models.OccurrenceDetail, one_occurrence, path_params=(("id", "The occurrence's id, e.g. 7:finance:2022"),),
                 errors=("not-found", "unauthorized", "unavailable")),
        Endpoint("/agencies", "/agencies", "listAgencies", "Every body of the plans loaded, with its names",
                 models.AgencyList, list_agencies),
        Endpoint("/", "/", "index", "Where the API's description is", Index, index, errors=(), public=True),
        Endpoint("/openapi.json", "/openapi.json", "openapi", "This API's OpenAPI 3.1 document", OpenApi, openapi,
                 errors=(), public=True),
    ]
    ENDPOINTS[:] = declared
    return declared


@functools.cache
def document() -> dict:
    """The OpenAPI 3.1 document, from the endpoints' declarations and their pydantic models."""
    if not ENDPOINTS:  # declared by `routes`; the document needs only the declarations
        async def nothing(*_):
            return None

        _declare(nothing, nothing, nothing, nothing, nothing, nothing)
    bodies = {e.body for e in ENDPOINTS if e.body is not None}
    used = ({e.response for e in ENDPOINTS if e.response is not OpenApi} | {models.Problem}
            | {e.body for e in ENDPOINTS if e.body is not None})
    _, definitions = models_json_schema([(m, "validation" if m in bodies else "serialization")
                                         for m in sorted(used, key=lambda m: m.__name__)],
                                        ref_template="#/components/schemas/{model}")
    schemas = definitions.get("$defs", {})
    paths: dict = {}
    for e in ENDPOINTS:
        parameters = [{"name": name, "in": "path", "required": True, "description": text, "schema": {"type": "string"}}
                      for name, text in e.path_params]
        if e.query is not None:
            schema = e.query.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, field in schema["properties"].items():
                field = {k: v for k, v in field.items() if k not in ("title", "description")}
                options = [o for o in field.pop("anyOf", ()) if o.get("type") != "null"]  # absent, not null
                if options:
                    field = {**options[0], **field}
                if field.get("default", 0) is None:
                    del field["default"]
                parameters.append({"name": name, "in": "query", "required": name in schema.get("required", ()),
                                   "description": e.query.model_fields[name].description or "", "schema": field})
        responses = {"200": {"description": e.summary, "content": {"application/json": {"schema": (
            {"$ref": "#/components/schemas/OpenApi"} if e.response is OpenApi
            else {"$ref": f"#/components/schemas/{e.response.__name__}"})}}}}
        for kind in (*e.errors, "too-many-requests", "internal"):
            status, title = PROBLEMS[kind]
            responses[str(status)] = {"description": f"{title} (type {problem_type(kind)})",
                                      "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        if e.if_match:
            parameters.append({"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
                               "description": "The occurrence's ETag as read (its version): a stale write gets 412"})
        operation = {"operationId": e.name, "summary": e.summary, "parameters": parameters, "responses": responses}
        if e.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{e.body.__name__}"}}}}
        if e.public:
            operation["security"] = []
        paths.setdefault(e.path, {})[e.method.lower()] = operation
    schemas["OpenApi"] = {"type": "object", "description": "An OpenAPI 3.1 document",
                          "properties": {"openapi": {"type": "string"}}, "required": ["openapi"]}
    from scheduler import __version__

    return json.loads(json.dumps({
        "openapi": "3.1.0",
        "info": {"title": "Obligation scheduler API", "version": f"1 ({__version__})",
                 "description": "Deadlines of the plan and their answers, for other systems. Tokens: "
                                "`scheduler tokens add NAME --role observer|reviewer|agency:CODE`."},
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "A token from `scheduler tokens add`"}}},
    }))
