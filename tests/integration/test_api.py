"""The JSON API over real HTTP (uvicorn on loopback), SQLite and PostgreSQL: bearer tokens checked
against their stored hashes, each token reading as a person of its role does on the pages, cursor
paging, one occurrence with its answer and events, the agencies, problem documents for every error,
and the OpenAPI 3.1 document made from the same models the answers are."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest

from scheduler.api import models
from scheduler.app import answer
from scheduler.app import tokens as api_tokens
from scheduler.web.app import create_app
from tests.integration.web_client import serving
from tests.smtp import free_port

NOW = dt.datetime(2022, 12, 20, 3, 0, tzinfo=dt.timezone.utc)


class Api:
    def __init__(self, service, base):
        self.service, self.base = service, base

    def post(self, path, token, body, if_match=None, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.get(path, token, method="POST", data=data, headers={
            "Content-Type": "application/json", **({"If-Match": if_match} if if_match else {}), **(headers or {})})

    def get(self, path, token=None, method="GET", headers=None, data=None):
        request = urllib.request.Request(self.base + path, method=method, data=data, headers={
            **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            body = error.read()
            return error.code, dict(error.headers), json.loads(body) if body else None

    def token(self, name, role):
        return api_tokens.add(self.service.engine, self.service.plan, name, role, NOW)[1]


@pytest.fixture
def api(make_service, database_url):
    port = free_port()
    service = make_service(database_url)
    app = create_app(lambda: service, lambda: NOW)
    with serving(app, port):
        yield Api(service, f"http://127.0.0.1:{port}")
    service.engine.dispose()


def assert_problem(status, headers, body, expected_status, kind):
    assert status == expected_status, body
    assert headers["content-type"] == "application/problem+json"
    assert body["type"] == f"/api/v1/problems/{kind}" and body["status"] == expected_status and body["title"]
    assert "Traceback" not in json.dumps(body)


def test_tokens_are_needed_and_checked_against_their_hashes(api):
    token = api.token("docflow", "observer")
    status, headers, body = api.get("/api/v1/occurrences?agency=finance&year=2022")
    assert_problem(status, headers, body, 401, "unauthorized")
    assert headers["www-authenticate"].startswith("Bearer")
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "sch_" + "x" * 43, "nonsense"):
        assert_problem(*api.get("/api/v1/occurrences", wrong), 401, "unauthorized")
    status, _, body = api.get("/api/v1/occurrences?agency=finance&year=2022", token)
    assert status == 200
    ids = [o["id"] for o in body["items"]]
    assert "7:finance:2022" in ids and all(i.split(":")[1] == "finance" for i in ids)
    assert all(o["due"].startswith("2022-") for o in body["items"])
    api_tokens.revoke(api.service.engine, "docflow", NOW)
    assert_problem(*api.get("/api/v1/occurrences", token), 401, "unauthorized")
    rows = api_tokens.listing(api.service.engine)
    assert rows[0].last_used_at is not None and token not in {r.token_hash for r in rows}


def test_an_agency_token_reads_its_agency_only(api):
    finance = api.token("finance-system", "agency:finance")
    status, _, body = api.get("/api/v1/occurrences?year=2022&limit=500", finance)
    assert body["next"] is None, "a page holds them all"
    assert status == 200 and body["items"]
    assert all(o["agency"] == "finance" or o["recipient"] == "finance" for o in body["items"])
    assert api.get("/api/v1/occurrences/7:finance:2022", finance)[0] == 200
    assert_problem(*api.get("/api/v1/occurrences/7:mvd:2022", finance), 404, "not-found")  # as if there were none
    reviewer = api.token("secretariat", "reviewer")
    assert api.get("/api/v1/occurrences/7:mvd:2022", reviewer)[0] == 200


def test_cursor_paging_gives_every_occurrence_once_in_order(api):
    token = api.token("observer", "observer")
    status, _, whole = api.get("/api/v1/occurrences?year=2022&agency=mvd&limit=500", token)
    assert status == 200 and whole["next"] is None
    seen, cursor = [], None
    while True:
        status, _, page = api.get("/api/v1/occurrences?year=2022&agency=mvd&limit=7"
                                  + (f"&cursor={cursor}" if cursor else ""), token)
        assert status == 200 and len(page["items"]) <= 7
        seen += [o["id"] for o in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [o["id"] for o in whole["items"]] and len(seen) == len(set(seen)) > 7
    keys = [(o["due"], o["id"]) for o in whole["items"]]
    assert keys == sorted(keys)


def test_one_occurrence_with_its_answer_and_events(api):
    engine, timing = api.service.engine, api.service.timing
    answer.submit(engine, timing, "7:finance:2022", at=NOW - dt.timedelta(days=2), now=NOW - dt.timedelta(days=2),
                  ref="12-3/45", text="Ақпарат")
    answer.act(engine, timing, "7:finance:2022", "accept", now=NOW - dt.timedelta(days=1))
    token = api.token("observer", "observer")
    status, _, body = api.get("/api/v1/occurrences/7:finance:2022", token)
    assert status == 200
    detail = models.OccurrenceDetail.model_validate(body)  # the documented type
    assert (detail.state, detail.version, detail.submission.ref) == ("accepted", 2, "12-3/45")
    assert [(e.action, e.chain_seq) for e in detail.events] == [("submit", 1), ("accept", 2)]
    assert all(len(e.hash) == 64 for e in detail.events)
    status, _, page = api.get("/api/v1/occurrences?state=accepted", token)
    assert [o["id"] for o in page["items"]] == ["7:finance:2022"]
    status, _, page = api.get("/api/v1/occurrences?state=overdue&agency=finance&year=2022", token)
    assert page["items"] and all(o["overdue"] and o["state"] in ("open", "returned") for o in page["items"])


def test_agencies(api):
    token = api.token("observer", "observer")
    status, _, body = api.get("/api/v1/agencies", token)
    assert status == 200
    codes = {a["code"]: a for a in body["items"]}
    assert {"finance", "mvd", "akimat-astana"} <= set(codes) and codes["finance"]["short_kk"] == "Қаржымині"


def test_every_error_is_a_problem_document(api):
    token = api.token("observer", "observer")
    for path, status, kind in (
        ("/api/v1/occurrences?year=abc", 400, "invalid-parameter"),
        ("/api/v1/occurrences?year=1800", 400, "invalid-parameter"),
        ("/api/v1/occurrences?limit=0", 400, "invalid-parameter"),
        ("/api/v1/occurrences?state=lost", 400, "invalid-parameter"),
        ("/api/v1/occurrences?agency=finanse", 400, "invalid-parameter"),
        ("/api/v1/occurrences?plan=other", 400, "invalid-parameter"),
        ("/api/v1/occurrences?cursor=%21%21", 400, "invalid-parameter"),
        ("/api/v1/occurrences?colour=red", 400, "invalid-parameter"),
        ("/api/v1/occurrences?year=2022&year=2023", 400, "invalid-parameter"),
        ("/api/v1/occurrences/7:finance:1999", 404, "not-found"),
        ("/api/v1/nothing-here", 404, "not-found"),
        ("/api/v1/occurrences/7%00x", 400, "invalid-parameter"),  # refused before the router: still a problem
        ("/api/v1/occurrences?agency=fin%00ance", 400, "invalid-parameter"),
        ("/api/v1/occurrences/a%0Ab", 404, "not-found"),  # a newline in the address: the API's all the same
    ):
        assert_problem(*api.get(path, token), status, kind)
    status, headers, body = api.get("/api/v1/agencies", token, method="DELETE")
    assert_problem(status, headers, body, 405, "method-not-allowed")
    _, _, body = api.get("/api/v1/occurrences?agency=finanse", token)
    assert "did you mean 'finance'" in body["detail"]
    _, _, body = api.get("/api/v1/occurrences?year=abc", token)
    assert body["errors"][0]["parameter"] == "year"
    status, headers, body = api.get("/api/v1/occurrences?year=abc", token, headers={"Accept-Language": "ru, en;q=0.5"})
    assert (body["title"], headers["content-language"]) == ("Параметр недопустим", "ru")
    assert body["type"] == "/api/v1/problems/invalid-parameter"  # the type is the same in every language
    _, headers, body = api.get("/api/v1/occurrences", headers={"Accept-Language": "kk"})
    assert (body["title"], headers["content-language"]) == ("Қажет: жарамды API токені", "kk")
    assert api.get("/api/v1/occurrences?year=abc", token)[2]["title"] == "A parameter is not valid"


def test_the_openapi_document_describes_what_is_served(api):
    status, headers, document = api.get("/api/v1/openapi.json")  # no token needed
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert document["openapi"].startswith("3.1")
    assert {"/occurrences", "/occurrences/{id}", "/occurrences/{id}/events", "/agencies", "/openapi.json"} <= \
        set(document["paths"])
    recording = document["paths"]["/occurrences/{id}/events"]["post"]
    assert recording["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/EventRequest")
    assert {"412", "428", "403", "409"} <= set(recording["responses"])
    listing = document["paths"]["/occurrences"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"agency", "year", "plan", "obligation", "state", "cursor"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/OccurrencePage")
    assert document["components"]["schemas"]["Occurrence"] == \
        models.Occurrence.model_json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
    assert "401" in listing["responses"] and "application/problem+json" in listing["responses"]["401"]["content"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    try:
        from openapi_spec_validator import validate
    except ImportError:
        return
    validate(document)


def test_decisions_are_events_naming_the_token_and_a_stale_write_changes_nothing(api):
    engine, timing = api.service.engine, api.service.timing
    answer.submit(engine, timing, "7:finance:2022", at=NOW - dt.timedelta(days=2), now=NOW - dt.timedelta(days=2))
    reviewer, observer = api.token("secretariat", "reviewer"), api.token("watcher", "observer")
    finance = api.token("finance-system", "agency:finance")
    path = "/api/v1/occurrences/7:finance:2022"
    status, headers, body = api.get(path, reviewer)
    assert status == 200 and headers["etag"] == '"v1"' and body["state"] == "submitted"

    assert_problem(*api.post(path + "/events", reviewer, {"action": "return", "reason": "x"}), 428,
                   "precondition-required")
    assert_problem(*api.post(path + "/events", reviewer, {"action": "return", "reason": "x"}, '"v0"'), 412,
                   "precondition-failed")
    assert_problem(*api.post(path + "/events", observer, {"action": "accept"}, '"v1"'), 403, "forbidden")
    assert_problem(*api.post(path + "/events", finance, {"action": "accept"}, '"v1"'), 403, "forbidden")
    assert_problem(*api.post(path + "/events", reviewer, {"action": "return"}, '"v1"'), 422, "refused")  # no reason
    assert_problem(*api.post(path + "/events", reviewer, {"action": "fly"}, '"v1"'), 400, "invalid-body")
    assert_problem(*api.post(path + "/events", reviewer, {"action": "accept", "colour": 1}, '"v1"'), 400,
                   "invalid-body")
    assert_problem(*api.post(path + "/events", reviewer, b"{not json", '"v1"'), 400, "invalid-body")
    assert_problem(*api.post(path + "/events", reviewer, b"x" * (70 << 10), '"v1"'), 413, "payload-too-large")
    assert_problem(*api.post(path + "/events", reviewer, {"action": "accept"}, '"v1"',
                             headers={"Content-Type": "text/plain"}), 415, "unsupported-media-type")
    assert_problem(*api.post(path + "/events", reviewer, {"action": "extend", "until": "9999-12-31", "reason": "x"},
                             '"v1"'), 400, "invalid-body")
    assert_problem(*api.post("/api/v1/occurrences/7:mvd:2022/events", finance,
                             {"action": "request-extension", "until": "2023-01-31", "reason": "x"}, '"v0"'),
                   404, "not-found")  # not its agency: as if there were none
    assert_problem(*api.get(path + "/events", reviewer), 405, "method-not-allowed")
    assert api.get(path, reviewer)[2]["version"] == 1, "nothing was recorded"

    status, headers, body = api.post(path + "/events", reviewer, {"action": "return", "reason": "the table is missing"},
                                     '"v1"')
    assert status == 200 and body["state"] == "returned" and headers["etag"] == '"v2"'
    assert body["events"][-1]["actor"] == "token:secretariat" and body["events"][-1]["hash"]
    assert_problem(*api.post(path + "/events", reviewer, {"action": "accept"}, '"v2"'), 409, "illegal-transition")
    status, _, body = api.post(path + "/events", finance,
                               {"action": "request-extension", "until": "2023-01-31", "reason": "more time"}, 'W/"v2"')
    assert status == 200 and body["extension_requested"] == "2023-01-31"
    assert body["events"][-1]["actor"] == "token:finance-system"
    assert_problem(*api.post(path + "/events", reviewer, {"action": "close", "reason": "late"}, '"v2"'), 412,
                   "precondition-failed")  # read before the request: stale
    from scheduler.app import audit

    verdict = audit.verify(engine)
    assert verdict.broken is None and verdict.count == 3 + 3  # three answers' events and three tokens added


def test_requests_are_limited_per_token_per_address_and_for_wrong_tokens(api, monkeypatch):
    import scheduler.api.runner

    monkeypatch.setitem(scheduler.api.runner.LIMITS, "token", 5)
    monkeypatch.setitem(scheduler.api.runner.LIMITS, "bad-token", 3)
    token, other = api.token("busy", "observer"), api.token("calm", "observer")
    for _ in range(5):
        assert api.get("/api/v1/agencies", token)[0] == 200
    status, headers, body = api.get("/api/v1/agencies", token)
    assert_problem(status, headers, body, 429, "too-many-requests")
    assert 1 <= int(headers["retry-after"]) <= 60
    assert api.get("/api/v1/agencies", other)[0] == 200, "another token is not held back"
    for _ in range(3):
        assert api.get("/api/v1/agencies", "sch_" + "x" * 43)[0] == 401
    assert_problem(*api.get("/api/v1/agencies", "sch_" + "y" * 43), 429, "too-many-requests")
    assert_problem(*api.get("/api/v1/agencies", other), 429, "too-many-requests")  # the address is held back
    monkeypatch.setitem(scheduler.api.runner.LIMITS, "address", 1)
    assert_problem(*api.get("/api/v1/openapi.json"), 429, "too-many-requests")
