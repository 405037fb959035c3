"""The API's errors: RFC 9457 problem documents with a stable `type` per kind of error, their
titles in the language Accept-Language asks for; and the checks of a request's body and If-Match
that raise them."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import scheduler.api.models as models

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"


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


def language_of(request: Request) -> str:
    """The language of a problem's title: the first of ours that Accept-Language names, else English
    (other systems read the API; the `type` is what they act on)."""
    from scheduler.i18n import accepted_languages

    return next(iter(accepted_languages(request.headers.get("accept-language", ""))), "en")


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


def refusal(request: Request, status: int, key: str) -> Response:
    """A refusal made before the API's router (scheduler/web/edges.py: a NUL in the address or a
    form), as a problem document."""
    from scheduler.web.edges import nul_in_address

    if key == "nul":
        kind = "invalid-parameter" if nul_in_address(request.scope) else "invalid-body"
        return problem(request, kind, "a NUL (code 0) cannot be stored: remove it and try again")
    return problem(request, "invalid-body" if status == 400 else "internal", key)


def errors_of(error: ValidationError) -> list[dict]:
    return [{"parameter": ".".join(str(p) for p in e["loc"]) or None, "problem": e["msg"]} for e in error.errors()]


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


async def not_found(scope, receive, send) -> None:
    request = Request(scope, receive)
    await problem(request, "not-found", f"nothing at {request.url.path}")(scope, receive, send)
