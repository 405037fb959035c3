"""Commands that work on the database: sync, tick, run, simulate, status, feeds, report (answers: cli/answers.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.bounds import ROW_ID_MAX
from scheduler.clocks import ReplayClock, clock
from scheduler.cli.base import ISO_DATE, _plan, _settings, cli, plan_option
from scheduler.cli.output import table
from scheduler.errors import BadInput

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from scheduler.plan import Plan
    from scheduler.app.context import Context
    from scheduler.settings import Settings

# The store, the use cases and the transports are imported inside the commands that use them: the
# plan-only commands (validate, expand, explain) should start without loading SQLAlchemy and uvicorn,
# and registering the commands (`scheduler --help`) loads neither the plan nor the settings.

UNDELIVERED_DAYS = 30

contacts_option = click.option(
    "--contacts",
    "contacts_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Contacts CSV (default: $SCHEDULER_CONTACTS, or contacts.csv if present).",
)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_instant(text: str | None, option: str, zone: ZoneInfo) -> dt.datetime:
    """An ISO date or date-time; without an offset it is the plan's local time."""
    if text is None:
        return clock()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option}: {text!r} is not an ISO date-time such as 2022-12-09T09:00 or 2022-12-09T09:00+05:00") from None
    from scheduler.bounds import FIRST, LAST, within

    if not within(moment.date()):  # before any arithmetic on it: near year 1 or 9999 it overflows
        raise BadInput(f"{option}: {text!r} is outside the dates this program takes "
                       f"({FIRST.isoformat()} … {LAST.isoformat()})")
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def open_context(settings: Settings, plan: Plan, *, migrate_schema: bool = False) -> Context:
    """The use cases' context on the configured database. Only sync and run create or migrate the schema
    (`migrate_schema`); every other command checks that it is current and changes nothing."""
    from scheduler.app.context import Context
    from scheduler.store.db import check_schema, connect, migrate
    from scheduler.transport import for_settings

    transport = for_settings(settings)  # a Maildir in a missing folder is refused before the database is touched
    engine = connect(settings.database_url)
    if migrate_schema:
        migrate(engine)
    else:
        check_schema(engine)
    return Context(settings, plan, engine, transport)


def _zone(settings: Settings, plan: Plan) -> ZoneInfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.timezone or plan.policy.timezone)


def _context_at(plan_path: Path | None, now_text: str | None) -> tuple[Context, dt.datetime]:
    """The use cases' context on the configured database, and the --now instant (the clock when not given)."""
    settings = _settings()
    plan = _plan(plan_path)
    return open_context(settings, plan), parse_instant(now_text, "--now", _zone(settings, plan))


def load_and_sync(settings: Settings, plan_path: Path | None, contacts_path: Path | None, now: dt.datetime) -> tuple[Context, str]:
    """Validate plan and contacts first; only then touch the database (in one transaction)."""
    from scheduler.plan import load_contacts, load_plan
    from scheduler.store.db import exclusive
    from scheduler.store.sync import sync as sync_store

    plan = load_plan(plan_path or settings.plan)
    contacts_path = contacts_path or settings.contacts_path()
    contacts = load_contacts(contacts_path, plan, settings.smtp_utf8) if contacts_path else None
    ctx = open_context(settings, plan, migrate_schema=True)
    with exclusive(ctx.engine, "sync"):  # instances started together sync one after another
        report = sync_store(ctx.engine, plan, contacts, now, settings.timezone)
    return ctx, str(report)


