"""Instances started at the same instant: `scheduler sync` and `scheduler run` on a fresh database,
real processes released together from a barrier. Migrations and syncs take turns under a lock (an
advisory lock on PostgreSQL, a file lock beside a SQLite database), so every one exits 0 and the
database ends up with the plan and contacts exactly once."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.integration.conftest import CONTACTS
from tests.smtp import free_port

INSTANCES = 3
ROUNDS = 5

# Import everything first, then wait for the go file: the processes reach the database together,
# not one interpreter start-up apart.
BARRIER = textwrap.dedent(
    """\
    import os, sys, time
    from scheduler.cli import main
    import scheduler.app.tick, scheduler.store.db, scheduler.store.sync
    ready, go = sys.argv[1], sys.argv[2]
    open(ready, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.001)
    main(sys.argv[3:])
    """
)


def environment(database_url, tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    env.update({"SCHEDULER_DATABASE_URL": database_url, "SCHEDULER_SECRET_KEY_FILE": str(tmp_path / "secret.key"),
                "SCHEDULER_MAIL_DIR": str(tmp_path / "mail"), **extra})
    return env


def start_together(tmp_path, args, envs):
    """Start one process per environment, all released at the same instant; returns them."""
    (tmp_path / "obligations.toml").write_bytes((ROOT / "obligations.toml").read_bytes())
    (tmp_path / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    gate = tmp_path / "gate"
    gate.mkdir(exist_ok=True)
    go = gate / "go"
    processes = [
        subprocess.Popen([sys.executable, "-c", BARRIER, str(gate / f"ready-{n}"), str(go), *args], cwd=tmp_path,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n, env in enumerate(envs)
    ]
    deadline = time.monotonic() + 60
    while len(list(gate.glob("ready-*"))) < len(envs):
        assert time.monotonic() < deadline, "the processes never reached the barrier"
        assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        time.sleep(0.01)
    go.touch()
    return processes


def rows(url):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            count = lambda table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: E731
            return {
                "revision": [r for (r,) in connection.execute(text("SELECT version_num FROM alembic_version"))],
                "occurrence": count("occurrence"),
                "agency": count("agency"),
                "contact": count("contact"),
                "emails": sorted(r for (r,) in connection.execute(text("SELECT DISTINCT email FROM contact"))),
            }
    finally:
        engine.dispose()


def head_revision():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(ROOT / "scheduler" / "store" / "migrations")).get_current_head()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_three_syncs_started_together_all_succeed(database_url, tmp_path, round_):
    processes = start_together(tmp_path, ["sync"], [environment(database_url, tmp_path)] * INSTANCES)
    outcomes = [(p.returncode, out, err) for p in processes for out, err in [p.communicate(timeout=240)]]
    assert [code for code, _, _ in outcomes] == [0] * INSTANCES, [err for _, _, err in outcomes]
    assert all("Traceback" not in err for _, _, err in outcomes)
    reports = [out for _, out, _ in outcomes]
    assert sum("1690 added" in out for out in reports) == 1, "the plan was loaded once, the others found it there"
    assert sum("1690 unchanged" in out for out in reports) == INSTANCES - 1
    emails = sorted({line.split(",")[2] for line in CONTACTS.splitlines()[1:]})
    assert rows(database_url) == {"revision": [head_revision()], "occurrence": 1690, "agency": 47,
                                  "contact": len(CONTACTS.splitlines()) - 1, "emails": emails}


def healthz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return None, None


def test_three_daemons_started_together_all_serve_and_stop(postgres_url, tmp_path):
    ports = [free_port() for _ in range(INSTANCES)]
    envs = [environment(postgres_url, tmp_path, SCHEDULER_HTTP_PORT=str(port)) for port in ports]
    processes = start_together(tmp_path, ["run"], envs)
    try:
        waiting = set(range(INSTANCES))
        deadline = time.monotonic() + 180
        while waiting and time.monotonic() < deadline:
            for n in sorted(waiting):
                assert processes[n].poll() is None, processes[n].communicate()
                if healthz(ports[n]) == (200, {"status": "ok", "database": "ok"}):
                    waiting.discard(n)
            time.sleep(0.2)
        assert not waiting, f"instances {sorted(waiting)} never answered /healthz"
        for process in processes:
            process.send_signal(signal.SIGTERM)
        outcomes = [(p.returncode, err) for p in processes for _, err in [p.communicate(timeout=60)]]
        assert [code for code, _ in outcomes] == [0] * INSTANCES, [err for _, err in outcomes]
        assert all("Traceback" not in err for _, err in outcomes), [err for _, err in outcomes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert rows(postgres_url)["occurrence"] == 1690


HOLDER = textwrap.dedent(
    """\
    import sys
    from scheduler.store.db import connect, exclusive
    engine = connect(sys.argv[1])
    with exclusive(engine, "a test"):
        print("held", flush=True)
        sys.stdin.read()
    """
)


def test_a_lock_held_too_long_gives_a_clear_error(database_url, tmp_path):
    from scheduler.store.db import StoreError, connect, exclusive, migrate

    engine = connect(database_url)
    migrate(engine)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"sync: another scheduler has held the database lock for 1 s"):
            with exclusive(engine, "sync", timeout=1):
                pass
        assert 0.9 < time.monotonic() - started < 10
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    with exclusive(engine, "sync", timeout=1):  # free again
        pass
    engine.dispose()
    if database_url.startswith("sqlite"):
        lock = tmp_path / "scheduler.db.lock"
        assert lock.stat().st_mode & 0o777 == 0o600
