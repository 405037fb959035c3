"""API tokens at the command line: add one (printed once, as the last line), list, revoke. Parse,
call `scheduler.app.tokens`, print."""

from __future__ import annotations

import json
import sys

import click

from scheduler.cli.base import _plan, _settings, cli, plan_option
from scheduler.cli.operations import open_context
from scheduler.clocks import clock


@cli.group()
def tokens() -> None:
    """Tokens of other systems for the JSON API under /api/v1/ (only their SHA-256 is kept)."""


@tokens.command("add")
@plan_option
@click.argument("name")
@click.option("--role", required=True, metavar="observer|reviewer|agency:CODE",
              help="What the token may see and do: as an observer, a reviewer, or the focal point of agency CODE.")
def tokens_add(plan_path, name, role) -> None:
    """Add a token named NAME (the system that uses it) and print it once: the last line. Only its
    SHA-256 is kept; a lost token is revoked and another added."""
    from scheduler.app import tokens as api_tokens

    ctx = open_context(_settings(), _plan(plan_path))
    row, token = api_tokens.add(ctx.engine, ctx.plan, name, role, clock())
    print(f"token {row.name} added, role {api_tokens.Role(row.role, row.agency)}; it is shown only now — keep it "
          "where the system that uses it reads it:")
    print(token)


@tokens.command("list")
@plan_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def tokens_list(plan_path, fmt) -> None:
    """Every token added, live or revoked: name, role, dates (never the token itself)."""
    from scheduler.app import tokens as api_tokens
    from scheduler.cli.output import table
    from scheduler.store.ledger import aware

    ctx = open_context(_settings(), _plan(plan_path))

    def local(moment):
        return aware(moment).astimezone(ctx.timing.zone).isoformat(timespec="minutes") if moment else None

    found = [{"name": r.name, "role": str(api_tokens.Role(r.role, r.agency)), "added": local(r.created_at),
              "by": r.created_by, "last_used": local(r.last_used_at), "revoked": local(r.revoked_at)}
             for r in api_tokens.listing(ctx.engine)]
    if fmt == "json":
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    sys.stdout.write(table(["name", "role", "added", "by", "last used", "revoked"],
                           [[t["name"], t["role"], t["added"], t["by"], t["last_used"] or "", t["revoked"] or ""]
                            for t in found]))


@tokens.command("revoke")
@plan_option
@click.argument("name")
def tokens_revoke(plan_path, name) -> None:
    """Revoke the token named NAME: requests carrying it are refused from now on."""
    from scheduler.app import tokens as api_tokens

    ctx = open_context(_settings(), _plan(plan_path))
    row = api_tokens.revoke(ctx.engine, name, clock())
    print(f"token {row.name} revoked")
