"""The login and sign-in throttles kept in the database, over real HTTP (the daemon's own uvicorn
server on loopback) on SQLite and PostgreSQL: two instances on one database count the same
attempts, a restart forgets none, and the address counted is the peer's unless the peer is a
proxy named in SCHEDULER_TRUSTED_PROXIES."""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import select

from scheduler.daemon import Daemon
from scheduler.store.db import MIGRATIONS, connect, migrate, session
from scheduler.store.tables import ThrottleAttemptRow
from scheduler.web.security import LoginThrottle
from tests.integration.test_web_hardening import CREDENTIAL, call
from tests.integration.web_client import Client, field
from tests.smtp import free_port

NOW = dt.datetime(2022, 12, 12, 5, 0, tzinfo=dt.timezone.utc)
WRONG = ("admin", "a guess")
ASKED = "sign-in link asked for"


@pytest.fixture
def servers(make_service):
    """`start(url)`: one more `scheduler run` HTTP server (Daemon.serve_http, as `run` serves) with a
    service and engine of its own, on the database at `url`; `stop()`: every server started so far."""
    running = []

    def start(url: str, **settings) -> str:
        service = make_service(url)
        if settings:
            service.settings = service.settings.model_copy(update=settings)
        port = free_port()
        server, thread = Daemon(service, lambda: service, lambda: NOW).serve_http("127.0.0.1", port, CREDENTIAL)
        running.append((server, thread, service))
        return f"http://127.0.0.1:{port}"

    def stop() -> None:
        while running:
            server, thread, service = running.pop()
            server.should_exit = True
            thread.join(timeout=15)
            assert not thread.is_alive()
            service.engine.dispose()

    start.stop = stop
    yield start
    stop()


@pytest.fixture
def instances(servers, database_url):
    """As `servers`, on the test's database (SQLite, then PostgreSQL)."""

    def start(**settings) -> str:
        return servers(database_url, **settings)

    start.stop = servers.stop
    return start


def attempts(url: str, purpose: str) -> list[ThrottleAttemptRow]:
    engine = connect(url)
    try:
        with session(engine) as db:
            return list(db.exec(select(ThrottleAttemptRow).where(ThrottleAttemptRow.purpose == purpose)))
    finally:
        engine.dispose()


def test_two_instances_share_the_login_count_and_a_restart_keeps_it(instances, database_url, caplog):
    first, second = instances(), instances()
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        for n in range(10):  # five wrong passwords at each instance, taking turns
            assert call(first if n % 2 else second, "/", auth=WRONG)[0] == 401, n
        status, headers, _ = call(first, "/", auth=CREDENTIAL)
        assert status == 429 and 590 <= int(headers["retry-after"]) <= 600
        assert call(second, "/", auth=CREDENTIAL)[0] == 429, "the other instance refuses it too"
        assert call(second, "/", auth=CREDENTIAL, source="127.0.0.2")[0] == 200, "another address is not affected"
    refused = [r.getMessage() for r in caplog.records if "login refused" in r.getMessage()]
    assert refused == ["login refused for 600 s after 10 failed attempts within 600 s from=127.0.0.1"]
    assert len(attempts(database_url, "login")) == 10, "refused requests are not counted"

    instances.stop()  # both instances stop; one starts again, a new process's engine
    again = instances()
    status, headers, _ = call(again, "/", auth=CREDENTIAL)
    assert status == 429 and 0 < int(headers["retry-after"]) <= 600, "a restart forgets nothing"
    assert call(again, "/", auth=CREDENTIAL, source="127.0.0.2")[0] == 200



