"""`scheduler audit verify`: recompute the record's hash chain. Parse, call `scheduler.app.audit`, print."""

from __future__ import annotations

import sys

import click

from scheduler.cli import _settings, cli


@cli.group()
def audit() -> None:
    """The record: every event is a link of a SHA-256 hash chain that anyone can recompute."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the event chain from its first link. Exit 0 printing the number of links and the
    head (id and hash) when it is intact; exit 1 naming the first event that does not match."""
    from scheduler.app import audit as record
    from scheduler.store.db import check_schema, connect

    engine = connect(_settings().database_url)
    try:
        check_schema(engine)
        verdict = record.verify(engine)
    finally:
        engine.dispose()
    if verdict.broken is not None:
        print(f"chain broken: first mismatch at {verdict.broken}; the {verdict.count} link(s) before it are intact")
        sys.exit(1)
    print(f"chain intact: {verdict.count} link(s) checked in {verdict.seconds:.2f} s")
    print(f"head: {verdict.head.label()} {verdict.head.hash}")
