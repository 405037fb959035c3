"""The fault suite with real processes and a real SMTP server: a tick of about 2,000 emails (2,250
focal points of the plan's bodies, 12 December 2022) that

- is killed with SIGKILL at a random point, five times on PostgreSQL and five on SQLite, and then
  restarted as the daemon (`scheduler run`): nothing is lost, what goes out twice is at most what
  the server had taken and the dead process had not yet marked, and everything is delivered within
  a minute of the restart (the dead process's claims are recognised as a stopped process's and taken
  at once, scheduler/store/holders.py, not after their lease);
- loses its PostgreSQL connections every half second (pg_terminate_backend) while it delivers:
  each email goes out once, the tick ends well, nothing stays claimed.

The kill points are drawn from a fixed seed, so a failure can be replayed; the closing figures of
each run are printed (`pytest -s`)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.integration.test_fault_injection import fresh_database  # noqa: F401 - the fixture
from tests.smtp import SmtpServer, free_port

NOW = "2022-12-12T09:00"
FOCAL_POINTS = 2250  # about 2,000 emails at NOW
RESTART_WITHIN = 60.0  # seconds from the restart to the last email


def contacts(path) -> None:
    from scheduler.plan import load_plan

    plan = load_plan(ROOT / "obligations.toml")
    codes = [code for code in plan.file.agencies if code not in plan.placeholders]
    lines = ["agency,name,email,role,language"]
    for n in range(FOCAL_POINTS):
        code = codes[n % len(codes)]
        lines.append(f"{code},Focal {n},focal{n}@{code}.example.kz,focal,{('kk', 'ru', 'en')[n % 3]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Deployment:
    """A folder with the shipped plan and the contacts, a database, and the SMTP server's address."""

    def __init__(self, folder, database_url: str, smtp: SmtpServer):
        self.folder, self.url, self.smtp = folder, database_url, smtp
        (folder / "obligations.toml").write_bytes((ROOT / "obligations.toml").read_bytes())
        contacts(folder / "contacts.csv")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
        self.env.update({"SCHEDULER_DATABASE_URL": database_url, "SCHEDULER_SMTP_HOST": "127.0.0.1",
                         "SCHEDULER_SMTP_PORT": str(smtp.port), "SCHEDULER_SMTP_TLS": "none",
                         "SCHEDULER_SECRET_KEY_FILE": str(folder / "secret.key")})
        assert self.start("sync").wait(timeout=300) == 0

    def start(self, *args, database_url: str | None = None) -> subprocess.Popen:
        env = dict(self.env, SCHEDULER_DATABASE_URL=database_url or self.url, SCHEDULER_HTTP_PORT=str(free_port()))
        return subprocess.Popen([sys.executable, "-m", "scheduler", *args], cwd=self.folder, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ledger(self) -> list[tuple[str, str | None]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text("SELECT state, message_id FROM notification"))]
        finally:
            engine.dispose()


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def wait_for(condition, timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


@pytest.mark.parametrize("run", range(5))
def test_kill_9_mid_tick_then_restart(run, fresh_database, smtp, tmp_path):
    deployment = Deployment(tmp_path, fresh_database, smtp)
    mailbox = smtp.mailbox
    kill_after = random.Random(f"{fresh_database.split(':')[0]}-{run}").randint(20, 1800)

    victim = deployment.start("tick", "--now", NOW)
    assert wait_for(lambda: len(mailbox.messages) >= kill_after or victim.poll() is not None, 300)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    time.sleep(0.5)  # the server finishes what it had taken
    taken = Counter(m["Message-ID"] for m in mailbox.messages)
    rows = deployment.ledger()
    marked = {mid for state, mid in rows if state == "sent"}
    in_flight = len(set(taken) - marked)  # taken by the server, not yet marked by the dead process
    left = Counter(state for state, _ in rows)
    assert left["claimed"] + left["pending"] > 0, "killed mid-way, with work left"

    restarted = time.monotonic()
    daemon = deployment.start("run")
    try:
        done = wait_for(lambda: not {"pending", "claimed", "retry"} & {s for s, _ in deployment.ledger()}, 120, every=0.5)
        elapsed = time.monotonic() - restarted
        time.sleep(0.5)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code, (out, err) = daemon.wait(timeout=60), daemon.communicate()
    assert done, f"still undelivered 120 s after the restart: {Counter(s for s, _ in deployment.ledger())}\n{err[-3000:]}"
    assert code == 0 and "Traceback" not in err, err[-3000:]

    rows = deployment.ledger()
    assert {state for state, _ in rows} <= {"sent", "skipped", "withdrawn"}
    delivered = Counter(m["Message-ID"] for m in mailbox.messages)
    sent = {mid for state, mid in rows if state == "sent"}
    assert set(delivered) == sent, "nothing lost, nothing sent that the ledger does not know"
    twice = sum(n - 1 for n in delivered.values())
    print(f"\n{fresh_database.split(':')[0]} run {run}: killed after {len(taken)} of {len(delivered)} emails; "
          f"{in_flight} taken and not marked, {twice} sent twice; all delivered {elapsed:.1f} s after the restart")
    assert twice <= in_flight, "only what the server had taken and the dead process had not marked goes out again"
    assert in_flight <= 80, "a few tens at most"
    assert elapsed <= RESTART_WITHIN, f"the dead process's claims waited {elapsed:.0f} s\n{err[-3000:]}"


def test_connections_ended_every_half_second_during_a_tick(postgres_url, smtp, tmp_path):
    """As an administrator's pg_terminate_backend, or a failover, would: every connection of the tick
    is ended every 0.5 s for 8 s from its first email on (while it claims, sends and marks)."""
    name = "scheduler-under-fault"
    deployment = Deployment(tmp_path, postgres_url, smtp)
    admin = create_engine(os.environ["SCHEDULER_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    ended = []
    stop = threading.Event()

    def terminate():
        wait_for(lambda: smtp.mailbox.messages or stop.is_set(), 300)
        until = time.monotonic() + 8
        while not stop.wait(0.5) and time.monotonic() < until:
            with admin.connect() as connection:
                ended.extend(connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": name}).scalars())

    tick = deployment.start("tick", "--now", NOW, database_url=f"{postgres_url}?application_name={name}")
    killer = threading.Thread(target=terminate)
    killer.start()
    try:
        out, err = tick.communicate(timeout=600)
    finally:
        stop.set()
        killer.join()
        admin.dispose()
    assert tick.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert sum(ended) >= 3, "connections were ended while the tick ran"
    assert "database fault during" in err
    rows = deployment.ledger()
    assert {state for state, _ in rows} <= {"sent", "skipped"}, Counter(state for state, _ in rows)
    delivered = Counter(m["Message-ID"] for m in smtp.mailbox.messages)
    assert set(delivered) == {mid for state, mid in rows if state == "sent"}
    assert max(delivered.values()) == 1, "no email twice"
    print(f"\n{len(delivered)} emails, {sum(ended)} connections ended during the tick, none sent twice")