def test_a_refusal_by_another_instance_is_seen_within_a_second_or_at_the_first_failure(instances):
    """An instance that has just let an address in takes it as not refused for CLEAR_FOR seconds
    without asking the database (one round trip a second for a script's every request, not one a
    request): another instance's refusal reaches it then, or at the address's first failure there."""
    first, second = instances(), instances()
    assert call(first, "/", auth=CREDENTIAL)[0] == 200
    for _ in range(10):
        assert call(second, "/", auth=WRONG)[0] == 401
    assert call(second, "/", auth=CREDENTIAL)[0] == 429
    assert call(first, "/", auth=WRONG)[0] in (401, 429), "a guess at most, counted"
    assert call(first, "/", auth=CREDENTIAL)[0] == 429, "refused from the first failure on"

    third = instances()
    assert call(third, "/", auth=CREDENTIAL, source="127.0.0.2")[0] == 200
    for _ in range(10):
        assert call(second, "/", auth=WRONG, source="127.0.0.2")[0] == 401
    time.sleep(LoginThrottle.CLEAR_FOR)
    assert call(third, "/", auth=CREDENTIAL, source="127.0.0.2")[0] == 429, "refused within CLEAR_FOR"

def ask(base: str, email: str):
    client = Client(base)
    page = client.get("/signin")[2]
    return client.post_form("/signin", {"csrf": field(page, "csrf", "sign-in-form"), "email": email})


def asked(caplog, count: int) -> list[str]:
    """The sign-in log lines, once `count` requests have been dealt with (after their answers)."""
    deadline = time.monotonic() + 30
    while True:
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(ASKED)]
        if len(lines) >= count:
            return lines
        assert time.monotonic() < deadline, f"{count} sign-in requests never dealt with"
        time.sleep(0.02)


def test_two_instances_share_the_sign_in_count_and_a_restart_keeps_it(instances, database_url, caplog):
    caplog.set_level(logging.INFO, logger="scheduler")
    first, second = instances(), instances()
    for n in range(30):  # the limit, PER_CLIENT, fifteen requests at each instance
        status, _, page = ask(first if n % 2 else second, f"guess{n}@minfin.example.kz")
        assert status == 200 and 'id="sent"' in page
    assert all(line.endswith("nothing sent") and "throttled" not in line for line in asked(caplog, 30))
    status, _, page = ask(first, "aigul@minfin.example.kz")
    assert status == 200 and 'id="sent"' in page, "the same page"
    assert asked(caplog, 31)[-1].endswith(": client throttled, nothing sent")

    instances.stop()
    again = instances()
    ask(again, "aigul@minfin.example.kz")
    assert asked(caplog, 32)[-1].endswith(": client throttled, nothing sent"), "a restart forgets nothing"
    assert len(attempts(database_url, "sign-in")) == 30


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(servers, tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'proxies.db'}"
    # 127.0.0.2 is the reverse proxy; every other address is a client of its own, whatever it says.
    base = servers(url, trusted_proxies="127.0.0.2")
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        for n in range(10):  # an untrusted peer names a new client at each try: counted as itself
            xff = {"X-Forwarded-For": f"198.51.100.{n}"}
            assert call(base, "/", auth=WRONG, source="127.0.0.3", headers=xff)[0] == 401
        assert call(base, "/", auth=CREDENTIAL, source="127.0.0.3", headers={"X-Forwarded-For": "198.51.100.99"})[0] == 429
        assert call(base, "/", auth=CREDENTIAL, source="127.0.0.4")[0] == 200

        for _ in range(10):  # through the proxy: the client it names is counted, not the proxy
            assert call(base, "/", auth=WRONG, source="127.0.0.2", headers={"X-Forwarded-For": "203.0.113.7"})[0] == 401
        status, headers, _ = call(base, "/", auth=CREDENTIAL, source="127.0.0.2", headers={"X-Forwarded-For": "203.0.113.7"})
        assert status == 429 and int(headers["retry-after"]) > 0
        # nginx's $proxy_add_x_forwarded_for: whatever the client claimed, then the address it came from
        chained = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
        assert call(base, "/", auth=CREDENTIAL, source="127.0.0.2", headers=chained)[0] == 429
        assert call(base, "/", auth=CREDENTIAL, source="127.0.0.2", headers={"X-Forwarded-For": "203.0.113.8"})[0] == 200
        assert call(base, "/", auth=CREDENTIAL, source="127.0.0.2")[0] == 200, "the proxy itself is not refused"
    refused = sorted(r.getMessage().rsplit("from=", 1)[1] for r in caplog.records if "login refused" in r.getMessage())
    assert refused == ["127.0.0.3", "203.0.113.7"]
    assert {row.key for row in attempts(url, "login")} == {"127.0.0.3", "203.0.113.7"}


