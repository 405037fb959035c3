"""Answering a deadline at the command line: submit, accept, return, close, reopen, extend, show; and
the secretariat's users. Parse, call `scheduler.app.answer` / `scheduler.app.users`, print.

The operator acts as an admin; `--by EMAIL` names who acted (default "operator"). Like every command
but sync and run, these check the schema and never create or migrate a database."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from scheduler.cli.base import ISO_DATE, _plan, _settings, cli, plan_option
from scheduler.cli.operations import _zone, open_context, parse_instant
from scheduler.clocks import clock
from scheduler.cli.output import table
from scheduler.errors import BadInput

# The store and the use cases are imported inside the commands (see operations.py).

by_option = click.option("--by", "by", metavar="EMAIL", help="Who acted, for the record (default: operator).")
reason_option = click.option("--reason", required=True, help="Why: kept in the occurrence's history.")


def _actor(by: str | None, occurrence_id: str | None = None):
    from email_validator import EmailNotValidError

    from scheduler.answers import OPERATOR_ACTOR, Actor
    from scheduler.answers.machine import OPERATOR
    from scheduler.plan.contacts import mailbox

    if by is None:
        return OPERATOR_ACTOR
    try:
        return Actor(mailbox(by, smtputf8=True), OPERATOR)
    except EmailNotValidError as error:
        prefix = f"{occurrence_id}: " if occurrence_id else ""
        raise BadInput(f"{prefix}--by: {by!r} is not an email address: {error}") from None


def _read_document(path: Path, limit_mb: int):
    """The file's bytes as an accepted document, or BadInput naming it."""
    from scheduler.answers.files import TooLarge, check_upload

    limit = limit_mb << 20
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise BadInput(f"--file {path}: not a regular file")
            if info.st_size > limit:
                raise BadInput(f"--file {TooLarge(str(path), info.st_size, limit)}")
            content = handle.read(limit + 1)
    except FileNotFoundError:
        raise BadInput(f"--file {path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"--file {path}: not a regular file") from None
    except OSError as error:
        raise BadInput(f"--file {path}: cannot read: {error.strerror}") from None
    try:
        return check_upload(path.name, content, limit)
    except BadInput as error:
        raise BadInput(f"--file {error}") from None


def _named(occurrence_id: str, error: BadInput) -> BadInput:
    """The same refusal, naming the occurrence first when it does not already."""
    text = str(error)
    return error if text.startswith(occurrence_id) else BadInput(f"{occurrence_id}: {text}")


def _next_step(ctx, due: dt.date, moment: dt.datetime | None, occurrence_id: str = "") -> str:
    if moment is None:
        return "no reminder is left to send"
    step = next((s.step for m, s in ctx.timing.steps_for(occurrence_id, due) if m == moment), "next step")
    return f"reminders resume with {step} on {moment.astimezone(ctx.timing.zone).isoformat(timespec='minutes')}"


@cli.command()
@plan_option
@click.argument("occurrence_id")
@click.option("--at", "at_text", metavar="ISO_DATETIME",
              help="When it was received (default: now); not in the future, not before the plan's adoption.")
@click.option("--ref", help="The outgoing letter's registration number.")
@click.option("--ref-date", type=ISO_DATE, help="The outgoing letter's date (YYYY-MM-DD).")
@click.option("--text", help="The information itself.")
@click.option("--file", "files", multiple=True, type=click.Path(path_type=Path),
              help="An attached document: PDF, DOCX, XLSX, PNG or JPEG (may be repeated).")
@click.option("--note", help="A note kept with the submission.")
@click.option("--held-on", "held_on", type=ISO_DATE,
              help='An event row (kind = "event": a sitting, a training): the day it was held (YYYY-MM-DD), '
                   "within its period and not in the future.")
@by_option
def submit(plan_path, occurrence_id, at_text, ref, ref_date, text, files, note, by, held_on=None) -> None:
    """Record a submission: every later reminder and escalation for it stops."""
    from scheduler.app import answer
    from scheduler.calendar.periods import event_of

    settings = _settings()
    plan = _plan(plan_path)
    zone = _zone(settings, plan)
    try:
        at = parse_instant(at_text, "--at", zone)
        actor = _actor(by)
        documents = [_read_document(path, settings.max_upload_mb) for path in files]
    except BadInput as error:
        raise _named(occurrence_id, error) from None
    ctx = open_context(settings, plan)
    with _hinted(plan, occurrence_id):
        done = answer.submit(ctx.engine, ctx.timing, occurrence_id, at=at, now=clock(), actor=actor, ref=ref,
                             ref_date=ref_date.date() if ref_date else None, text=text, note=note, uploads=documents,
                             earliest=plan.plan_of(occurrence_id).adopted, held_on=held_on.date() if held_on else None,
                             event=event_of(plan, occurrence_id))
    from scheduler.store.ledger import aware

    when = aware(done.submission.submitted_at).astimezone(zone).isoformat(timespec="minutes")
    print(f"{occurrence_id}: submission {'already recorded' if done.repeat else 'recorded'} at {when}")
    if done.submission.held_on is not None:
        print(f"{occurrence_id}: held on {done.submission.held_on.isoformat()}")
    elif not done.repeat and event_of(plan, occurrence_id) is not None:
        print(f"scheduler: {occurrence_id} is an event: give the day it was held with --held-on DATE "
              "(reopen and submit again to add it)", file=sys.stderr)
    if done.repeat and any((ref, ref_date, text, files, note, at_text)):
        print(f"scheduler: the submission in force ({done.after}) was kept and nothing new recorded; to replace it, "
              f"`scheduler reopen {occurrence_id} --reason …` first", file=sys.stderr)


def _check_extension(plan, occurrence_id: str, until: dt.date) -> None:
    """An extension's date within the span `scheduler.bounds` allows for the occurrence's plan."""
    from scheduler.bounds import EXTENSION_YEARS, extension_span

    first, last = extension_span(plan.plan_of(occurrence_id))
    if not first <= until <= last:
        raise BadInput(f"{occurrence_id}: --to {until.isoformat()} is outside the dates an extension may name: "
                       f"{first.isoformat()} (the plan's adoption) … {last.isoformat()} ({EXTENSION_YEARS} years "
                       "after the end of its period)")


def _act(plan_path, occurrence_id: str, action: str, by: str | None, **extra):
    from scheduler.app import answer

    settings = _settings()
    plan = _plan(plan_path)
    actor = _actor(by, occurrence_id)
    if extra.get("until") is not None:
        _check_extension(plan, occurrence_id, extra["until"])
    ctx = open_context(settings, plan)
    with _hinted(plan, occurrence_id):
        return ctx, answer.act(ctx.engine, ctx.timing, occurrence_id, action, now=clock(), actor=actor, **extra)


@contextmanager
def _hinted(plan, occurrence_id: str):
    """An occurrence id the database does not hold, refused with what the plan makes of it: the
    obligation or agency it does not know and the id probably meant ("did you mean …?"); one the
    plan produces keeps its advice to run `scheduler sync`."""
    from scheduler.cli.base import _calendar
    from scheduler.errors import UnknownOccurrence
    from scheduler.plan.suggest import occurrence_hint

    try:
        yield
    except UnknownOccurrence as error:
        hint = occurrence_hint(plan, _calendar(plan), occurrence_id)
        if not hint:
            raise
        raise UnknownOccurrence(f"{occurrence_id}: no such occurrence in the plan{hint}") from None


@cli.command()
@plan_option
@click.argument("occurrence_id")
@by_option
def accept(plan_path, occurrence_id, by) -> None:
    """The secretariat accepts the submission."""
    _, done = _act(plan_path, occurrence_id, "accept", by)
    print(f"{occurrence_id}: accepted (was {done.before})")


@cli.command("return")
@plan_option
@click.argument("occurrence_id")
@reason_option
@by_option
def return_command(plan_path, occurrence_id, reason, by) -> None:
    """Send the answer back: owed again, the ladder resumes from the next step due."""
    ctx, done = _act(plan_path, occurrence_id, "return", by, reason=reason)
    print(f"{occurrence_id}: returned (was {done.before}); {_next_step(ctx, done.due, done.next_step_at, occurrence_id)}")


@cli.command()
@plan_option
@click.argument("occurrence_id", required=False)
@click.option("--agency", metavar="CODE", help="Close every deadline this agency still owes (with --year, --before).")
@click.option("--year", type=int, help="Close every deadline still owed that is due in this year.")
@click.option("--before", type=ISO_DATE, help="Close every deadline still owed that is due before this date.")
@reason_option
@by_option
def close(plan_path, occurrence_id, agency, year, before, reason, by) -> None:
    """Close it as not applicable or withdrawn: nothing is owed, no reminders. Or, with --agency,
    --year and/or --before instead of an id, close in one step every deadline still owed (open or
    returned) that they select, each with its own event; nothing matching closes 0."""
    if occurrence_id is not None:
        if agency is not None or year is not None or before is not None:
            raise BadInput(f"{occurrence_id}: give an occurrence id or --agency/--year/--before, not both")
        _, done = _act(plan_path, occurrence_id, "close", by, reason=reason)
        print(f"{occurrence_id}: closed (was {done.before}); no more reminders")
        return
    from scheduler.app import backlog

    selection = backlog.Selection(agency, year, before.date() if before else None)
    if selection.empty:
        raise BadInput("close: give an occurrence id, or --agency CODE, --year YYYY and/or --before DATE")
    plan = _plan(plan_path)
    if agency is not None and plan.agency(agency) is None:
        from scheduler.plan.suggest import did_you_mean

        raise BadInput(f"--agency: agency {agency!r}: no such agency in the plan{did_you_mean(agency, plan.file.agencies)}; "
                       "nothing closed")
    backlog.check(selection, plan)
    actor = _actor(by)
    ctx = open_context(_settings(), plan)
    closed = backlog.close(ctx.engine, ctx.timing, selection, reason=reason, now=clock(), actor=actor)
    print(f"{len(closed)} closed ({selection.described()}); no more reminders for them")


@cli.command()
@plan_option
@click.argument("occurrence_id")
@reason_option
@by_option
def reopen(plan_path, occurrence_id, reason, by) -> None:
    """Undo the latest submission, acceptance or closing: back to the state before it."""
    ctx, done = _act(plan_path, occurrence_id, "reopen", by, reason=reason)
    ladder = _next_step(ctx, done.due, done.next_step_at, occurrence_id) if done.next_step_at or done.after in ("open", "returned") \
        else "no reminders while it is " + done.after
    print(f"{occurrence_id}: reopened: {done.after} (was {done.before}); {ladder}")


@cli.command()
@plan_option
@click.argument("occurrence_id")
@click.option("--to", "until", type=ISO_DATE, help="The new due date (YYYY-MM-DD), later than the plan's.")
@click.option("--revoke", is_flag=True, help="Revoke the extension: the plan's date again.")
@reason_option
@by_option
def extend(plan_path, occurrence_id, until, revoke, reason, by) -> None:
    """Grant an extension (the new date replaces due everywhere), or revoke it."""
    if (until is None) == (not revoke):
        raise BadInput(f"{occurrence_id}: give --to DATE or --revoke (one of them)")
    if revoke:
        ctx, done = _act(plan_path, occurrence_id, "revoke-extension", by, reason=reason)
        print(f"{occurrence_id}: extension revoked: due {done.due.isoformat()} (the plan's date); "
              f"{_next_step(ctx, done.due, done.next_step_at, occurrence_id)}")
        return
    ctx, done = _act(plan_path, occurrence_id, "extend", by, reason=reason, until=until.date())
    print(f"{occurrence_id}: due extended to {done.due.isoformat()} (the plan: {done.plan_due.isoformat()}); "
          f"{_next_step(ctx, done.due, done.next_step_at, occurrence_id)}")


@cli.command()
@plan_option
@click.argument("occurrence_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(plan_path, occurrence_id, fmt) -> None:
    """An occurrence's state, dates, answer and every event ever recorded, oldest first."""
    from scheduler.app import answer

    settings = _settings()
    plan = _plan(plan_path)
    ctx = open_context(settings, plan)
    with _hinted(plan, occurrence_id):
        shown = answer.show(ctx.engine, occurrence_id, ctx.timing.zone)
    from scheduler.calendar.periods import info_of

    info = info_of(plan, occurrence_id)
    shown["kind"] = "event" if info is not None and info.event else "deliverable"
    shown["partial_from"] = info.partial_from.isoformat() if info is not None and info.partial_from else None
    if fmt == "json":
        sys.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2) + "\n")
        return
    lines = [f"occurrence   {shown['id']}", f"state        {shown['state']}", f"due          {shown['due']}"]
    extension = shown["extension"]
    if extension:
        lines.append(f"             extended until {extension['until']} (the plan: {extension['plan_due']}), "
                     f"granted {(extension['granted_at'] or '')[:16]} by {extension['by']}: {extension['reason']}")
    lines.append(f"nominal due  {shown['nominal_due']}")
    if shown["next_step_at"]:
        lines.append(f"next step    {shown['next_step_at'][:16]}")
    submission = shown["submission"]
    if submission:
        letter = f", letter {submission['ref'] or '—'} of {submission['ref_date'] or '—'}" \
            if submission["ref"] or submission["ref_date"] else ""
        lines.append(f"submission   received {submission['at'][:16]}{letter}, recorded by {submission['by'] or 'operator'}")
        if submission.get("held_on"):
            lines.append(f"             held on {submission['held_on']}")
        elif shown["kind"] == "event":
            lines.append("             held on: not recorded")
        for name in ("text", "note"):
            if submission[name]:
                lines.append(f"             {name}: {' '.join(submission[name].split())[:300]}")
        for f in submission["files"]:
            lines.append(f"             file {f['id']}: {f['name']} ({f['content_type']}, {f['size']} bytes, "
                         f"sha256 {f['sha256'][:12]}…)")
    print("\n".join(lines))
    rows = [[e["at"][:16], e["actor"], e["action"], f"{e['from_state']} → {e['to_state']}", _details(e["details"])]
            for e in shown["events"]]
    sys.stdout.write("events\n" + (table(["at", "actor", "action", "state", "details"], rows) if rows else "  none\n"))


