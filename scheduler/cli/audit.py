"""`scheduler audit verify`: recompute the record's hash chain. Parse, call `scheduler.app.audit`, print."""

from __future__ import annotations

import sys

import click

from scheduler.cli.base import _settings, cli


@cli.group()
def audit() -> None:
    """The record: every event is a link of a SHA-256 hash chain that anyone can recompute."""


def _anchor(ctx, param, values) -> dict[int, str]:
    import re

    anchors = {}
    for value in values:
        found = re.fullmatch(r"#?(\d{1,12})[:=]([0-9a-fA-F]{8,64})", value.strip())
        if found is None:
            raise click.BadParameter(f"{value!r}: write LINK:HASH, e.g. 57:3f2a9c01d4e5 (the link's number and its "
                                     "hash, or its first 8 characters or more, as a digest or a report printed them)")
        anchors[int(found.group(1))] = found.group(2).lower()
    return anchors


@audit.command("verify")
@click.option("--expect", "anchors", multiple=True, metavar="LINK:HASH", callback=_anchor,
              help="A link's hash as the weekly digest or a report printed it (the full hash or its first "
                   "characters); given again for several. The chain must pass through it.")
def audit_verify(anchors) -> None:
    """Recompute the event chain from its first link. Exit 0 printing the number of links and the
    head (id and hash) when it is intact; exit 1 naming the first event that does not match."""
    from scheduler.app import audit as record
    from scheduler.store.db import check_schema, connect

    engine = connect(_settings().database_url)
    try:
        check_schema(engine)
        verdict = record.verify(engine, anchors)
    finally:
        engine.dispose()
    if verdict.broken is not None:
        print(f"chain broken: first mismatch at {verdict.broken}; the {verdict.count} link(s) before it are intact")
        sys.exit(1)
    print(f"chain intact: {verdict.count} link(s) checked in {verdict.seconds:.2f} s")
    print(f"head: {verdict.head.label()} {verdict.head.hash}")
    for seq in sorted(anchors):
        print(f"link #{seq} has the hash printed ({anchors[seq][:12]}…)")
