"""The API's writes over real HTTP: an answer (multipart, checked as the pages check it) and an
extension request, each the pages' use case, an event naming the token, with If-Match (412 when
stale, nothing stored); the compliance table of a year; and bad input of every kind — each a
problem document with its status, nothing stored."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import uuid

from sqlmodel import select

from scheduler.app import answer
from scheduler.app import tokens as api_tokens
from scheduler.store.db import session
from scheduler.store.tables import FileRow, SubmissionRow
from tests.integration.test_api import NOW, api, assert_problem  # noqa: F401 - the fixture

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PATH = "/api/v1/occurrences/7:finance:2022"


def multipart(fields: dict, files: list[tuple[str, bytes]] = ()) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for filename, content in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def send_answer(api, token, fields, files=(), if_match='"v0"', path=PATH):  # noqa: F811
    body, kind = multipart(fields, files)
    return api.get(path + "/answer", token, method="POST", data=body,
                   headers={"Content-Type": kind, **({"If-Match": if_match} if if_match else {})})


def stored(api):  # noqa: F811
    with session(api.service.engine) as db:
        return len(db.exec(select(SubmissionRow)).all()), len(db.exec(select(FileRow)).all())


def test_an_agency_answers_with_documents_as_on_the_pages(api):  # noqa: F811
    finance, observer = api.token("finance-system", "agency:finance"), api.token("watcher", "observer")
    fields = {"ref": "12-3/45", "ref_date": "2022-12-19", "text": "Ақпарат жолданды"}
    assert_problem(*send_answer(api, observer, fields), 403, "forbidden")
    assert_problem(*send_answer(api, finance, fields, path="/api/v1/occurrences/7:mvd:2022"), 404,
                   "not-found")  # not its agency: as if there were none
    assert_problem(*send_answer(api, finance, fields, if_match=None), 428, "precondition-required")
    assert_problem(*send_answer(api, finance, fields, if_match='"v7"'), 412, "precondition-failed")
    assert_problem(*send_answer(api, finance, {}), 400, "invalid-body")  # nothing to answer with
    assert_problem(*send_answer(api, finance, {**fields, "ref_date": "19.12.2022"}), 400, "invalid-body")
    assert_problem(*send_answer(api, finance, fields, [("report.pdf", b"MZ\x90\x00 not a document")]), 400,
                   "invalid-body")  # judged by its content, as on the pages
    assert_problem(*send_answer(api, finance, fields, [("report.docx", PDF)]), 400, "invalid-body")  # misnamed
    assert_problem(*send_answer(api, finance, {**fields, "ref_date": "2022-12-21"}), 422, "refused")  # after today
    assert_problem(*send_answer(api, finance, {**fields, "ref": "a\nb"}), 422, "refused")  # one line
    assert_problem(*send_answer(api, finance, {**fields, "text": "x\x00y"}), 400, "invalid-body")  # NUL
    status, headers, body = api.get(PATH + "/answer", finance, method="POST", data=b'{"ref": "1"}',
                                    headers={"Content-Type": "application/json", "If-Match": '"v0"'})
    assert_problem(status, headers, body, 415, "unsupported-media-type")
    assert stored(api) == (0, 0), "nothing was stored"

    status, headers, body = send_answer(api, finance, fields, [("report.pdf", PDF)])
    assert status == 200, body
    assert (body["state"], body["version"], headers["etag"]) == ("submitted", 1, '"v1"')
    submission = body["submission"]
    assert (submission["ref"], submission["ref_date"], submission["text"]) == ("12-3/45", "2022-12-19",
                                                                                "Ақпарат жолданды")
    assert [(f["name"], f["content_type"], f["size"]) for f in submission["files"]] == \
        [("report.pdf", "application/pdf", len(PDF))]
    assert body["events"][-1]["actor"] == "token:finance-system" and body["events"][-1]["action"] == "submit"
    assert_problem(*send_answer(api, finance, fields, if_match='"v1"'), 409, "illegal-transition")  # one is in
    assert stored(api) == (1, 1)


def test_a_reviewer_answers_on_the_bodys_behalf(api):  # noqa: F811
    reviewer = api.token("secretariat", "reviewer")
    status, _, body = send_answer(api, reviewer, {"text": "by letter"})
    assert status == 200 and body["events"][-1]["actor"] == "token:secretariat"


def test_an_oversize_document_or_form_is_refused_unread(api, monkeypatch):  # noqa: F811
    finance = api.token("finance-system", "agency:finance")
    monkeypatch.setattr(api.service.settings, "max_upload_mb", 1)
    big = PDF + b"0" * (1 << 20)
    assert_problem(*send_answer(api, finance, {"text": "x"}, [("big.pdf", big)]), 413, "payload-too-large")
    # A form larger than its documents may be, refused from its Content-Length before a byte is read
    connection = http.client.HTTPConnection(api.base.removeprefix("http://"), timeout=30)
    connection.putrequest("POST", PATH + "/answer")
    for name, value in (("Authorization", f"Bearer {finance}"), ("If-Match", '"v0"'),
                        ("Content-Type", "multipart/form-data; boundary=x"), ("Content-Length", str(12 << 20))):
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    assert_problem(response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(response.read()),
                   413, "payload-too-large")
    connection.close()
    assert stored(api) == (0, 0)


def test_an_agency_asks_for_more_time(api):  # noqa: F811
    finance, observer = api.token("finance-system", "agency:finance"), api.token("watcher", "observer")
    ask = {"until": "2023-01-31", "reason": "the figures come in January"}
    assert_problem(*api.post(PATH + "/extension-request", finance, ask), 428, "precondition-required")
    assert_problem(*api.post(PATH + "/extension-request", finance, ask, '"v3"'), 412, "precondition-failed")
    assert_problem(*api.post(PATH + "/extension-request", observer, ask, '"v0"'), 403, "forbidden")
    assert_problem(*api.post(PATH + "/extension-request", finance, {"until": "2023-01-31"}, '"v0"'), 400,
                   "invalid-body")
    assert_problem(*api.post(PATH + "/extension-request", finance, {**ask, "until": "soon"}, '"v0"'), 400,
                   "invalid-body")
    assert_problem(*api.post(PATH + "/extension-request", finance, {**ask, "until": "2999-01-01"}, '"v0"'), 400,
                   "invalid-body")
    assert_problem(*api.post(PATH + "/extension-request", finance, {**ask, "reason": 5}, '"v0"'), 400, "invalid-body")
    assert_problem(*api.post(PATH + "/extension-request", finance, {**ask, "reason": "   "}, '"v0"'), 422, "refused")
    assert_problem(*api.post("/api/v1/occurrences/7:finance:1999/extension-request", finance, ask, '"v0"'), 404,
                   "not-found")
    assert api.get(PATH, finance)[2]["version"] == 0, "nothing was recorded"
    status, headers, body = api.post(PATH + "/extension-request", finance, ask, '"v0"')
    assert status == 200 and body["extension_requested"] == "2023-01-31" and headers["etag"] == '"v1"'
    assert body["events"][-1]["actor"] == "token:finance-system"
    assert body["events"][-1]["action"] == "request-extension"
    assert_problem(*api.post(PATH + "/extension-request", finance, ask, '"v0"'), 412, "precondition-failed")


def test_compliance_per_year(api):  # noqa: F811
    engine, timing = api.service.engine, api.service.timing
    answer.submit(engine, timing, "7:finance:2022", at=NOW - dt.timedelta(days=2), now=NOW - dt.timedelta(days=2))
    observer, finance = api.token("watcher", "observer"), api.token("finance-system", "agency:finance")
    status, _, body = api.get("/api/v1/compliance?year=2022&lang=en", observer)
    assert status == 200 and body["year"] == 2022
    rows = {r["agency"]: r for r in body["items"]}
    assert {"finance", "mvd"} <= set(rows) and rows["finance"]["name"]
    assert rows["finance"]["owed"] >= 1 and rows["finance"]["on_time"] + rows["finance"]["late"] >= 1
    _, _, own = api.get("/api/v1/compliance?year=2022", finance)
    assert {r["agency"] for r in own["items"]} == {"finance"}
    for query in ("", "?year=abc", "?year=1800", "?year=2022&lang=de", "?year=2022&colour=red"):
        assert_problem(*api.get("/api/v1/compliance" + query, observer), 400, "invalid-parameter")


def test_tokens_altered_or_revoked_write_nothing(api):  # noqa: F811
    finance = api.token("finance-system", "agency:finance")
    altered = finance[:-2] + ("AA" if not finance.endswith("AA") else "BB")
    assert_problem(*send_answer(api, altered, {"text": "x"}), 401, "unauthorized")
    assert_problem(*api.post(PATH + "/extension-request", altered, {"until": "2023-01-31", "reason": "x"}, '"v0"'),
                   401, "unauthorized")
    api_tokens.revoke(api.service.engine, "finance-system", NOW)
    assert_problem(*send_answer(api, finance, {"text": "x"}), 401, "unauthorized")
    assert_problem(*api.post(PATH + "/events", finance, {"action": "request-extension", "until": "2023-01-31",
                                                         "reason": "x"}, '"v0"'), 401, "unauthorized")
    assert stored(api) == (0, 0) and api.get(PATH, api.token("watcher", "observer"))[2]["version"] == 0


def test_every_documented_status_is_reached(api, monkeypatch):  # noqa: F811
    """Each status the document names, for some operation that names it; 500 and 503 by a failing store."""
    import scheduler.api.reads as reads
    import scheduler.api.runner as runner
    from scheduler.api.describe import document
    from scheduler.store.db import StoreError

    documented = {status for item in document()["paths"].values() for operation in item.values()
                  for status in operation["responses"]}
    reviewer, finance = api.token("secretariat", "reviewer"), api.token("finance-system", "agency:finance")
    reached = {
        api.get("/api/v1/agencies", reviewer)[0],  # 200
        api.get("/api/v1/compliance?year=x", reviewer)[0],  # 400
        api.get("/api/v1/agencies")[0],  # 401
        api.post(PATH + "/events", finance, {"action": "accept"}, '"v0"')[0],  # 403
        api.get("/api/v1/occurrences/none", reviewer)[0],  # 404
        api.get("/api/v1/agencies", reviewer, method="PUT")[0],  # 405
        api.post(PATH + "/events", reviewer, {"action": "accept"}, '"v0"')[0],  # 409: nothing to accept
        api.post(PATH + "/events", reviewer, {"action": "accept"}, '"v9"')[0],  # 412
        api.post(PATH + "/events", reviewer, b"x" * (70 << 10), '"v0"')[0],  # 413
        api.post(PATH + "/events", reviewer, {}, '"v0"', headers={"Content-Type": "text/plain"})[0],  # 415
        api.post(PATH + "/events", reviewer, {"action": "close"}, '"v0"')[0],  # 422: no reason
        api.post(PATH + "/events", reviewer, {"action": "accept"})[0],  # 428
    }

    def failing(*_):
        raise StoreError("the database is gone")

    monkeypatch.setattr(reads, "agencies", failing)
    status, headers, body = api.get("/api/v1/agencies", reviewer)
    assert_problem(status, headers, body, 503, "unavailable")
    assert headers["retry-after"] == "5"
    reached.add(status)

    def broken(*_):
        raise RuntimeError("a bug")

    monkeypatch.setattr(reads, "agencies", broken)
    status, headers, body = api.get("/api/v1/agencies", reviewer)
    assert_problem(status, headers, body, 500, "internal")
    assert "a bug" not in json.dumps(body)
    reached.add(status)
    monkeypatch.setitem(runner.LIMITS, "token", 0)
    reached.add(api.get("/api/v1/occurrences", reviewer)[0])  # 429
    assert 405 in reached  # for a method an operation does not have (with Allow): HTTP's, not documented per operation
    assert {str(s) for s in reached - {405}} == documented


def test_malformed_and_mistyped_bodies_store_nothing(api):  # noqa: F811
    reviewer, finance = api.token("secretariat", "reviewer"), api.token("finance-system", "agency:finance")
    for body in (b"", b"null", b"[]", b'"accept"', b"{\"action\": \"accept\"", b"\xff\xfe", b'{"action": 5}',
                 b'{"action": "extend", "until": 5, "reason": "x"}', b'{"action": "return", "reason": ["x"]}',
                 b'{"action": "extend", "until": "2023-02-30", "reason": "x"}'):
        assert_problem(*api.post(PATH + "/events", reviewer, body, '"v0"'), 400, "invalid-body")
    for body in (b'{"until": "2023-01-31", "reason": "x", "action": "accept"}', b'{"until": null, "reason": "x"}',
                 b'{"until": "2023-01-31", "reason": "' + b"x" * 2001 + b'"}'):
        assert_problem(*api.post(PATH + "/extension-request", finance, body, '"v0"'), 400, "invalid-body")
    assert_problem(*api.post(PATH + "/extension-request", finance, b"x" * (70 << 10), '"v0"'), 413,
                   "payload-too-large")
    assert_problem(*send_answer(api, finance, {"text": "x"}, path="/api/v1/occurrences/7:finance:1999"), 404,
                   "not-found")
    status, headers, body = api.get(PATH + "/answer", finance, method="POST", data=b"--x\r\nbroken",
                                    headers={"Content-Type": "multipart/form-data; boundary=x", "If-Match": '"v0"'})
    assert_problem(status, headers, body, 400, "invalid-body")
    assert stored(api) == (0, 0) and api.get(PATH, reviewer)[2]["version"] == 0
