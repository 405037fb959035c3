"""sync, tick, submit, simulate, status and run as a user runs them, against real SMTP on loopback."""

import hashlib
import json
import signal
import subprocess
import time
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance
ALMATY = ZoneInfo("Asia/Almaty")


@pytest.fixture
def deployed(scheduler, smtp_server):
    """The shipped plan and the example contacts, synced into a fresh SQLite database."""
    (scheduler.cwd / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    env = {"SCHEDULER_SMTP_HOST": "127.0.0.1", "SCHEDULER_SMTP_PORT": str(smtp_server.port), "SCHEDULER_SMTP_TLS": "none",
           "SCHEDULER_MAIL_FROM": "scheduler@ministry.example.kz"}
    result = scheduler("sync", env_extra=env)
    assert result.returncode == 0, result.stderr
    assert "1690 added" in result.stdout

    def run(*args):
        return scheduler(*args, env_extra=env)

    return run


def test_a_december_of_ticks_mails_the_right_people_once(deployed, smtp_server):
    forecast = deployed("simulate", "--from", "2022-12-01", "--to", "2022-12-31", "--format", "json")
    assert forecast.returncode == 0, forecast.stderr
    predicted = json.loads(forecast.stdout)
    assert not smtp_server.mailbox.messages, "simulate sends nothing"

    for day in range(1, 32):
        result = deployed("tick", "--now", f"2022-12-{day:02d}T09:00")
        assert result.returncode == 0, result.stderr
    messages = smtp_server.mailbox.messages

    delivered = Counter(
        (m["X-Scheduler-Step"], occurrence.strip(), m["To"].addresses[0].addr_spec)
        for m in messages
        if m["X-Scheduler-Step"] != "digest"  # the weekly digest lists what is still open, every week
        for occurrence in m["X-Scheduler-Occurrences"].split(",")
    )
    assert delivered and max(delivered.values()) == 1, "no notification twice"
    predicted_digests = {(p["at"], p["recipient"]) for p in predicted if p["step"] == "digest"}
    predicted = [p for p in predicted if p["step"] != "digest"]
    assert set(delivered) == {(p["step"], p["occurrence"], p["recipient"]) for p in predicted}, "simulate agrees with tick"
    digests = {(m["Date"].datetime.astimezone(ALMATY).isoformat(), m["To"].addresses[0].addr_spec)
               for m in messages if m["X-Scheduler-Step"] == "digest"}
    # Mondays 5, 12, 19 and 26 December; not 28 November's, three days late at the first tick
    assert digests == predicted_digests and len(digests) == 4
    # the right people, in their language
    finance_focal = [m for m in messages if m["To"].addresses[0].addr_spec == "aigul@minfin.example.kz"]
    assert {m["X-Scheduler-Step"] for m in finance_focal} >= {"reminder-7d", "reminder-1wd", "due", "escalation-1wd"}
    assert all("желтоқсан" in m.get_body(("plain",)).get_content() for m in finance_focal)
    assert not [m for m in messages if m["To"].addresses[0].addr_spec == "head@gpo.example.kz"], "by agreement: no head"
    assert [m["Date"] for m in messages if m["X-Scheduler-Step"] == "digest"]
    # ticking again changes nothing
    again = deployed("tick", "--now", "2022-12-31T09:00")
    assert "emails 0" in again.stdout and len(smtp_server.mailbox.messages) == len(messages)


def test_submit_stops_escalation_and_shows_in_status(deployed, smtp_server):
    assert deployed("tick", "--now", "2022-12-09T09:00").returncode == 0
    result = deployed("submit", "7:finance:2022", "--at", "2022-12-09T16:30", "--note", "No. 12-3/45")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7:finance:2022: submission recorded at 2022-12-09T16:30+06:00"
    assert "already recorded" in deployed("submit", "7:finance:2022").stdout
    deployed("tick", "--now", "2022-12-12T09:00")
    escalations = [m for m in smtp_server.mailbox.messages if m["X-Scheduler-Step"] == "escalation-1wd"]
    listed = [[i.strip() for i in m["X-Scheduler-Occurrences"].split(",")] for m in escalations]
    assert escalations and not [ids for ids in listed if "7:finance:2022" in ids]
    assert [ids for ids in listed if "6:finance:2022" in ids]
    status = deployed("status", "--now", "2022-12-12T10:00").stdout
    finance = next(line for line in status.splitlines() if line.startswith("finance "))
    assert finance.split()[-1] != "0"


def test_unknown_occurrence_and_bad_instants(deployed):
    for args, fragment in [
        (("submit", "7:finance:2099"), "7:finance:2099: no such occurrence"),
        (("tick", "--now", "yesterday"), "--now: 'yesterday' is not an ISO date-time"),
        (("simulate", "--from", "2022-12-31", "--to", "2022-12-01"), "--to 2022-12-01 is before --from 2022-12-31"),
    ]:
        result = deployed(*args)
        assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr


def database_digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("file", "content", "fragment"),
    [
        ("obligations.toml", "schema = 1\n[plan\n", "TOML syntax"),
        ("contacts.csv", "agency,name,email,role,language\nnobody,X,x@example.kz,focal,kk\n", "unknown agency 'nobody'"),
        ("contacts.csv", "agency;name;email\n", "the header must be"),
    ],
)
def test_a_failed_sync_changes_nothing(deployed, scheduler, file, content, fragment):
    database = scheduler.cwd / "var" / "scheduler.db"
    deployed("submit", "7:finance:2022")
    before = deployed("status", "--now", "2022-12-12T10:00").stdout
    (scheduler.cwd / file).write_text(content, encoding="utf-8")
    result = deployed("sync")
    assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr
    (scheduler.cwd / "obligations.toml").write_bytes((ROOT / "obligations.toml").read_bytes())
    (scheduler.cwd / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    assert deployed("status", "--now", "2022-12-12T10:00").stdout == before
    assert database.exists()


def wait_for(process, text, timeout=30):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if line:
            seen.append(line)
            if text in line:
                return "".join(seen)
    raise AssertionError(f"{text!r} not logged within {timeout}s; log:\n{''.join(seen)}")


def test_run_ticks_reloads_on_sighup_and_stops_on_sigterm(scheduler):
    (scheduler.cwd / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    import os
    import shutil
    import sys

    from tests.smtp import free_port

    command = shutil.which("scheduler", path=os.path.dirname(sys.executable))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    port = env["SCHEDULER_HTTP_PORT"] = str(free_port())
    process = subprocess.Popen([command, "run"], cwd=scheduler.cwd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(process, "level=INFO started")
        wait_for(process, "tick now=")
        plan = scheduler.cwd / "obligations.toml"
        good = plan.read_text(encoding="utf-8")
        plan.write_text(good.replace('"anticorruption"', '"anti-corruption"'), encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        log = wait_for(process, "reload refused")
        assert "unknown agency or group 'anti-corruption'" in log
        # The old plan keeps running, so the daemon stays healthy; but the refusal is there to see.
        status, _, body = http_get(f"http://127.0.0.1:{port}/healthz")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok"
        assert health["reload"].startswith("refused: ") and "unknown agency or group 'anti-corruption'" in health["reload"]
        metrics = http_get(f"http://127.0.0.1:{port}/metrics")[2].decode()
        assert "scheduler_reload_failures_total 1.0" in metrics and "scheduler_last_reload_ok 0.0" in metrics
        plan.write_text(good, encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        wait_for(process, "reloaded plan=")
        assert json.loads(http_get(f"http://127.0.0.1:{port}/healthz")[2]) == {"status": "ok", "database": "ok"}
        metrics = http_get(f"http://127.0.0.1:{port}/metrics")[2].decode()
        assert "scheduler_reload_failures_total 1.0" in metrics and "scheduler_last_reload_ok 1.0" in metrics
        process.send_signal(signal.SIGTERM)
        wait_for(process, "stopped")
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_feeds_issue_prints_the_url_last_and_revoke_takes_it(deployed):
    issued = deployed("feeds", "issue", "--agency", "finance")
    assert issued.returncode == 0, issued.stderr
    url = issued.stdout.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:8080/feeds/") and url.endswith(".ics")
    listed = deployed("feeds", "list").stdout
    assert "agency" in listed and "finance" in listed and url.rsplit("/", 1)[1][:-4] not in listed
    assert deployed("feeds", "revoke", url).stdout.strip() == "revoked"
    again = deployed("feeds", "revoke", url)
    assert again.returncode == 2 and "no live feed token" in again.stderr
    second = deployed("feeds", "issue", "--contact", "aigul@minfin.example.kz").stdout.strip().splitlines()[-1]
    assert deployed("feeds", "revoke", "--id", "2").stdout.strip() == "revoked"
    assert deployed("feeds", "revoke", second).returncode == 2, "revoked by its id"
    for args, fragment in [
        (("feeds", "issue", "--agency", "nobody"), "unknown agency code 'nobody'"),
        (("feeds", "issue"), "exactly one of"),
        (("feeds", "issue", "--contact", "stranger@example.kz"), "is no agency's focal point"),
        (("feeds", "revoke", "not a token"), "neither a feed token nor a feed URL"),
    ]:
        result = deployed(*args)
        assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr


def http_get(url, headers=None):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_run_serves_feeds_health_and_metrics_on_loopback(deployed, scheduler):
    import os
    import shutil
    import sys

    from icalendar import Calendar

    from tests.smtp import free_port

    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")},
           "SCHEDULER_HTTP_PORT": str(port), "SCHEDULER_CONTACTS": str(scheduler.cwd / "contacts.csv"),
           "SCHEDULER_ADMIN_PASSWORD": "admin-s3cret-xyz", "SCHEDULER_SMTP_PASSWORD": "smtp-s3cret-xyz"}
    issue = subprocess.run([shutil.which("scheduler", path=os.path.dirname(sys.executable)), "feeds", "issue", "--agency", "finance"],
                           cwd=scheduler.cwd, env=env, capture_output=True, text=True, timeout=60)
    url = issue.stdout.strip().splitlines()[-1]
    assert url.startswith(f"http://127.0.0.1:{port}/feeds/")
    process = subprocess.Popen([shutil.which("scheduler", path=os.path.dirname(sys.executable)), "run"],
                               cwd=scheduler.cwd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        log = wait_for(process, "tick now=")
        assert url.rsplit("/", 1)[1] not in log, "tokens never reach the log"
        assert "s3cret" not in log, "nor do passwords"
        status, headers, body = http_get(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})

        status, headers, body = http_get(url)
        assert status == 200 and headers["content-type"] == "text/calendar; charset=utf-8"
        events = Calendar.from_ical(body).walk("VEVENT")
        expected = json.loads(scheduler("expand", "--agency", "finance", "--format", "json").stdout)
        assert sorted((str(e["UID"]).split("@")[0], e.decoded("DTSTART").isoformat()) for e in events) == sorted(
            (r["id"], r["due"]) for r in expected
        )
        from tests.acceptance.test_ical_js import ical_js

        parsed = ical_js(body)
        assert sorted((e["uid"].split("@")[0], e["start"]) for e in parsed["events"]) == sorted(
            (r["id"], r["due"]) for r in expected
        ), "ical.js reads the same events"
        etag = headers["etag"]
        assert http_get(url, {"If-None-Match": etag})[:1] == (304,)
        assert http_get(url)[2] == body, "unchanged data, identical bytes"

        unknown = http_get(f"http://127.0.0.1:{port}/feeds/{'A' * 32}.ics")
        assert unknown[0] == 404 and unknown[2] == b""
        status, _, text = http_get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and b"scheduler_ticks_total" in text and b'scheduler_overdue_occurrences{agency="finance"}' in text

        assert deployed("feeds", "revoke", url).returncode == 0
        assert http_get(url)[0] == 404
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=30)[1]
        assert process.returncode == 0
        assert "s3cret" not in rest and url.rsplit("/", 1)[1] not in rest
    finally:
        if process.poll() is None:
            process.kill()


def test_report_adds_up_in_every_format(deployed, scheduler):
    import csv
    import io

    from openpyxl import load_workbook

    deployed("submit", "7:finance:2022", "--at", "2022-12-08T12:00")
    deployed("submit", "6:finance:2022", "--at", "2022-12-13T12:00")  # 2 working days late
    args = ("report", "--year", "2022", "--now", "2023-01-16T10:00")
    text = subprocess.run([*_command(), *args, "--format", "csv"], cwd=scheduler.cwd, capture_output=True, timeout=60).stdout
    table = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    rows = {r["agency"]: r for r in csv.DictReader(io.StringIO(text.decode("utf-8-sig")))}
    finance = rows["finance"]
    assert (finance["on_time"], finance["late"], finance["late_working_days"]) == ("1", "1", "2")
    assert int(finance["owed"]) == int(finance["on_time"]) + int(finance["late"]) + int(finance["missing"]) + int(finance["pending"])
    expected = json.loads(deployed("expand", "--from", "2022-01-01", "--to", "2022-12-31", "--format", "json").stdout)
    # every deadline of the year but the placeholders' (listed, not counted), and none of theirs in the table
    assert int(rows["total"]["owed"]) == len([o for o in expected if o["agency"] not in ("ngos", "interested-bodies")])
    assert len(expected) > int(rows["total"]["owed"]) and "ngos" not in rows
    written = deployed(*args, "--format", "xlsx", "--output", str(scheduler.cwd / "r.xlsx"))
    assert written.returncode == 0, written.stderr
    sheet = load_workbook(scheduler.cwd / "r.xlsx").active
    # the CSV's lines by name, in the same order, the counts as numbers and the share as a fraction
    lines = [[c.value for c in row] for row in sheet.iter_rows(min_row=5, max_row=4 + len(table) - 1)]
    assert [line[:8] for line in lines] == [[r[1], *(int(v) for v in r[2:9])] for r in table[1:]]
    assert [None if line[8] is None else round(100 * line[8], 1) for line in lines] == \
        [float(r[9]) if r[9] else None for r in table[1:]]
    html = deployed(*args, "--format", "html").stdout
    assert '<td class="name">Қаржымині</td>' in html and html.count("<tr") == len(rows) + 1
    wrong = deployed("report", "--year", "2031")
    assert wrong.returncode == 2 and "outside the plan's period" in wrong.stderr


def _command():
    import os
    import shutil
    import sys

    return [shutil.which("scheduler", path=os.path.dirname(sys.executable))]


def test_a_tick_whose_every_email_is_refused_fails_and_status_says_why(deployed, smtp_server):
    smtp_server.mailbox.answer = "550 5.1.1 mailbox unavailable"
    result = deployed("tick", "--now", "2022-11-25T09:00")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "none of the 4 email(s) was delivered" in result.stderr  # Monday's digest, 4 days late, is skipped
    assert "aigul@minfin.example.kz (reminder-14d): SMTP" in result.stderr
    status = deployed("status", "--now", "2022-11-25T10:00")
    assert status.returncode == 0, status.stderr
    assert "undelivered in the last 30 days: 4 email(s)" in status.stdout
    assert "550 mailbox unavailable" in status.stdout or "550 5.1.1 mailbox unavailable" in status.stdout
    smtp_server.mailbox.answer = None
    assert deployed("tick", "--now", "2022-12-02T09:00").returncode == 0, "some delivered: exit 0"


def test_simulate_over_a_ticked_span_shows_each_notification_with_its_state(deployed):
    assert deployed("tick", "--now", "2022-12-02T09:00").returncode == 0
    timeline = json.loads(deployed("simulate", "--from", "2022-11-20", "--to", "2022-12-10", "--format", "json").stdout)
    finance = {(r["step"], r["state"]) for r in timeline
               if r["occurrence"] == "7:finance:2022" and r["recipient"] == "aigul@minfin.example.kz"}
    assert finance == {("reminder-14d", "skipped"), ("reminder-7d", "sent"), ("reminder-1wd", "to send"), ("due", "to send")}
    table = deployed("simulate", "--from", "2022-11-20", "--to", "2022-12-10").stdout
    assert "already sent: " in table and "to send: " in table and "skipped" in table
