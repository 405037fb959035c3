"""Real processes against the machine's PostgreSQL and a real SMTP server: several instances
deliver every notification once; a process killed mid-delivery loses nothing."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT

NOW = "2022-12-12T09:00"  # escalations and reminders for many agencies fall due at once


def contacts_for_everyone(path):
    from scheduler.plan import load_plan

    plan = load_plan(ROOT / "obligations.toml")
    lines = ["agency,name,email,role,language"]
    for code in plan.file.agencies:
        if code in plan.placeholders:
            continue  # named with no addressee: a contact for one is refused
        for role in ("focal", "supervisor", "head"):
            lines.append(f"{code},{role} of {code},{role}@{code}.example.kz,{role},kk")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def deployment(postgres_url, smtp_server, tmp_path):
    (tmp_path / "obligations.toml").write_bytes((ROOT / "obligations.toml").read_bytes())
    contacts_for_everyone(tmp_path / "contacts.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    env.update({"SCHEDULER_DATABASE_URL": postgres_url, "SCHEDULER_SMTP_HOST": "127.0.0.1",
                "SCHEDULER_SMTP_PORT": str(smtp_server.port), "SCHEDULER_SMTP_TLS": "none",
                "SCHEDULER_SECRET_KEY_FILE": str(tmp_path / "secret.key")})

    def start(*args):
        return subprocess.Popen([sys.executable, "-m", "scheduler", *args], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    synced = start("sync")
    assert finish(synced)[0] == 0
    return start


def finish(process, timeout=300):
    """Wait for a process while draining its pipes (a full pipe would block it): (code, out, err)."""
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def delivered_keys(mailbox):
    """(occurrence, step, recipient) of every email; a digest counts once, under its week."""
    keys = Counter()
    for m in mailbox.messages:
        to = m["To"].addresses[0].addr_spec
        if m["X-Scheduler-Step"] == "digest":
            keys[("digest", "digest", to)] += 1
            continue
        for occurrence in m["X-Scheduler-Occurrences"].split(","):
            keys[(occurrence.strip(), m["X-Scheduler-Step"], to)] += 1
    return keys


def sent_keys(rows):
    return {("digest" if o.startswith("digest:") else o, s, r) for o, s, r, state in rows if state == "sent"}


def ledger(url):
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT occurrence_id, step, recipient, state FROM notification")).fetchall()
    engine.dispose()
    return rows


def marked_ids(url) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = set(connection.execute(text("SELECT message_id FROM notification WHERE state = 'sent'")).scalars())
    engine.dispose()
    return found


def test_three_instances_deliver_every_notification_exactly_once(deployment, smtp_server, postgres_url):
    smtp_server.mailbox.delay = 0.005
    processes = [deployment("tick", "--now", NOW) for _ in range(3)]
    outputs = [finish(process) for process in processes]
    assert [code for code, _, _ in outputs] == [0, 0, 0], [err for _, _, err in outputs]
    rows = ledger(postgres_url)
    sent = sent_keys(rows)
    assert len(sent) > 300, "a real load: hundreds of notifications"
    assert {state for *_, state in rows} <= {"sent", "skipped"}, "nothing left pending or claimed"
    delivered = delivered_keys(smtp_server.mailbox)
    assert max(delivered.values()) == 1, "no duplicates"
    assert set(delivered) == sent, "none missing"
    # all three took part: each printed its share of the emails
    shares = [int(out.split("emails ")[1].split(":")[0]) for _, out, _ in outputs]
    assert sum(shares) == len(smtp_server.mailbox.messages) and sum(1 for s in shares if s) >= 2


def test_kill_9_mid_delivery_then_restart_loses_nothing(deployment, smtp_server, postgres_url):
    smtp_server.mailbox.delay = 0.02
    victim = deployment("tick", "--now", NOW)
    deadline = time.monotonic() + 120
    while len(smtp_server.mailbox.messages) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    time.sleep(0.5)  # the server finishes what it had taken
    delivered_before = len(smtp_server.mailbox.messages)
    states = Counter(state for *_, state in ledger(postgres_url))
    assert states["claimed"] + states["pending"] > 0, "killed mid-way, with work left"
    # taken by the server, not yet marked sent by the dead process: these, and only these, may go out again
    in_flight = len({m["Message-ID"] for m in smtp_server.mailbox.messages} - marked_ids(postgres_url))

    # A restart on the same machine, before the lease runs out, recognises the dead process's claims
    # (its pid is gone: scheduler/store/holders.py) and takes them over at once.
    early = deployment("tick", "--now", "2022-12-12T09:05")
    assert finish(early)[0] == 0
    rows = ledger(postgres_url)
    assert {state for *_, state in rows} <= {"sent", "skipped"}
    sent = sent_keys(rows)
    delivered = delivered_keys(smtp_server.mailbox)
    assert set(delivered) == sent, "nothing missing"
    twice = sum(n - 1 for n in Counter(m["Message-ID"] for m in smtp_server.mailbox.messages).values())
    print(f"\nkilled after {delivered_before} emails: {in_flight} taken and not marked, {twice} sent twice")
    assert twice <= in_flight <= 80, "only what was in flight goes out again: a few tens at most"
    assert len(smtp_server.mailbox.messages) > delivered_before


def test_database_outage_the_daemon_reports_it_and_recovers(postgres_url, tmp_path):
    import json
    import urllib.error
    import urllib.request

    from sqlalchemy.engine import make_url

    from tests.proxy import Relay
    from tests.smtp import free_port

    url = make_url(postgres_url)
    relay = Relay(url.port or 5432, url.host or "127.0.0.1")
    relay.start()
    (tmp_path / "obligations.toml").write_bytes((ROOT / "obligations.toml").read_bytes())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    env.update({"SCHEDULER_DATABASE_URL": url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False),
                "SCHEDULER_HTTP_PORT": str(port)})
    daemon = subprocess.Popen([sys.executable, "-m", "scheduler", "run"], cwd=tmp_path, env=env,
                              stderr=subprocess.PIPE, text=True)

    def health():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except OSError:
            return None, None

    def wait_for_status(wanted, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status, body = health()
            if status == wanted:
                return body
            time.sleep(0.3)
        raise AssertionError(f"/healthz never answered {wanted}")

    try:
        wait_for_status(200)
        relay.stop()
        body = wait_for_status(503)
        assert body["status"] == "unhealthy" and body["database"]
        time.sleep(2)
        assert daemon.poll() is None, "the daemon keeps running without its database"
        relay.start()
        assert wait_for_status(200) == {"status": "ok", "database": "ok"}
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        relay.stop()


def test_smtp_down_then_back_everything_delivered_once(deployment, smtp_server, postgres_url):
    smtp_server.stop()
    down = deployment("tick", "--now", NOW)
    code, _, err = finish(down)
    assert code == 1 and "was delivered" in err and "Traceback" not in err, "an outage is not a success"
    states = Counter(state for *_, state in ledger(postgres_url))
    assert states["retry"] > 0 and states["sent"] == 0, "nothing lost: queued for retry"
    smtp_server.start()
    # backoff: 1 minute after the first attempt nothing is due yet at 09:00:30, all of it at 09:02
    early = deployment("tick", "--now", "2022-12-12T09:00:30")
    assert finish(early)[0] == 0 and not smtp_server.mailbox.messages
    again = deployment("tick", "--now", "2022-12-12T09:02")
    assert finish(again)[0] == 0
    rows = ledger(postgres_url)
    assert {state for *_, state in rows} <= {"sent", "skipped"}
    delivered = delivered_keys(smtp_server.mailbox)
    assert max(delivered.values()) == 1 and set(delivered) == sent_keys(rows)