def test_with_no_trusted_proxy_x_forwarded_for_from_loopback_is_ignored(servers, tmp_path, monkeypatch, caplog):
    """uvicorn alone believes X-Forwarded-For from 127.0.0.1, or from FORWARDED_ALLOW_IPS; the
    daemon believes nobody by default, and says that it does not read uvicorn's variable."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    url = f"sqlite:///{tmp_path / 'nobody.db'}"
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        base = servers(url)
    assert "FORWARDED_ALLOW_IPS is not read: name the reverse proxies in SCHEDULER_TRUSTED_PROXIES" in caplog.text
    for n in range(10):
        assert call(base, "/", auth=WRONG, headers={"X-Forwarded-For": f"198.51.100.{n}"})[0] == 401
    assert call(base, "/", auth=CREDENTIAL, headers={"X-Forwarded-For": "198.51.100.50"})[0] == 429
    assert {row.key for row in attempts(url, "login")} == {"127.0.0.1"}


@pytest.fixture
def engine(database_url):
    engine = connect(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def test_a_refusal_lasts_a_window_from_the_last_attempt_and_expired_rows_are_deleted(engine):
    clock = [NOW]
    throttle = LoginThrottle(lambda: engine, limit=3, window=60, clock=lambda: clock[0])
    throttle.PRUNE_EVERY = 0
    other = LoginThrottle(lambda: engine, purpose="sign-in", limit=3, window=3600, clock=lambda: clock[0])
    other.failed("203.0.113.1")
    for second, reached in ((0, False), (10, False), (20, True)):
        clock[0] = NOW + dt.timedelta(seconds=second)
        assert throttle.retry_after("203.0.113.1") is None
        assert throttle.failed("203.0.113.1") is reached
    for second, wait in ((20, 60), (50, 30), (79.5, 1), (80, None), (200, None)):
        clock[0] = NOW + dt.timedelta(seconds=second)
        assert throttle.retry_after("203.0.113.1") == wait, second
    assert throttle.retry_after("203.0.113.2") is None, "only that address"
    assert throttle.failed("203.0.113.1") is False, "a new window, counted from one"
    with session(engine) as db:
        left = db.exec(select(ThrottleAttemptRow.purpose, ThrottleAttemptRow.at)).all()
    assert sorted(purpose for purpose, _ in left) == ["login", "sign-in"], "the login's expired rows went, not others'"


def test_concurrent_attempts_are_each_counted_and_one_reaches_the_limit(engine):
    throttle = LoginThrottle(lambda: engine, limit=10, window=600)
    with ThreadPoolExecutor(max_workers=8) as pool:
        reached = list(pool.map(throttle.failed, ["203.0.113.9"] * 24 + ["203.0.113.10"] * 6))
    assert reached.count(True) == 1, "exactly one attempt is the tenth"
    assert 595 <= throttle.retry_after("203.0.113.9") <= 600
    assert throttle.retry_after("203.0.113.10") is None
    with session(engine) as db:
        assert len(db.exec(select(ThrottleAttemptRow)).all()) == 30


def test_migration_0008_adds_the_throttle_table_to_a_0007_database(database_url):
    engine = connect(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    assert "throttle_attempt" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0008"
    assert "throttle_attempt" in inspect(engine).get_table_names()
    indexes = {index["name"]: index["column_names"] for index in inspect(engine).get_indexes("throttle_attempt")}
    assert indexes == {"ix_throttle_attempt_purpose_key_at": ["purpose", "key", "at"]}
    throttle = LoginThrottle(lambda: engine, limit=1, window=60)
    assert throttle.failed("203.0.113.1") is True and throttle.retry_after("203.0.113.1") == 60
    engine.dispose()
