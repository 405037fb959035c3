"""The dashboard over real HTTP (uvicorn on loopback): credential, pages, the submission form."""

import base64
import datetime as dt
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import uvicorn

from scheduler.web.app import create_app
from tests.smtp import free_port

NOW = dt.datetime(2022, 12, 12, 5, 0, tzinfo=dt.timezone.utc)
CREDENTIAL = ("admin", "correct horse")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(url, *, auth=CREDENTIAL, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}))
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


@pytest.fixture
def served(make_service, tmp_path):
    """The ASGI app over a synced SQLite store, with or without an admin credential."""
    servers = []

    def serve(credential=CREDENTIAL):
        service = make_service(f"sqlite:///{tmp_path / 'web.db'}")
        service.tick(NOW)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(lambda: service, lambda: NOW, credential), host="127.0.0.1",
                                               port=port, log_level="warning", access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}", service

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def test_no_credential_means_no_dashboard(served):
    base, _ = served(credential=None)
    status, _, body = call(base + "/")
    assert status == 404 and "SCHEDULER_ADMIN_PASSWORD" in body
    assert call(base + "/occurrences/7:finance:2022")[0] == 404


def test_the_credential_is_required(served):
    base, service = served()
    status, headers, _ = call(base + "/", auth=None)
    assert status == 401 and headers["www-authenticate"].startswith("Basic")
    assert call(base + "/", auth=("admin", "wrong"))[0] == 401
    status, _, page = call(base + "/")
    assert status == 200
    assert 'id="status"' in page and 'id="compliance"' in page and "December 2022" in page and "January 2023" in page
    ninth = service.due_between(dt.date(2022, 12, 9), dt.date(2022, 12, 9))[dt.date(2022, 12, 9)]
    assert f'<a href="/occurrences/{ninth[0][0]}"' in page and f"+{len(ninth) - 3}" in page


def test_recording_a_submission_through_the_form(served):
    base, service = served()
    status, _, page = call(base + "/occurrences/7:finance:2022")
    assert status == 200 and "not submitted" in page and "reminder-14d" in page
    url = base + "/occurrences/7:finance:2022/submit"
    token = page.split(f'action="{url.removeprefix(base)}"')[1].split('name="csrf" value="')[1].split('"')[0]
    form = lambda **fields: urllib.parse.urlencode(fields).encode()  # noqa: E731
    assert call(url, data=form(note="x"))[0] == 403, "no token"
    assert call(url, data=form(csrf="0" * 64, note="x"))[0] == 403, "a forged token"
    assert call(url, data=form(csrf=token, note="x"), headers={"Origin": "https://evil.example"})[0] == 403
    assert call(url, data=form(csrf=token, note="x"), auth=None)[0] == 401
    assert service.history("7:finance:2022")[1] is None, "nothing recorded by refused posts"
    status, headers, _ = call(url, data=form(csrf=token, note="Хат № 12-3/45 <b>"), headers={"Origin": base})
    assert status == 303 and headers["location"] == "/occurrences/7:finance:2022"
    page = call(base + "/occurrences/7:finance:2022")[2]
    assert "submitted</span> 2022-12-12 11:00" in page and "Хат № 12-3/45 &lt;b&gt;" in page  # Almaty time
    assert '/submit"' not in page and 'id="do-accept"' in page, "recorded: now the secretariat decides"
    assert service.history("7:finance:2022")[1].note == "Хат № 12-3/45 <b>"


def test_the_report_download_has_the_dashboards_numbers(served):
    base, service = served()
    status, headers, body = call(base + "/report/2022.csv")
    assert status == 200 and headers["content-disposition"] == 'attachment; filename="compliance-2022.csv"'
    lines = body.lstrip("\ufeff").strip().splitlines()
    table = service.compliance(2022, NOW)
    assert len(lines) == len(table) + 2  # header and total
    page = call(base + "/")[2]
    finance = next(r for r in table if r.agency == "finance")
    assert f"<td>finance</td><td>{finance.name}</td><td class=\"num\">{finance.owed}</td>" in page
    assert call(base + "/report/2022.pdf")[0] == 404


def test_a_report_year_outside_the_plan_is_not_found(served):
    base, service = served()
    years = service.plan.years
    for year in (0, 1, years.start - 2, years.stop + 1, 99999):
        status, _, body = call(base + f"/report/{year}.html")
        assert status == 404 and "outside the plan's period" in body, (year, status, body)
    assert call(base + f"/report/{years.stop}.csv")[0] == 200  # the year after the plan: its late reports
