"""The API's endpoints declared once: the routes and the OpenAPI 3.1 document at
`/api/v1/openapi.json` are both made from these declarations and the pydantic models the endpoints
return (scheduler/api/models.py)."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import scheduler.api.models as models
from scheduler.api.problems import PREFIX, PROBLEM, PROBLEMS, problem_type


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
    form: type[BaseModel] | None = None  # a multipart/form-data body (documents), for POST

    @property
    def allowed(self) -> tuple[str, ...]:
        return ("GET", "HEAD") if self.method == "GET" else (self.method,)


class Index(BaseModel):
    """Where the API's description is."""

    openapi: str


class OpenApi(BaseModel):
    """The OpenAPI 3.1 document itself (its schema is OpenAPI's own)."""

    model_config = {"extra": "allow"}
    openapi: str


ENDPOINTS: list[Endpoint] = []


WRITE_ERRORS = ("invalid-body", "invalid-parameter", "unauthorized", "forbidden", "not-found", "illegal-transition",
                "payload-too-large", "precondition-failed", "unsupported-media-type", "refused",
                "precondition-required", "unavailable")
OCCURRENCE_ID = (("id", "The occurrence's id, e.g. 7:finance:2022"),)


def _declare(h) -> list[Endpoint]:
    """The endpoints, with `h`'s handlers (scheduler/api/endpoints.py)."""
    declared = [
        # before the occurrence's own route, whose {id:path} would take ".../events" too
        Endpoint("/occurrences/{id}/events", "/occurrences/{id:path}/events", "recordEvent",
                 "Record a decision on the occurrence's answer (as the pages and the CLI do); answers the "
                 "occurrence as it is now", models.OccurrenceDetail, h.record_event, method="POST",
                 body=models.EventRequest, if_match=True, path_params=OCCURRENCE_ID, errors=WRITE_ERRORS),
        Endpoint("/occurrences/{id}/answer", "/occurrences/{id:path}/answer", "submitAnswer",
                 "Submit the answer of the body that owes the occurrence (an agency's token, or a reviewer's on "
                 "its behalf): the outgoing letter's reference and date, the information, documents; checked "
                 "as on the pages; answers the occurrence as it is now", models.OccurrenceDetail, h.submit_answer,
                 method="POST", form=models.AnswerForm, if_match=True, path_params=OCCURRENCE_ID, errors=WRITE_ERRORS),
        Endpoint("/occurrences/{id}/extension-request", "/occurrences/{id:path}/extension-request",
                 "requestExtension", "Ask for more time, as the body's focal point does on /my (an agency's "
                 "token); answers the occurrence as it is now", models.OccurrenceDetail, h.request_extension,
                 method="POST", body=models.ExtensionRequest, if_match=True, path_params=OCCURRENCE_ID,
                 errors=WRITE_ERRORS),
        Endpoint("/occurrences", "/occurrences", "listOccurrences",
                 "Occurrences the token reads, filtered as on the dashboard, a page at a time (cursor)",
                 models.OccurrencePage, h.list_occurrences, query=models.OccurrenceQuery,
                 errors=("invalid-parameter", "unauthorized", "unavailable")),
        Endpoint("/occurrences/{id}", "/occurrences/{id:path}", "getOccurrence",
                 "One occurrence with its answer, its documents' metadata and every event",
                 models.OccurrenceDetail, h.one_occurrence, path_params=OCCURRENCE_ID,
                 errors=("invalid-parameter", "not-found", "unauthorized", "unavailable")),
        Endpoint("/compliance", "/compliance", "getCompliance",
                 "The compliance table of a year: per body, the deadlines due that year answered on time, late, "
                 "missing or still pending (as `scheduler compliance`)", models.ComplianceTable, h.compliance,
                 query=models.ComplianceQuery, errors=("invalid-parameter", "unauthorized", "unavailable")),
        Endpoint("/agencies", "/agencies", "listAgencies", "Every body of the plans loaded, with its names",
                 models.AgencyList, h.list_agencies),
        Endpoint("/", "/", "index", "Where the API's description is", Index, h.index, errors=(), public=True),
        Endpoint("/openapi.json", "/openapi.json", "openapi", "This API's OpenAPI 3.1 document", OpenApi, h.openapi,
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

        class Nothing:
            def __getattr__(self, name):
                return nothing

        _declare(Nothing())
    bodies = {e.body for e in ENDPOINTS if e.body is not None} | {e.form for e in ENDPOINTS if e.form is not None}
    used = ({e.response for e in ENDPOINTS if e.response is not OpenApi} | {models.Problem}
            | bodies)
    _, definitions = models_json_schema([(m, "validation" if m in bodies else "serialization")
                                         for m in sorted(used, key=lambda m: m.__name__)],
                                        ref_template="#/components/schemas/{model}")
    schemas = definitions.get("$defs", {})
    paths: dict = {}
    for e in ENDPOINTS:
        parameters = [{"name": name, "in": "path", "required": True, "description": text, "schema": {"type": "string"},
                       "example": "7:finance:2022"} for name, text in e.path_params]
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
            said = f"{title} (type {problem_type(kind)})"
            if str(status) in responses:  # two kinds of one status (400)
                said = f"{responses[str(status)]['description']}; or {said}"
            responses[str(status)] = {"description": said,
                                      "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        if e.if_match:
            # Not `required` in OpenAPI's sense (its absence is not malformed): without it the answer is 428
            parameters.append({"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                               "example": '"v0"', "description": "The occurrence's ETag as read (its version): a stale write gets 412"})
        operation = {"operationId": e.name, "summary": e.summary, "parameters": parameters, "responses": responses}
        if e.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{e.body.__name__}"}}}}
        if e.form is not None:
            operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {
                "schema": {"$ref": f"#/components/schemas/{e.form.__name__}"}}}}
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
