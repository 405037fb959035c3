"""Webhooks sent at least once across a crash: a `scheduler tick` killed with SIGKILL mid-send leaves
its claims, which the next tick on the same machine recognises as a stopped process's and takes at
once (not after their lease), sending every message that was outstanding. Real processes, a real
receiver on loopback."""

import os
import signal
import subprocess
import sys
import time

from sqlmodel import select

from scheduler.app import answer, webhooks
from scheduler.store import outbox
from scheduler.store.db import session
from scheduler.store.tables import OccurrenceRow, WebhookDeliveryRow
from tests.conftest import SHIPPED_PLAN
from tests.integration.test_delivery import at
from tests.integration.webhook_receiver import Receiver


def states(service):
    with session(service.engine) as db:
        return {d.message_id: d.state for d in db.exec(select(WebhookDeliveryRow))}


def answered_with_a_slow_receiver(service, receiver, count: int, slow: int) -> None:
    """`count` deadlines answered, each a message to the receiver's /hooks, whose first `slow`
    answers take 1.5 s."""
    webhooks.add(service.engine, receiver.url("/hooks"), "answer.submitted", at(12, 1))
    with session(service.engine) as db:
        owed = list(db.exec(select(OccurrenceRow.id).where(OccurrenceRow.state == "open", OccurrenceRow.status == "active")
                            .order_by(OccurrenceRow.id).limit(count)))
    for oid in owed:
        answer.submit(service.engine, service.timing, oid, at=at(12, 9), now=at(12, 9))
    receiver.plans = {"/hooks": ["slow:1.5"] * slow}



def test_kill_9_mid_send_then_restart_every_message_arrives(database_url, make_service, tmp_path):
    service = make_service(database_url)
    receiver = Receiver()
    try:
        answered_with_a_slow_receiver(service, receiver, 6, slow=3)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
        env.update({"SCHEDULER_DATABASE_URL": database_url, "SCHEDULER_PLAN": str(SHIPPED_PLAN),
                    "SCHEDULER_SECRET_KEY_FILE": str(tmp_path / "secret.key")})

        def tick():
            return subprocess.Popen([sys.executable, "-m", "scheduler", "tick", "--now", "2022-12-09T10:00"],
                                    cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        victim = tick()
        deadline = time.monotonic() + 60
        while len(receiver.seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
        left = states(service)
        assert list(left.values()).count("claimed") >= 4, left

        restarted = time.monotonic()
        late = tick()  # on the same machine: the dead process's claims are taken at once, not after their lease
        out, err = late.communicate(timeout=60)
        assert late.returncode == 0, err
        assert "webhooks sent=" in out, (out, err)
        assert set(states(service).values()) == {"sent"}
        assert time.monotonic() - restarted < outbox.LEASE.total_seconds(), "not after the dead process's lease"
        arrived = {headers["webhook-id"] for _, headers, _ in receiver.received}
        assert arrived == set(states(service)), "every message arrived at least once"
    finally:
        receiver.close()


def test_the_daemon_sends_in_its_own_job_and_a_kill_9_loses_nothing(make_service, tmp_path):
    from tests.smtp import free_port

    database_url = f"sqlite:///{tmp_path / 'daemon.db'}"
    service = make_service(database_url)
    receiver = Receiver()
    processes = []
    try:
        answered_with_a_slow_receiver(service, receiver, 4, slow=2)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
        env.update({"SCHEDULER_DATABASE_URL": database_url, "SCHEDULER_PLAN": str(SHIPPED_PLAN),
                    "SCHEDULER_SECRET_KEY_FILE": str(tmp_path / "secret.key"), "SCHEDULER_HTTP_PORT": str(free_port())})

        def run():
            process = subprocess.Popen([sys.executable, "-m", "scheduler", "run"], cwd=tmp_path, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(process)
            return process

        started = time.monotonic()
        victim = run()
        while len(receiver.seen) < 2 and time.monotonic() - started < 60:
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        assert "claimed" in states(service).values()
        run()
        deadline = time.monotonic() + 90
        while set(states(service).values()) != {"sent"} and time.monotonic() < deadline:
            time.sleep(0.25)
        assert set(states(service).values()) == {"sent"}
        arrived = {headers["webhook-id"] for _, headers, _ in receiver.received}
        assert arrived == set(states(service)), "every message arrived at least once"
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        receiver.close()
