"""Claims of a process that stopped mid-tick on this machine are taken by the next tick at once,
not when their lease runs out; a live process's claims are left to it."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from scheduler.app.tick import TickReport, deliver, plan_and_record
from scheduler.store.ledger import claim, lease_clock
from tests.integration.test_delivery import at, ledger


def stopped_process_token() -> str:
    """A claim token made by a process that has exited since."""
    made = subprocess.run([sys.executable, "-c", "from scheduler.store import holders; print(holders.token())"],
                          check=True, capture_output=True, text=True)
    return made.stdout.strip()


def test_a_stopped_processs_claims_go_out_at_once_a_live_ones_wait(database_url, smtp_server, make_service):
    service = make_service(database_url, smtp_server)
    now = at(12, 5)
    _, planned = plan_and_record(service, now)
    assert sum(p.send for p in planned) > 2
    claimed = claim(service.engine, now, limit=1, held_at=lease_clock(), token=stopped_process_token())
    mine = claim(service.engine, now, limit=1, held_at=lease_clock())  # this process's own: alive
    assert claimed and mine

    report = TickReport()
    deliver(service, now, report)
    states = Counter(r.state for r in ledger(service))
    assert {r.id for r in ledger(service) if r.state == "claimed"} == {r.id for r in mine}, \
        "the live process's claim is left to its lease; the stopped one's went out"
    assert report.emails_sent == len(smtp_server.mailbox.messages) and states["sent"] >= len(claimed)
    assert not any(r.state == "claimed" and r.id in {c.id for c in claimed} for r in ledger(service))