def _details(details: dict, width: int = 100) -> str:
    """An event's details on one line: files by name, long texts cut."""
    parts = []
    for key, value in details.items():
        if key == "submission":
            continue
        if key == "files":
            value = ", ".join(f["name"] for f in value)
        parts.append(f"{key}: {' '.join(str(value).split())}")
    line = "; ".join(parts)
    return line if len(line) <= width else line[: width - 1] + "…"


@cli.group()
def users() -> None:
    """The secretariat's users: admin, reviewer or observer."""


@users.command("add")
@plan_option
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "reviewer", "observer"]), required=True)
@click.option("--language", type=click.Choice(["kk", "ru", "en"]), default=None,
              help="Her pages' and emails' language (without it: her browser's, and the plan's for emails).")
def users_add(plan_path, email, role, language) -> None:
    """Add a user (or enable a disabled one again, with this role)."""
    from scheduler.app import users as staff

    settings = _settings()
    ctx = open_context(settings, _plan(plan_path))
    row, again = staff.add(ctx.engine, email, role, clock(), smtputf8=settings.smtp_utf8, language=language)
    said = f", language {row.language}" if row.language else ""
    print(f"{row.email}: {'enabled again' if again else 'added'} as {row.role}{said}")


@users.command("language")
@plan_option
@click.argument("email")
@click.argument("language", type=click.Choice(["kk", "ru", "en"]))
def users_language(plan_path, email, language) -> None:
    """Set a user's own language (her pages and emails)."""
    from scheduler.app import users as staff

    ctx = open_context(_settings(), _plan(plan_path))
    row = staff.set_language(ctx.engine, email, language)
    print(f"{row.email}: language {row.language}")


