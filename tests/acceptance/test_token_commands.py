"""`scheduler tokens add|list|revoke` as installed: the token printed once as the last line and only
its SHA-256 kept; bad input (an unknown agency with its likely code, a taken or unknown name, a bad
role or name) is refused with exit 2, a clear message and no traceback, and nothing is stored; adding
and revoking are links of the record's chain (`audit verify`)."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest


def stored(scheduler) -> tuple:
    """Everything the token commands may change: the tokens and the admin log."""
    with sqlite3.connect(scheduler.cwd / "var" / "scheduler.db") as db:
        return (db.execute("SELECT * FROM api_token ORDER BY id").fetchall(),
                db.execute("SELECT * FROM admin_event ORDER BY id").fetchall(),
                db.execute("SELECT * FROM chain_head").fetchall())


@pytest.fixture
def synced(scheduler):
    done = scheduler("sync")
    assert done.returncode == 0, done.stderr
    return scheduler


def test_a_token_is_printed_once_and_only_its_hash_kept(synced):
    done = synced("tokens", "add", "docflow", "--role", "agency:finance")
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[-1]
    assert token.startswith("sch_") and len(token) == 47
    raw = (synced.cwd / "var" / "scheduler.db").read_bytes()
    assert token.encode() not in raw
    tokens, log, _ = stored(synced)
    assert [(t[1], t[2], t[3], t[4]) for t in tokens] == [("docflow", hashlib.sha256(token.encode()).hexdigest(),
                                                          "agency", "finance")]
    assert [(e[3], e[4]) for e in log] == [("token-add", "token:docflow")] and token not in str(log)

    second = synced("tokens", "add", "monitoring", "--role", "reviewer").stdout.splitlines()[-1]
    assert second != token
    listed = json.loads(synced("tokens", "list", "--format", "json").stdout)
    assert [(t["name"], t["role"], t["revoked"]) for t in listed] == [("docflow", "agency:finance", None),
                                                                       ("monitoring", "reviewer", None)]
    table = synced("tokens", "list").stdout
    assert "docflow" in table and "agency:finance" in table and token not in table

    done = synced("tokens", "revoke", "docflow")
    assert done.returncode == 0 and "revoked" in done.stdout
    listed = {t["name"]: t for t in json.loads(synced("tokens", "list", "--format", "json").stdout)}
    assert listed["docflow"]["revoked"] and listed["monitoring"]["revoked"] is None
    _, log, _ = stored(synced)
    assert [e[3] for e in log] == ["token-add", "token-add", "token-revoke"]
    verified = synced("audit", "verify")
    assert verified.returncode == 0 and "chain intact: 3 link(s)" in verified.stdout
    assert "(admin event 3)" in verified.stdout


BAD = [
    (("tokens", "add", "x", "--role", "agency:finanse"), "unknown agency code 'finanse': did you mean 'finance'?"),
    (("tokens", "add", "x", "--role", "agency:"), "needs the agency's code"),
    (("tokens", "add", "x", "--role", "reviwer"), "did you mean 'reviewer'?"),
    (("tokens", "add", "x", "--role", "admin"), "is not one of observer, reviewer, agency:CODE"),
    (("tokens", "add", "two words", "--role", "observer"), "token name 'two words'"),
    (("tokens", "add", "x" * 65, "--role", "observer"), "1 to 64"),
    (("tokens", "add", "docflow", "--role", "observer"), "a token named 'docflow' already exists"),
    (("tokens", "add", "gone", "--role", "observer"), "a token named 'gone' already exists (revoked"),
    (("tokens", "revoke", "docflw"), "no token named 'docflw': did you mean 'docflow'?"),
    (("tokens", "revoke", "gone"), "already revoked"),
    (("tokens", "add", "x"), "Missing option '--role'"),
]


def test_bad_input_is_refused_and_nothing_is_stored(synced):
    assert synced("tokens", "add", "docflow", "--role", "observer").returncode == 0
    assert synced("tokens", "add", "gone", "--role", "observer").returncode == 0
    assert synced("tokens", "revoke", "gone").returncode == 0
    before = stored(synced)
    for args, words in BAD:  # one store for all: a sync of the shipped plan per case would be slow
        done = synced(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
        assert stored(synced) == before, args