def _configure_logging() -> None:
    """One line per record, its time in UTC written as such (the times in messages are UTC too)."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s level=%(levelname)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the store says in one line what it upgraded


@cli.command()
@plan_option
@contacts_option
@click.option("--dry-run", is_flag=True, help="Only show what would change (and which recorded answers it touches); change nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="With --dry-run: how the changes are printed.")
def sync(plan_path, contacts_path, dry_run, fmt) -> None:
    """Create or migrate the database and load plan and contacts into it (idempotent)."""
    settings = _settings()
    if dry_run:
        from scheduler.cli.plans import dry_run as show_dry_run

        show_dry_run(settings, plan_path, contacts_path, fmt)
        return
    ctx, report = load_and_sync(settings, plan_path, contacts_path, clock())
    print(f"synced {ctx.engine.url.render_as_string(hide_password=True)}: {report}")


@cli.command()
@plan_option
@click.option("--now", "now_text", metavar="ISO_DATETIME", help="The instant to act at (default: now).")
def tick(plan_path, now_text) -> None:
    """One pass of the daemon's work at that instant: plan what is due and deliver it."""
    ctx, now = _context_at(plan_path, now_text)
    from scheduler.app.tick import tick as run_tick

    report = run_tick(ctx, now)
    print(f"tick at {now.isoformat()}: {report}")
    from scheduler.app.hooks_deliver import deliver as send_webhooks

    hooks = send_webhooks(ctx.engine, now, ctx.lease_clock, ctx.stopping)  # after the emails, as the daemon's own job
    if hooks.busy:
        print(f"  {hooks}")
    _print_failures(report.errors)
    if report.all_failed:
        print(f"scheduler: error: none of the {report.emails} email(s) was delivered", file=sys.stderr)
        sys.exit(1)


def _print_failures(errors: list[str], shown: int = 20) -> None:
    for error in errors[:shown]:
        print(f"  {error}", file=sys.stderr)
    if len(errors) > shown:
        print(f"  … and {len(errors) - shown} more delivery failures", file=sys.stderr)


@cli.command()
@plan_option
@contacts_option
@click.option("--clock", "clock_text", metavar="DATE", help="Replay from this date (or ISO date-time, plan-local): "
              "the daemon's clock starts there. Mail goes into the Maildir only; the database is var/replay.db "
              "unless SCHEDULER_DATABASE_URL is set.")
@click.option("--speed", type=click.FloatRange(min=1, max=10_000_000), default=None,
              help="With --clock: how many times as fast as the wall clock the replayed clock runs "
                   "(1440: a day a minute).")
