"""Personal links at the command line: issue one (for a first sign-in, or a person who lost her
emails) and revoke all of a person's links and sessions. Parse, call `scheduler.app.links`, print."""

from __future__ import annotations

import click

from scheduler.cli.base import _plan, _settings, cli, plan_option
from scheduler.cli.operations import open_context
from scheduler.clocks import clock
from scheduler.errors import BadInput


@cli.group()
def links() -> None:
    """Personal links: the URL in every email that signs its person in."""


def _person(ctx, email: str):
    from scheduler.app import people

    person = people.who(ctx.engine, email)
    if person is None:
        raise BadInput(f"{email}: neither a contact (run `scheduler sync`?) nor an enabled user "
                       "(`scheduler users add EMAIL --role …`)")
    return person


@links.command("issue")
@plan_option
@click.argument("email")
def links_issue(plan_path, email) -> None:
    """Print a person's personal link (good for SCHEDULER_LINK_DAYS days); the URL is the last line."""
    from scheduler.app import links as personal
    from scheduler.store.db import session

    settings = _settings()
    ctx = open_context(settings, _plan(plan_path))
    person = _person(ctx, email)
    now = clock()
    with session(ctx.engine) as db:
        url, until = personal.personal_link(ctx, db, person.email, now)
    what = person.staff_role or ", ".join(sorted({r for roles in person.roles.values() for r in roles}))
    print(f"personal link for {person.email} ({what}), good until {until.isoformat()}; anyone who has it "
          "signs in as this person:")
    print(url)


@links.command("revoke")
@plan_option
@click.argument("email")
def links_revoke(plan_path, email) -> None:
    """Revoke every personal link of a person minted so far, and sign out her browsers; the next
    emails carry a new link."""
    from scheduler.app import links as personal

    ctx = open_context(_settings(), _plan(plan_path))
    address = email.strip().lower()
    if "@" not in address:
        raise BadInput(f"{email!r} is not an email address")
    generation, ended = personal.revoke(ctx.engine, address, clock())
    print(f"{address}: every link issued so far is revoked (generation {generation}); {ended} session(s) ended")
