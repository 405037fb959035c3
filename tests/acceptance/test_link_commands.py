"""`scheduler links issue` and `links revoke` through the installed command: the printed link is the
one the next email carries, and revoking makes it stale for the web (checked against the store)."""

import datetime as dt

import pytest

from scheduler.app import links
from scheduler.store.db import connect
from tests.acceptance.test_daemon_commands import deployed  # noqa: F401 - the shipped plan, synced

pytestmark = pytest.mark.acceptance


def test_a_link_is_issued_for_a_contact_or_user_and_revoked(deployed, scheduler):  # noqa: F811
    focal = next(line.split(",")[2] for line in (scheduler.cwd / "contacts.csv").read_text(encoding="utf-8").splitlines()[1:]
                 if ",focal," in line)
    issued = deployed("links", "issue", focal)
    assert issued.returncode == 0, issued.stderr
    url = issued.stdout.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:8080/l/") and "(focal)" in issued.stdout
    key = links.key_from(bytes.fromhex((scheduler.cwd / "var" / "secret.key").read_text().strip()))
    engine = connect(f"sqlite:///{scheduler.cwd / 'var' / 'scheduler.db'}")
    now = dt.datetime.now(dt.timezone.utc)
    assert links.check(engine, key, url.rsplit("/", 1)[1], now, dt.timedelta(days=30)).email == focal
    assert deployed("users", "add", "reviewer@gov.kz", "--role", "reviewer").returncode == 0
    assert "(reviewer)" in deployed("links", "issue", "reviewer@gov.kz").stdout

    nobody = deployed("links", "issue", "nobody@example.kz")
    assert nobody.returncode == 2 and "neither a contact" in nobody.stderr and "Traceback" not in nobody.stderr

    revoked = deployed("links", "revoke", focal.upper())
    assert revoked.returncode == 0 and "generation 1" in revoked.stdout
    with pytest.raises(links.LinkRefused) as refused:
        links.check(engine, key, url.rsplit("/", 1)[1], now, dt.timedelta(days=30))
    assert refused.value.status == 410
    engine.dispose()
