"""The HTTP side under a hostile or careless world, over real HTTP (uvicorn on loopback): security
headers, login throttling, form tokens that survive a restart and a second instance, a reverse
proxy's Origin, metrics that never query on a scrape, a refused reload on /healthz."""

import base64
import datetime as dt
import hashlib
import http.client
import json
import logging
import re
import threading
import time
import urllib.parse

import pytest
import uvicorn
from sqlalchemy import event

from scheduler.app import pages, standing
from scheduler.app.answer import operator_submit
from scheduler.app.tick import tick
from scheduler.daemon import Daemon
from scheduler.errors import BadInput
from scheduler.feeds import tokens
from scheduler.web.app import create_app
from tests.smtp import free_port

NOW = dt.datetime(2022, 12, 12, 5, 0, tzinfo=dt.timezone.utc)
CREDENTIAL = ("admin", "correct horse")
PASSWORD_TRIED = "Tr0ub4dor&3-guess"


def call(base, path, *, method="GET", auth=CREDENTIAL, data=None, headers=None, source="127.0.0.1"):
    """One request over its own connection from `source` (any 127.x address is this machine)."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=(source, 0))
    headers = dict(headers or {})
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    if data is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        connection.request("POST" if data is not None else method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.fixture
def serve():
    servers = []

    def start(app) -> str:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def service(make_service, tmp_path):
    service = make_service(f"sqlite:///{tmp_path / 'web.db'}")
    tick(service, NOW)
    return service


def form_token(page: str) -> str:
    """The token of the admin's form that records a submission."""
    return page.split('/submit">')[1].split('name="csrf" value="')[1].split('"')[0]


def test_every_response_carries_the_security_headers(service, serve):
    base = serve(create_app(lambda: service, lambda: NOW, CREDENTIAL))
    feed = tokens.issue(service.engine, NOW, agency="finance")
    answers = {
        "dashboard": call(base, "/"),
        "occurrence": call(base, "/occurrences/7:finance:2022"),
        "report": call(base, "/report/2022.csv"),
        "no session": call(base, "/", auth=None),  # to the sign-in page, never a Basic prompt
        "healthz": call(base, "/healthz"),
        "metrics": call(base, "/metrics"),
        "feed": call(base, f"/feeds/{feed}.ics", auth=None),
        "unknown feed": call(base, f"/feeds/{'A' * 32}.ics", auth=None),
        "no route": call(base, "/nothing-here", auth=None),
    }
    assert [answers[k][0] for k in answers] == [200, 200, 200, 303, 200, 200, 200, 404, 404]
    for name, (_, headers, _) in answers.items():
        policy = headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, name
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, name
        assert headers.get("x-frame-options") == "DENY", name
        assert headers.get("x-content-type-options") == "nosniff", name
        # Feed URLs carry tokens: no Referer anywhere. The dashboard's pages send it to themselves
        # only, or a browser would post their form with `Origin: null`.
        pages = name in ("dashboard", "occurrence")
        assert headers.get("referrer-policy") == ("same-origin" if pages else "no-referrer"), name
    for name in ("dashboard", "occurrence", "report", "no session"):
        assert answers[name][1]["cache-control"] == "no-store", name
    feed_headers = answers["feed"][1]
    assert feed_headers["cache-control"] == "private, max-age=300" and feed_headers["etag"]
    assert call(base, f"/feeds/{feed}.ics", auth=None, headers={"If-None-Match": feed_headers["etag"]})[0] == 304


def test_the_policy_allows_the_pages_own_styles_and_nothing_inline_besides(service, serve):
    base = serve(create_app(lambda: service, lambda: NOW, CREDENTIAL))
    status, headers, page = call(base, "/")
    assert status == 200
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert styles and ' style="' not in page and "<script" not in page
    allowed = set(re.findall(r"'(sha256-[A-Za-z0-9+/=]+)'", headers["content-security-policy"]))
    for style in styles:
        assert "sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() in allowed


