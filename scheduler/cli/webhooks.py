"""Webhooks at the command line: add an endpoint (its secret printed once, as the last line), list
them, remove one. Parse, call `scheduler.app.webhooks`, print."""

from __future__ import annotations

import json
import sys

import click

from scheduler.cli.base import _plan, _settings, cli, plan_option
from scheduler.cli.operations import open_context
from scheduler.clocks import clock


@cli.group()
def webhooks() -> None:
    """Webhooks: every change of an answer's state or a due date posted to other systems, signed as
    the Standard Webhooks specification says."""


@webhooks.command("add")
@plan_option
@click.argument("url")
@click.option("--events", required=True, metavar="TYPE,TYPE,…",
              help="The event types to send, comma-separated: answer.submitted, answer.accepted, answer.returned, "
                   "answer.closed, answer.reopened, deadline.extended, deadline.extension_revoked, "
                   "deadline.extension_requested, deadline.extension_refused.")
def webhooks_add(plan_path, url, events) -> None:
    """Send the events named to URL, and print the endpoint's signing secret once: the last line.
    The receiver checks each message's webhook-signature with it."""
    from scheduler.app import webhooks as hooks

    ctx = open_context(_settings(), _plan(plan_path))
    row = hooks.add(ctx.engine, url, events, clock())
    print(f"webhook {row.url} added for {row.events.replace(',', ', ')}; its signing secret is shown only now — "
          "give it to the receiver:")
    print(row.secret)


@webhooks.command("list")
@plan_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def webhooks_list(plan_path, fmt) -> None:
    """Every endpoint added: URL, events, dates, whether it was removed or disabled (never its secret)."""
    from scheduler.app import webhooks as hooks
    from scheduler.cli.output import table
    from scheduler.store.ledger import aware

    ctx = open_context(_settings(), _plan(plan_path))

    def local(moment):
        return aware(moment).astimezone(ctx.timing.zone).isoformat(timespec="minutes") if moment else None

    found = [{"url": r.url, "events": r.events.split(","), "added": local(r.created_at), "by": r.created_by,
              "removed": local(r.removed_at), "disabled": local(r.disabled_at), "disabled_reason": r.disabled_reason}
             for r in hooks.listing(ctx.engine)]
    if fmt == "json":
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    sys.stdout.write(table(["url", "events", "added", "removed", "disabled"],
                           [[h["url"], ",".join(h["events"]), h["added"], h["removed"] or "", h["disabled"] or ""]
                            for h in found]))


@webhooks.command("remove")
@plan_option
@click.argument("url")
def webhooks_remove(plan_path, url) -> None:
    """Stop sending to URL: nothing more goes out to it, its messages not yet sent are dropped."""
    from scheduler.app import webhooks as hooks

    ctx = open_context(_settings(), _plan(plan_path))
    row = hooks.remove(ctx.engine, url, clock())
    print(f"webhook {row.url} removed")
