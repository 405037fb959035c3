"""A real `scheduler run` against clients that connect and stall: /healthz keeps answering, and
SIGTERM stops the daemon within systemd's stop timeout, even in the middle of a long delivery."""

import base64
import collections
import datetime as dt
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT, one_off_plan
from tests.smtp import free_port

pytestmark = pytest.mark.acceptance
PASSWORD = "slow-clients-pw"


def stop_timeout() -> float:
    """TimeoutStopSec of the shipped systemd unit: after it, systemd kills the daemon."""
    text = (ROOT / "deploy" / "scheduler.service").read_text(encoding="utf-8")
    match = re.search(r"^TimeoutStopSec=(\d+)s?$", text, re.M)
    assert match, "the unit sets its stop timeout explicitly"
    return float(match.group(1))


def start(cwd: Path, env_extra: dict, *, open_files: int | None = None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    env.update({"SCHEDULER_HTTP_PORT": str(port), "SCHEDULER_ADMIN_PASSWORD": PASSWORD, **env_extra})

    def limit():
        if open_files is not None:  # as LimitNOFILE=128 in a systemd unit would (soft and hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    command = shutil.which("scheduler", path=str(Path(sys.executable).parent))
    process = subprocess.Popen([command, "run"], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if "level=INFO started" in line:
            return process, port
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"`scheduler run` did not start: {process.stderr.read()}")


def stalled(port: int, count: int) -> list[socket.socket]:
    """Connections that send half a request line and then nothing."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /hea")
        sockets.append(sock)
    return sockets


def healthz(port: int, timeout: float = 20) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
        assert response.status == 200
        return json.loads(response.read())


def drain(process: subprocess.Popen) -> list[str]:
    """The daemon's log, read as it comes (a full pipe would stop the daemon, not the test)."""
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")), daemon=True).start()
    return lines


def test_healthz_answers_while_stalled_connections_pile_up(tmp_path):
    shutil.copy(ROOT / "obligations.toml", tmp_path / "obligations.toml")
    # 128 descriptors: 300 stalled connections held open would leave none for /healthz (or the database).
    process, port = start(tmp_path, {}, open_files=128)
    log = drain(process)
    held = []
    try:
        assert healthz(port) == {"status": "ok", "database": "ok"}
        held = stalled(port, 300)
        assert healthz(port) == {"status": "ok", "database": "ok"}
        held += stalled(port, 50)
        assert healthz(port)["status"] == "ok"
        assert healthz(port)["status"] == "ok"
    finally:
        for sock in held:
            sock.close()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    text = "".join(log)
    assert "level=INFO stopped" in text and "Traceback" not in text
    assert len(log) < 50, f"a flood of clients is not a flood of log lines: {len(log)} lines"


def long_delivery(cwd: Path, recipients: int) -> None:
    """A plan with one deadline ten days from now, owed by an agency with many focal points: the
    first tick mails each of them its 14-day reminder (four days late: still sent)."""
    today = dt.datetime.now(ZoneInfo("Asia/Almaty")).date()
    due = today + dt.timedelta(days=10)
    (cwd / "obligations.toml").write_text(
        one_off_plan("slow-plan", dt.date(today.year, 1, 1), due, coordinator="mvd", last_year=today.year + 1),
        encoding="utf-8")
    rows = ["agency,name,email,role,language"] + [f"labour,Focal {i},focal{i}@labour.example.kz,focal,kk"
                                                   for i in range(recipients)]
    (cwd / "contacts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_sigterm_stops_within_the_units_timeout_despite_slow_clients_and_a_long_delivery(tmp_path, smtp_server):
    long_delivery(tmp_path, recipients=600)
    smtp_server.mailbox.delay = 0.25  # 600 emails over 4 connections: a tick of over half a minute
    process, port = start(tmp_path, {"SCHEDULER_SMTP_HOST": "127.0.0.1", "SCHEDULER_SMTP_PORT": str(smtp_server.port),
                                     "SCHEDULER_SMTP_TLS": "none"})
    held = []
    try:
        deadline = time.monotonic() + 60
        while not smtp_server.mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert smtp_server.mailbox.messages, "the delivery is under way"
        held = stalled(port, 20)
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)  # a keep-alive connection, idle
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200")
        posting = socket.create_connection(("127.0.0.1", port), timeout=10)  # a form whose body never comes
        auth = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        posting.sendall(f"POST /occurrences/1:labour:x/submit HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf=".encode())
        held += [idle, posting]
        time.sleep(0.5)
        assert healthz(port)["status"] == "ok"

        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            _, log = process.communicate(timeout=stop_timeout())
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {stop_timeout():.0f} s after SIGTERM: systemd would kill it mid-delivery")
        took = time.monotonic() - stopped_at
        assert process.returncode == 0, log
        assert "level=INFO stopped" in log and "Traceback" not in log
        sent = len(smtp_server.mailbox.messages)
        assert sent < 600, "it stopped before the end of the delivery"
        print(f"stopped {took:.1f} s after SIGTERM, {sent} of 600 emails sent")
    finally:
        for sock in held:
            sock.close()
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def test_sigterm_during_a_stuck_delivery_ends_the_process_before_systemd_would(tmp_path, smtp_server):
    long_delivery(tmp_path, recipients=10)
    smtp_server.mailbox.delay = 600  # the server takes every message and never answers
    process, port = start(tmp_path, {"SCHEDULER_SMTP_HOST": "127.0.0.1", "SCHEDULER_SMTP_PORT": str(smtp_server.port),
                                     "SCHEDULER_SMTP_TLS": "none"})
    try:
        time.sleep(3)  # the first tick is sending, and waiting
        assert healthz(port)["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        try:
            _, log = process.communicate(timeout=stop_timeout())
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {stop_timeout():.0f} s after SIGTERM")
        assert process.returncode == 1, log  # not a clean stop: the batch in hand was left behind
        assert "level=ERROR stopping without waiting: the tick under way did not finish" in log
        assert "Traceback" not in log
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def test_stopping_while_descriptors_run_out_logs_no_traceback(tmp_path):
    """asyncio re-arms a listening socket one second after accept() found no descriptor left; a stop
    within that second closes the socket first, and the re-arming must not fail on it (it did:
    `ValueError: Invalid file descriptor: -1`, a traceback per failed accept, thousands of them)."""
    shutil.copy(ROOT / "obligations.toml", tmp_path / "obligations.toml")
    process, port = start(tmp_path, {}, open_files=128)
    log = drain(process)
    flooding = threading.Event()
    flooding.set()

    def flood():
        """Stalled connections, on and on, so that accept() keeps running out of descriptors."""
        held: collections.deque[socket.socket] = collections.deque()
        while flooding.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                sock.sendall(b"GET /hea")
                held.append(sock)
            except OSError:
                time.sleep(0.01)
            while len(held) > 400:
                held.popleft().close()
        for sock in held:
            sock.close()

    flooder = threading.Thread(target=flood, daemon=True)
    posting = None
    try:
        assert healthz(port)["status"] == "ok"
        # A request in flight (a form whose body never comes) keeps the server's loop running for
        # the stop's grace, past the second after which asyncio accepts again.
        posting = socket.create_connection(("127.0.0.1", port), timeout=10)
        auth = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        posting.sendall(f"POST /occurrences/1:labour:x/submit HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf=".encode())
        flooder.start()
        deadline = time.monotonic() + 20
        while not any("no file descriptor left" in line for line in log) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("no file descriptor left" in line for line in log), "the flood used up the descriptors"
        time.sleep(1.5)  # a few rounds of running out and accepting again
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        flooding.clear()
        if flooder.is_alive():
            flooder.join(timeout=30)
        if posting is not None:
            posting.close()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    time.sleep(0.2)  # the log's last lines
    text = "".join(log)
    assert "level=INFO stopped" in text, text[-2000:]
    assert "Traceback" not in text and "Invalid file descriptor" not in text, text[:3000]
