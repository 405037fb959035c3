"""A newcomer's first `scheduler run`: it says what lies ahead, who would be mailed and where the
pages are; and `run --clock DATE --speed N` replays a past stretch of the plan into a Maildir."""

import email
import email.policy
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.acceptance.test_daemon_commands import http_get, wait_for
from tests.conftest import ROOT
from tests.smtp import free_port

pytestmark = pytest.mark.acceptance


def start(cwd, *args, env_extra=None):
    command = shutil.which("scheduler", path=os.path.dirname(sys.executable))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}, **(env_extra or {})}
    return subprocess.Popen([command, "run", *args], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)


def open_link(url):
    """A one-time link opened as a person opens it: its page, then the page's button (a POST,
    not followed): the status, where it leads and the cookie it sets."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")  # `?next=`: where it lands
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", target)
    response = connection.getresponse()
    page = response.read().decode()
    if response.status != 200:
        return {"status": response.status, "location": "", "cookie": ""}
    csrf = page.split('id="confirm-form"')[1].split('name="csrf" value="')[1].split('"')[0]
    action = page.split('id="confirm-form"')[0].rsplit('action="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert action == target, "the page's button keeps where the link leads"
    connection.request("POST", action, body=urlencode({"csrf": csrf}),
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "Origin": f"{parts.scheme}://{parts.netloc}"})
    response = connection.getresponse()
    response.read()
    return {"status": response.status, "location": response.getheader("Location") or "",
            "cookie": response.getheader("Set-Cookie") or ""}


def stop(process):
    process.send_signal(signal.SIGTERM)
    rest = process.communicate(timeout=30)[1]
    assert process.returncode == 0, rest
    return rest


def test_the_first_run_says_the_plan_has_ended_nobody_is_mailed_and_where_to_look(scheduler):
    port = free_port()
    process = start(scheduler.cwd, env_extra={"SCHEDULER_HTTP_PORT": str(port)})
    try:
        log = wait_for(process, "tick now=")  # the first tick is logged, even with nothing to do
        # No admin credential on loopback: a one-time link signs the local admin in.
        url = re.search(r"open (http://127\.0\.0\.1:\d+/s/\S+) to sign in as the local admin", log).group(1)
        signed_in = open_link(url)
        assert signed_in["status"] == 303 and signed_in["cookie"].startswith("scheduler_session=")
        assert signed_in["location"] == "/", "the local admin lands on the dashboard"
        page = http_get(f"http://127.0.0.1:{port}/", {"Cookie": signed_in["cookie"].split(";")[0]})
        assert page[0] == 200 and b'id="calendar"' in page[2], "the dashboard, without SCHEDULER_ADMIN_PASSWORD"
        page = http_get(f"http://127.0.0.1:{port}/review", {"Cookie": signed_in["cookie"].split(";")[0]})
        assert page[0] == 200 and b"admin@localhost" in page[2]
        assert open_link(url)["status"] == 410, "the link works once"
        log += stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    # Today (2026) is past the 2021–2023 plan's last deadline.
    assert "the plan ended on 2024-02-09: nothing is due any more" in log
    assert "scheduler run --clock" in log, "and says how to see it at work"
    assert "no contacts: nobody will be emailed" in log
    assert f"dashboard: http://127.0.0.1:{port}/" in log
    assert "database upgraded from revision none (new database) to" in log
    assert "Context impl" not in log and "Running upgrade" not in log, "the store's upgrade is one line"
    # One time zone in every log line: the record's time in UTC, and the instants it names too.
    stamps = re.findall(r"^(\S+) level=", log, re.M)
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps)
    assert all(m.endswith("+00:00") for m in re.findall(r"now=(\S+)", log))
    assert log.count("tick now=") == 1, "idle ticks after the first are not logged at INFO"


def test_a_replay_runs_through_past_deadlines_into_the_maildir(scheduler):
    shutil.copy(ROOT / "examples" / "contacts.csv", scheduler.cwd / "contacts.csv")
    port = free_port()
    # From 8 December 2022 a day goes by every 6 seconds: the due date of the 9 December annual
    # reports comes within seconds.
    process = start(scheduler.cwd, "--clock", "2022-12-08", "--speed", "14400",
                    env_extra={"SCHEDULER_HTTP_PORT": str(port)})
    try:
        log = wait_for(process, "next deadlines: 2022-12-09: 305 deadlines of 40 agencies")
        assert "replaying from 2022-12-07T18:00:00+00:00 at 14400 times" in log
        log += wait_for(process, "focal points will be emailed")
        log += wait_for(process, "tick now=2022-12-09T0", timeout=60)  # 09:00 in Almaty is 03:00 UTC
        status, _, _ = http_get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200
        # The local admin's link and session keep the wall clock: a replayed day (6 s) later, both still work.
        url = re.search(r"open (http://127\.0\.0\.1:\d+/s/\S+) to sign in as the local admin", log).group(1)
        signed_in = open_link(url)
        assert signed_in["status"] == 303 and signed_in["location"] == "/", signed_in
        cookie = {"Cookie": signed_in["cookie"].split(";")[0]}
        status, _, page = http_get(f"http://127.0.0.1:{port}/?lang=en", cookie)
        assert status == 200 and b'class="replay"' in page
        time.sleep(7)  # more than a replayed day
        for path in ("/review?lang=en", "/occurrences/7:finance:2022?lang=en"):
            status, _, page = http_get(f"http://127.0.0.1:{port}{path}", cookie)
            assert status == 200 and b'id="replay"' in page and b"Replay: these pages show the plan" in page, path
        stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert not (scheduler.cwd / "var" / "scheduler.db").exists(), "a replay keeps to its own database"
    assert (scheduler.cwd / "var" / "replay.db").is_file()
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (scheduler.cwd / "var" / "replay-mail" / "new").iterdir()]
    steps = {m["X-Scheduler-Step"] for m in mails}
    assert "due" in steps, steps
    due = [m for m in mails if m["X-Scheduler-Step"] == "due"]
    assert any("2022" in m["X-Scheduler-Occurrences"] for m in due)


def test_a_replay_never_sends_over_smtp(scheduler):
    process = start(scheduler.cwd, "--clock", "2022-12-08", env_extra={"SCHEDULER_SMTP_HOST": "127.0.0.1"})
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "Maildir only" in err and "Traceback" not in err
    speed_alone = start(scheduler.cwd, "--speed", "10")
    _, err = speed_alone.communicate(timeout=60)
    assert speed_alone.returncode == 2 and "--speed goes with --clock" in err