def test_failed_logins_from_one_address_are_refused_for_a_while(service, serve, caplog):
    base = serve(create_app(lambda: service, lambda: NOW, CREDENTIAL))
    for _ in range(30):
        assert call(base, "/occurrences/7:finance:2022", source="127.0.0.3")[0] == 200, "successful logins never count"
    with caplog.at_level(logging.INFO, logger="scheduler"):
        answers = [call(base, "/", auth=("admin", PASSWORD_TRIED))[0] for _ in range(10)]
        assert answers == [401] * 10
        status, headers, _ = call(base, "/", auth=("admin", PASSWORD_TRIED))
        assert status == 429 and 0 < int(headers["retry-after"]) <= 15 * 60
        assert call(base, "/", auth=CREDENTIAL)[0] == 429, "while refused, not even the right password is tried"
        assert call(base, "/occurrences/7:finance:2022/submit", data=b"csrf=x")[0] == 429
        assert call(base, "/", source="127.0.0.2")[0] == 200, "another address is not affected"
        assert call(base, "/", auth=("admin", "wrong"), source="127.0.0.2")[0] == 401
        assert call(base, "/", auth=None)[0] == 303, "no credential tried: the sign-in page (throttled on its own)"
        assert call(base, "/healthz", auth=None)[0] == 200, "only the dashboard is guarded"
    refused = [r for r in caplog.records if "login refused" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.WARNING
    assert "from=127.0.0.1" in refused[0].getMessage()
    assert PASSWORD_TRIED not in caplog.text and "correct horse" not in caplog.text


def test_a_form_from_one_instance_is_accepted_by_another_and_after_a_restart(service, serve, tmp_path):
    key_file = tmp_path / "secret.key"
    first = serve(create_app(lambda: service, lambda: NOW, CREDENTIAL, secret_key=tokens.load_or_create_key(key_file)))
    token = form_token(call(first, "/occurrences/7:finance:2022")[2])
    other_key = tokens.load_or_create_key(tmp_path / "other.key")
    stranger = serve(create_app(lambda: service, lambda: NOW, CREDENTIAL, secret_key=other_key))
    assert call(stranger, "/occurrences/7:finance:2022/submit", data=urllib.parse.urlencode({"csrf": token}).encode())[0] == 403
    restarted = serve(create_app(lambda: service, lambda: NOW, CREDENTIAL, secret_key=tokens.load_or_create_key(key_file)))
    status, headers, _ = call(restarted, "/occurrences/7:finance:2022/submit",
                              data=urllib.parse.urlencode({"csrf": token, "note": "No. 12-3/45"}).encode())
    assert status == 303 and pages.history(service.engine, "7:finance:2022")[1].note == "No. 12-3/45"
    assert token != tokens.load_or_create_key(key_file).hex()[:64], "the form key is derived, not the key itself"


def test_behind_a_proxy_the_public_origin_is_accepted(service, serve):
    service.settings = service.settings.model_copy(update={"base_url": "https://plan.example.kz/scheduler/"})
    base = serve(create_app(lambda: service, lambda: NOW, CREDENTIAL))
    token = form_token(call(base, "/occurrences/7:finance:2022")[2])
    post = lambda origin: call(base, "/occurrences/7:finance:2022/submit", headers={"Origin": origin},  # noqa: E731
                               data=urllib.parse.urlencode({"csrf": token}).encode())[0]
    assert post("https://evil.example") == 403
    assert post("http://plan.example.kz") == 403, "the scheme is part of the origin"
    assert post("https://plan.example.kz.evil.example") == 403
    assert post("null") == 403
    assert post("https://plan.example.kz") == 303


def overdue_samples(text: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r'^scheduler_overdue_occurrences\{agency="([^"]+)"\} (\S+)$', text, re.M)}


def test_a_scrape_runs_no_query_and_shows_the_last_ticks_overdue_counts(make_service, tmp_path, serve):
    service = make_service(f"sqlite:///{tmp_path / 'metrics.db'}")
    daemon = Daemon(service, lambda: service, lambda: NOW)
    daemon.tick()
    expected = {agency: float(late) for agency, late, *_ in standing.by_agency(service, NOW)}
    assert expected["finance"] > 0
    base = serve(create_app(lambda: daemon.ctx, lambda: NOW, CREDENTIAL))
    queries = []

    def count(connection, cursor, statement, *args):
        queries.append(statement)

    event.listen(service.engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            status, headers, text = call(base, "/metrics", auth=None)
            assert status == 200 and headers["content-type"].startswith("text/plain")
            assert overdue_samples(text) == expected
        assert queries == [], "a scrape only serialises what the last tick measured"
        operator_submit(service, "7:finance:2022", NOW, None, NOW)
        assert overdue_samples(call(base, "/metrics", auth=None)[2])["finance"] == expected["finance"]
        queries.clear()
        daemon.tick()
        assert queries, "the tick measures"
        assert overdue_samples(call(base, "/metrics", auth=None)[2])["finance"] == expected["finance"] - 1
    finally:
        event.remove(service.engine, "before_cursor_execute", count)


def test_a_refused_reload_shows_on_healthz_and_in_metrics(service, serve):
    outcome = {"error": BadInput("1 problem(s) in the plan:\n  obligations.toml:911: obligation 23: unknown agency 'x'")}

    def reload():
        if outcome["error"]:
            raise outcome["error"]
        return service

    daemon = Daemon(service, reload, lambda: NOW)
    base = serve(create_app(lambda: daemon.ctx, lambda: NOW, CREDENTIAL, reload_problem=lambda: daemon.reload_problem))
    assert json.loads(call(base, "/healthz", auth=None)[2]) == {"status": "ok", "database": "ok"}
    daemon.reload()
    status, _, body = call(base, "/healthz", auth=None)
    assert status == 200, "the running plan keeps working"
    assert json.loads(body) == {"status": "ok", "database": "ok",
                                "reload": "refused: 1 problem(s) in the plan: | obligations.toml:911: obligation 23: unknown agency 'x'"}
    text = call(base, "/metrics", auth=None)[2]
    assert "scheduler_last_reload_ok 0.0" in text
    failures = float(re.search(r"^scheduler_reload_failures_total (\S+)$", text, re.M).group(1))
    outcome["error"] = None
    daemon.reload()
    assert json.loads(call(base, "/healthz", auth=None)[2]) == {"status": "ok", "database": "ok"}
    text = call(base, "/metrics", auth=None)[2]
    assert "scheduler_last_reload_ok 1.0" in text and f"scheduler_reload_failures_total {failures}" in text


def test_a_form_whose_body_stalls_or_overflows_is_refused(service, serve, monkeypatch):
    import socket

    from scheduler.web import guard

    monkeypatch.setattr(guard, "FORM_TIMEOUT", 1.0)
    base = serve(create_app(lambda: service, lambda: NOW, CREDENTIAL))
    port = int(base.rsplit(":", 1)[1])
    auth = base64.b64encode(":".join(CREDENTIAL).encode()).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST /occurrences/7:finance:2022/submit HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf=".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 408 ")
    big = urllib.parse.urlencode({"csrf": "x", "note": "x" * 100_000}).encode()
    assert call(base, "/occurrences/7:finance:2022/submit", data=big)[0] == 413
    assert pages.history(service.engine, "7:finance:2022")[1] is None
