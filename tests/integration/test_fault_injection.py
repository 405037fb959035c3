"""Fault injection with real processes: three instances started at the same instant on a fresh
database (PostgreSQL and SQLite), one address that the mail server refuses among hundreds of good
ones, and a slow SMTP server. Every good notification arrives exactly once, each person gets one
email per step, and the refused one is recorded and reported."""

import os
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.integration.test_processes import NOW, contacts_for_everyone, delivered_keys, finish, sent_keys
from tests.smtp import SmtpServer

POISON = "айгүл@денсаулық.қаз"  # allowed by SCHEDULER_SMTP_UTF8=true; this server has no SMTPUTF8
POISON_KEPT = "айгүл@xn--80ahdziyp9dx5b.xn--80ao21a"


@pytest.fixture
def strict_slow_server():
    server = SmtpServer(smtputf8=False)
    server.mailbox.delay = 0.01  # every message takes a while: the three instances overlap
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_database(request, tmp_path):
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'var' / 'scheduler.db'}"


def test_three_instances_at_once_with_a_poison_address_and_a_slow_server(fresh_database, strict_slow_server, tmp_path):
    (tmp_path / "obligations.toml").write_bytes((ROOT / "obligations.toml").read_bytes())
    contacts = tmp_path / "contacts.csv"
    contacts_for_everyone(contacts)
    contacts.write_text(contacts.read_text(encoding="utf-8") + f"health,Айгүл Серікова,{POISON},focal,kk\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    env.update({"SCHEDULER_DATABASE_URL": fresh_database, "SCHEDULER_SMTP_HOST": "127.0.0.1",
                "SCHEDULER_SMTP_PORT": str(strict_slow_server.port), "SCHEDULER_SMTP_TLS": "none",
                "SCHEDULER_SMTP_UTF8": "true", "SCHEDULER_SECRET_KEY_FILE": str(tmp_path / "secret.key")})
    scheduler = f"{sys.executable} -m scheduler"
    instances = [
        subprocess.Popen(["sh", "-c", f"{scheduler} sync && {scheduler} tick --now {NOW}"], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [finish(instance) for instance in instances]
    for code, out, err in outputs:
        assert "Traceback" not in err, err
        assert out.count("synced ") == 1, err  # every instance migrated (or found it done) and synced
        # an instance whose only email was the refused one says so and exits 1; the others exit 0
        assert code == 0 or (code == 1 and "none of the" in err), err

    engine = create_engine(fresh_database)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT occurrence_id, step, recipient, state FROM notification")).fetchall()
        errors = connection.execute(text("SELECT DISTINCT error FROM notification WHERE state = 'failed'")).scalars().all()
    engine.dispose()
    good = [r for r in rows if r[2] != POISON_KEPT]
    poison = [r for r in rows if r[2] == POISON_KEPT]
    assert {state for *_, state in good} <= {"sent", "skipped"}, "nothing left pending or claimed"
    assert poison and {state for *_, state in poison} == {"failed", "skipped"}  # skipped: earlier steps caught up
    assert errors and all("SMTPUTF8" in e for e in errors)

    mailbox = strict_slow_server.mailbox
    delivered = delivered_keys(mailbox)
    assert len(delivered) > 300 and max(delivered.values()) == 1, "every good notification exactly once"
    assert set(delivered) == sent_keys(good), "none missing"
    per_step = Counter((m["To"].addresses[0].addr_spec, m["X-Scheduler-Step"]) for m in mailbox.messages)
    assert max(per_step.values()) == 1, "one email per recipient and step"

    status = subprocess.run([sys.executable, "-m", "scheduler", "status", "--now", NOW], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    assert POISON_KEPT in status.stdout and "SMTPUTF8" in status.stdout