@users.command("list")
@plan_option
def users_list(plan_path) -> None:
    """Every user, enabled or not."""
    from scheduler.app import users as staff
    from scheduler.store.ledger import aware

    ctx = open_context(_settings(), _plan(plan_path))
    local = lambda moment: aware(moment).astimezone(ctx.timing.zone).isoformat(timespec="minutes") if moment else ""  # noqa: E731
    rows = [[u.email, u.role, u.language or "", local(u.created_at), local(u.disabled_at)] for u in staff.listing(ctx.engine)]
    sys.stdout.write(table(["email", "role", "language", "added", "disabled"], rows))


@users.command("disable")
@plan_option
@click.argument("email")
def users_disable(plan_path, email) -> None:
    """Disable a user: kept in the records, no longer able to act."""
    from scheduler.app import users as staff

    ctx = open_context(_settings(), _plan(plan_path))
    row = staff.disable(ctx.engine, email, clock())
    print(f"{row.email}: disabled")


def stored_extension(occurrence_id: str):
    """The extension that the configured database holds for an occurrence, for `explain`; None when
    there is no database (none is created), it cannot be read, or holds none."""
    url = _settings().database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///").split("?")[0]).is_file():
        return None  # the usual case without a database: no need to load the store at all
    from scheduler.app.answer import extension_of
    from scheduler.errors import SchedulerError
    from scheduler.store.db import check_schema, connect

    try:
        engine = connect(url)
    except SchedulerError:
        return None
    try:
        check_schema(engine)
        return extension_of(engine, occurrence_id)
    except SchedulerError:
        return None
    finally:
        engine.dispose()