def run(plan_path, contacts_path, clock_text, speed) -> None:
    """The daemon: sync, serve HTTP, tick every minute until SIGTERM/SIGINT; SIGHUP reloads."""
    from zoneinfo import ZoneInfo

    from scheduler.app.outlook import outlook
    from scheduler.daemon import Daemon
    from scheduler.plan import load_plan
    from scheduler.settings import load_settings

    settings = _settings()
    now_of = clock
    if speed is not None and clock_text is None:
        raise BadInput("--speed goes with --clock DATE (the date the replay starts from)")
    if clock_text is not None:
        settings = _replay_settings(settings)
        zone = settings.timezone or load_plan(plan_path or settings.plan).policy.timezone
        now_of = ReplayClock(parse_instant(_at_start_of_day(clock_text), "--clock", ZoneInfo(zone)), speed or 1)
    credential = settings.admin_credential()
    if credential is None and not is_loopback(settings.http_host):
        raise BadInput(
            f"SCHEDULER_HTTP_HOST={settings.http_host} is reachable beyond this machine: set an admin credential "
            "(SCHEDULER_ADMIN_PASSWORD or SCHEDULER_ADMIN_PASSWORD_FILE) first"
        )
    _configure_logging()
    log = logging.getLogger("scheduler")
    ctx, report = load_and_sync(settings, plan_path, contacts_path, now_of())
    log.info("synced %s", report)
    if isinstance(now_of, ReplayClock):
        log.info("replaying from %s at %g times the wall clock's speed; mail goes to %s",
                 now_of.start.astimezone(dt.timezone.utc).isoformat(),
                 now_of.speed, settings.mail_dir)
    for line in outlook(ctx.engine, ctx.timing.local_day(now_of())).lines(
            f"{settings.public_base_url()}/"):
        log.info("%s", line)
    if credential is None:  # on loopback (checked above): a one-time link for the local admin
        from scheduler.app import local_admin

        # On the real time, as every sign-in link: a replayed clock would end it within seconds.
        url = local_admin.sign_in_url(ctx.engine, settings.public_base_url(), clock())
        log.info("no admin credential is set: open %s to sign in as the local admin (%s; the link works once, "
                 "within %d hours; each start prints a new one)", url, local_admin.EMAIL,
                 local_admin.LASTS.total_seconds() // 3600)

    def reload() -> Context:
        return load_and_sync(_replay_settings(load_settings()) if clock_text else load_settings(),
                             plan_path, contacts_path, now_of())[0]

    tick_every = dt.timedelta(minutes=1)
    if isinstance(now_of, ReplayClock):  # a replayed minute must not take longer than a real one
        tick_every = max(dt.timedelta(seconds=1), tick_every / now_of.speed)
    Daemon(ctx, reload, now_of, tick_every=tick_every, replay=isinstance(now_of, ReplayClock)).run(
        http=(settings.http_host, settings.http_port, credential), owns_process=True)


def _at_start_of_day(text: str) -> str:
    """A bare date replays from the start of that day."""
    return f"{text}T00:00" if len(text) == 10 else text


def _replay_settings(settings: Settings) -> Settings:
    """A replay sends into a Maildir only and, unless a database is named, keeps to its own."""
    if settings.smtp_host:
        raise BadInput("run --clock replays the past into the Maildir only: unset SCHEDULER_SMTP_HOST "
                       f"(now {settings.smtp_host}) so that nobody is emailed about past deadlines")
    update: dict = {}
    if "database_url" not in settings.model_fields_set:
        update["database_url"] = "sqlite:///var/replay.db"
    if "mail_dir" not in settings.model_fields_set:
        update["mail_dir"] = Path("var/replay-mail")
    return settings.model_copy(update=update)


@cli.command()
@plan_option
@click.option("--from", "start", type=ISO_DATE, required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=ISO_DATE, required=True, help="Last day (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def simulate(plan_path, start, end, fmt) -> None:
    """Every notification the daemon would send over the span; sends nothing."""
    settings = _settings()
    plan = _plan(plan_path)
    if end < start:
        raise BadInput(f"--to {end.date()} is before --from {start.date()}")
    from scheduler.app.notices import KINDS as NOTICES
    from scheduler.app.notices import email_step
    from scheduler.app.simulate import simulate

    ctx = open_context(settings, plan)
    timeline = simulate(ctx, start.date(), end.date())
    zone = ctx.timing.zone
    records = [
        {
            "at": at.astimezone(zone).isoformat(),
            "scheduled": p.scheduled_at.astimezone(zone).isoformat(),
            "step": p.step,
            "notice": p.step in NOTICES,  # caused by an answer event: from the ledger, never forecast
            "occurrence": p.occurrence_id,
            "agency": p.agency,
            "recipient": p.email,
            "language": p.language,
            "due": p.due.isoformat(),
            "state": state,
            **({"reason": p.reason} if p.reason else {}),
        }
        for at, p, state in timeline
    ]
    if fmt == "json":
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return
    rows = [[r["at"][:16].replace("T", " "), r["step"], r["occurrence"], r["recipient"], r["state"]] for r in records]
    sys.stdout.write(table(["when", "step", "occurrence", "recipient", "state"], rows))
    for label, states in (("to send", {"to send"}), ("already sent", {"sent"})):
        chosen = [(at, p) for at, p, state in timeline if state in states]
        emails = len({(p.email, email_step(p.step), at) for at, p in chosen})  # a person's notices: one email
        print(f"{label}: {len(chosen)} notification(s) in {emails} email(s)")
    others = Counter(state for _, _, state in timeline if state not in ("to send", "sent"))
    if others:
        print("also: " + ", ".join(f"{n} {state}" for state, n in sorted(others.items())))
    told = Counter(state for _, p, state in timeline if p.step in NOTICES)
    if told:
        print("of these, notices of answers and extensions (never forecast): "
              + ", ".join(f"{n} {state}" for state, n in sorted(told.items())))


@cli.command()
@plan_option
@click.option("--now", "now_text", metavar="ISO_DATETIME", help="The instant to report at (default: now).")
def status(plan_path, now_text) -> None:
    """Overdue and upcoming occurrences per agency."""
    ctx, now = _context_at(plan_path, now_text)
    from scheduler.app import standing

    rows = standing.by_agency(ctx, now)
    body = [[agency, str(o), str(w), str(m), str(s)] for agency, o, w, m, s in rows]
    sys.stdout.write(table(["agency", "overdue", "due ≤ 7 days", "due ≤ 30 days", "submitted"], body))
    failures = standing.undelivered(ctx, now)
    if failures:
        print(f"undelivered in the last {UNDELIVERED_DAYS} days: {len(failures)} email(s) that will not be retried")
        sys.stdout.write(table(["recipient", "step", "occurrences", "why"], [list(f) for f in failures]))


@cli.group()
def feeds() -> None:
    """Calendar subscriptions: issue, revoke and list feed tokens."""


@feeds.command("issue")
@plan_option
@click.option("--agency", help="A feed of this agency's deadlines.")
@click.option("--contact", "email", help="A feed of every agency this person is focal point for.")
@click.option("--all", "everything", is_flag=True, help="A feed of the whole plan.")
def feeds_issue(plan_path, agency, email, everything) -> None:
    """Create a feed token; the feed's URL is the last line printed."""
    from scheduler.feeds import tokens

    if sum(map(bool, (agency, email, everything))) != 1:
        raise BadInput("give exactly one of --agency CODE, --contact EMAIL or --all")
    settings = _settings()
    plan = _plan(plan_path)
    if agency and plan.agency(agency) is None:
        from scheduler.plan.suggest import unknown_agency

        raise BadInput(f"--agency: {unknown_agency(plan, agency)} (in {plan.source})")
    ctx = open_context(settings, plan)
    from scheduler.app import people

    if email and not people.is_focal(ctx.engine, email):
        raise BadInput(f"--contact: {email} is no agency's focal point in the contacts (run `scheduler sync`?)")
    token = tokens.issue(ctx.engine, clock(), agency=agency, email=email)
    scope = f"agency {agency}" if agency else f"contact {email}" if email else "the whole plan"
    print(f"feed for {scope}; the token is shown only now:")
    print(f"{settings.public_base_url()}/feeds/{token}.ics")


@feeds.command("revoke")
@plan_option
@click.argument("token_or_url", required=False)
@click.option("--id", "token_id", type=click.IntRange(1, ROW_ID_MAX),
              help="Revoke by the id `feeds list` shows (for contacts' emailed links).")
def feeds_revoke(plan_path, token_or_url, token_id) -> None:
    """Revoke a feed token: give the token, the feed URL, or --id from `feeds list`."""
    from scheduler.feeds import tokens

    if (token_or_url is None) == (token_id is None):
        raise BadInput("give a token or feed URL, or --id N (one of them)")
    ctx = open_context(_settings(), _plan(plan_path))
    if token_id is not None:
        done = tokens.revoke_id(ctx.engine, token_id, clock())
    else:
        done = tokens.revoke(ctx.engine, tokens.token_from(token_or_url), clock())
    if not done:
        raise BadInput("no live feed token matches (unknown, or already revoked)")
    print("revoked")


@feeds.command("list")
@plan_option
def feeds_list(plan_path) -> None:
    """Every feed token issued: scope and dates (never the token itself)."""
    from scheduler.feeds import tokens

    ctx = open_context(_settings(), _plan(plan_path))
    rows = [
        [str(r.id), r.scope, r.agency or r.email or "*", r.token_hash[:8], r.created_at.isoformat(timespec="minutes"),
         r.revoked_at.isoformat(timespec="minutes") if r.revoked_at else ""]
        for r in tokens.listing(ctx.engine)
    ]
    sys.stdout.write(table(["id", "scope", "for", "sha256", "issued", "revoked"], rows))


@cli.command("report")
@plan_option
@click.option("--kind", type=click.Choice(["compliance", "consolidated"]), default="compliance", show_default=True,
              help="compliance: per agency, on time, late, missing; consolidated: the plan's table with each body's "
                   "information (paragraphs 3.2 and 4 of the resolution).")
@click.option("--year", type=int, help="The year whose deadlines to report on.")
@click.option("--all", "whole_plan", is_flag=True, help="Consolidated: every deadline of the plan instead of one year.")
@click.option("--lang", type=click.Choice(["kk", "ru", "en"]),
              help="The report's language (default: kk): compliance in kk, ru or en; consolidated in kk or ru.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "html", "docx"]),
              help="compliance: csv (default), xlsx or html; consolidated: docx (default) or xlsx.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file (default: stdout).")
@click.option("--now", "now_text", metavar="ISO_DATETIME", help="Report as of this instant (default: now).")
@click.option("--of-plan", "plan_id", metavar="PLAN_ID",
              help="Consolidated, with several plans loaded: the plan to report on (its [plan] id; default: the home plan).")
def report_command(plan_path, kind, year, whole_plan, lang, fmt, output, now_text, plan_id=None) -> None:
    """The compliance table (per agency: owed, on time, late in working days, missing, pending, the
    share on time) in Kazakh, Russian or English, or with --kind consolidated the consolidated
    implementation report (DOCX or XLSX, Kazakh or Russian)."""
    from scheduler import report

    formats = {"compliance": ("csv", "xlsx", "html"), "consolidated": ("docx", "xlsx")}[kind]
    fmt = fmt or formats[0]
    if fmt not in formats:
        other = "compliance" if kind == "consolidated" else "consolidated"
        raise BadInput(f"--format {fmt}: the {kind} report comes as {', '.join(formats)} ({fmt} is for --kind {other})")
    if kind == "compliance":
        if whole_plan:
            raise BadInput("--all: only the consolidated report covers the whole plan (--kind consolidated); "
                           "the compliance report is for one --year")
        if year is None:
            ctx = click.get_current_context()
            raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == "year"))
    elif lang == "en":
        raise BadInput("--lang en: the consolidated report is written in Kazakh or Russian (--lang kk or ru); "
                       "English is for the compliance report (--kind compliance)")
    elif whole_plan and year is not None:
        raise BadInput(f"--year {year} and --all: give one of them")
    elif not whole_plan and year is None:
        raise BadInput("the consolidated report needs --year YEAR or --all (the whole plan)")

    ctx, now = _context_at(plan_path, now_text)
    if plan_id is not None and kind != "consolidated":
        raise BadInput("--of-plan: only the consolidated report is one plan's (--kind consolidated)")
    if year is not None:
        outside = report.year_outside(ctx.plan.years, year)
        if outside:
            raise BadInput(f"--year {outside}")
    today = ctx.timing.local_day(now)
    if kind == "compliance":
        lang = lang or "kk"
        from scheduler.app import standing

        rows = standing.compliance(ctx, year, now, lang)
        meta = ctx.plan.file.plan
        title = getattr(meta, f"title_{lang}", None) or meta.title_kk
        data = {
            "csv": lambda: report.as_csv(rows, lang=lang),
            "xlsx": lambda: report.as_xlsx(rows, year, title=title, today=today, lang=lang),
            "html": lambda: report.as_html(rows, year, title, today, lang=lang),
        }[fmt]()
        done = f"compliance report in {lang}, {len(rows)} agencies, {sum(r.owed for r in rows)} occurrences due in {year}"
    else:
        from scheduler.app import reports

        try:
            consolidated = reports.consolidated(ctx.engine, ctx.plan, ctx.timing.zone, lang=lang or "kk",
                                                year=year, today=today, plan_id=plan_id)
        except KeyError as error:
            raise BadInput(f"--of-plan: {error.args[0]}") from None
        data = reports.write(consolidated, fmt)
        counts = ", ".join(f"{consolidated.counts[s]} {'open, not yet due' if s == 'pending' else s}"
                           for s in ("accepted", "submitted", "returned", "open", "pending", "closed")
                           if consolidated.counts.get(s))
        span = f"due in {year}" if year is not None else "due over the whole plan"
        done = (f"consolidated report in {lang or 'kk'}, {sum(1 for r in consolidated.rows if r.kind == 'obligation')} "
                f"plan rows, {sum(consolidated.counts.values())} occurrences {span}" + (f" ({counts})" if counts else ""))
        unaddressed = sum(e.state == "unaddressed" for r in consolidated.rows for e in r.entries)
        if unaddressed:  # the placeholders' deadlines: listed in the report, not counted
            done += f"; {unaddressed} listed with no addressee, not counted"
    if output is not None:
        try:
            output.write_bytes(data)
        except FileNotFoundError:
            raise BadInput(f"--output {output}: no such folder {output.parent}") from None
        except OSError as error:
            raise BadInput(f"--output {output}: cannot write: {error.strerror}") from None
        print(f"{output}: {done}")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
