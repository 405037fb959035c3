"""The plan-reading commands: `validate`, `expand` and `explain` (no database needed)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.errors import BadInput
from scheduler.i18n import LANGUAGES

if TYPE_CHECKING:
    pass


# Start-up time: `scheduler --help` and every command's registration import only click and these
# light modules. The plan (pydantic), the settings (pydantic-settings), the calendar (holidays),
# Babel, the store and the rest are imported inside the functions and commands that use them
# (tests/unit/test_cli_startup.py keeps it so; bench/startup.py measures it).


from scheduler.cli.base import ISO_DATE, _calendar, _plan, _settings, _zone, cli, plan_option


@cli.command()
@plan_option
@click.option(
    "--contacts",
    "contacts_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Contacts CSV (default: $SCHEDULER_CONTACTS, or contacts.csv if present).",
)
def validate(plan_path: Path | None, contacts_path: Path | None) -> None:
    """Check the plan (and contacts) and print a summary."""
    from scheduler.calendar.expand import expand_sorted

    plan = _plan(plan_path)
    calendar = _calendar(plan)
    occurrences = expand_sorted(plan, calendar)
    kinds = Counter(o.due.kind for o in plan.obligations)
    agencies = plan.file.agencies
    akimats = sum(1 for a in agencies.values() if a.kind == "akimat")
    for member in plan.plans:
        meta = member.file.plan
        ids = ", ids as numbered" if meta.id == plan.file.plan.id else f", ids {meta.id}/<row>"
        print(f"{member.source}: plan {meta.id}, No. {meta.number} of {meta.date}, period {meta.period.first}–{meta.period.last}"
              + (f", {len(member.obligations)} obligations{ids}" if plan.members else ""))
    print(f"  agencies: {len(agencies)} ({akimats} akimats), groups: {len(plan.file.groups)}, offices: {len(plan.file.offices)}")
    print(f"  obligations: {len(plan.obligations)} ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
    owing = len({o.agency for o in occurrences})
    print(
        f"  occurrences: {len(occurrences)} for {owing} agencies, due "
        f"{occurrences[0].due} … {occurrences[-1].due}"
    )
    contacts_path = contacts_path or _settings().contacts_path()
    if contacts_path is not None:
        from scheduler.plan import load_contacts

        contacts = load_contacts(contacts_path, plan, _settings().smtp_utf8)
        focal = {c.agency for c in contacts if c.role == "focal"}
        uncovered = sorted({o.agency for o in occurrences} - focal)
        print(f"{contacts_path}: {len(contacts)} contacts for {len({c.agency for c in contacts})} agencies")
        if uncovered:
            print(f"  no focal point yet for {len(uncovered)} owing agencies: {', '.join(uncovered)}")
    print("OK")


@cli.command("expand")
@plan_option
@click.option("--from", "start", type=ISO_DATE, help="First due date to show (YYYY-MM-DD).")
@click.option("--to", "end", type=ISO_DATE, help="Last due date to show (YYYY-MM-DD).")
@click.option("--agency", help="Only this agency's occurrences (an agency code).")
@click.option("--obligation", "obligation_id", help="Only this obligation's occurrences (e.g. 7, 8.1, res-4).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "ics"]),
    default="table",
    show_default=True,
)
@click.option("--as-of", "as_of", type=ISO_DATE, help="The plan as in force on this date: later amendments left out.")
def expand_command(plan_path, start, end, agency, obligation_id, fmt, as_of=None) -> None:
    """Every dated deadline per responsible party, sorted by due date then id."""
    from scheduler.calendar.expand import expand_sorted
    from scheduler.cli import output

    plan = _plan(plan_path)
    if as_of is not None:
        plan = plan.as_of(as_of.date())
    if agency is not None and plan.agency(agency) is None:
        from scheduler.plan.suggest import unknown_agency

        raise BadInput(f"--agency: {unknown_agency(plan, agency)} (in {plan.source})")
    if obligation_id is not None and plan.obligation(obligation_id) is None:
        from scheduler.plan.suggest import did_you_mean

        known = [o.id for o in plan.obligations]
        raise BadInput(f"--obligation: the plan {plan.source} has no obligation {obligation_id!r}"
                       f"{did_you_mean(obligation_id, known)}")
    start_day = start.date() if start else None
    end_day = end.date() if end else None
    if start_day and end_day and end_day < start_day:
        raise BadInput(f"--to {end_day} is before --from {start_day}")
    calendar = _calendar(plan)
    found = expand_sorted(plan, calendar, start=start_day, end=end_day, agency=agency, obligation=obligation_id)
    if fmt == "ics":
        sys.stdout.flush()
        sys.stdout.buffer.write(output.as_ics(plan, calendar, found, agency))
        return
    render = {"table": output.as_table, "json": output.as_json, "csv": output.as_csv}[fmt]
    sys.stdout.write(render(plan, found))


@cli.command()
@plan_option
@click.argument("occurrence_id")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="Language of names and dates.")
@click.option("--as-of", "as_of", type=ISO_DATE, help="The plan as in force on this date: later amendments left out.")
def explain(plan_path, occurrence_id: str, lang: str, as_of=None) -> None:
    """How an occurrence's due date was derived: rule, nominal date, every shift."""
    from scheduler.calendar.explain import explain as explain_occurrence
    from scheduler.i18n import long_date, weekday

    plan = _plan(plan_path)
    if as_of is not None:
        plan = plan.as_of(as_of.date())
    calendar = _calendar(plan, lang)
    why = explain_occurrence(plan, calendar, occurrence_id)
    o, ob = why.occurrence, why.obligation

    def day(d: dt.date) -> str:
        return f"{d.isoformat()} ({weekday(d, lang)}, {long_date(d, lang)})"

    agency = plan.agency(o.agency)
    title_other = getattr(ob, f"title_{lang}", None) if lang != "kk" else None
    lines = [f"occurrence   {o.id}"]
    if plan.members:  # several plans loaded: say whose row this is
        meta = plan.plan_of(ob.id).file.plan
        lines.append(f"plan         {meta.id}: No. {meta.number} of {meta.date.isoformat()}, row {ob.id.rpartition('/')[2]}")
    lines.append(f"obligation   {ob.id}: {ob.title_kk}")
    if title_other:
        lines.append(f"             {title_other}")
    lines += [
        f"agency       {o.agency}: {plan.display_name(o.agency, o.nominal_due, lang)}"
        + (" (by agreement)" if agency.by_agreement else ""),
        f"             responsible: {why.responsibility.reason}",
        f"rule         {why.rule} (the program's reading)" + (
            f' — the text: "{ob.deadline_kk}"' if ob.deadline_kk and ob.deadline_kk_source else
            f" — in the program's words, not the source's: {ob.deadline_kk}" if ob.deadline_kk else ""),
        *([f"feeds        {why.linked}"] if why.linked else []),
        *(f"{'text' if i == 0 else '':<12} {line}" for i, line in enumerate(why.text_source)),
        f"period       {o.period}",
        *_period_lines(plan, o, lang),
        f"nominal due  {day(o.nominal_due)}",
    ]
    if why.nominal_transferred_working_day:
        lines.append("             a weekend day made a working day by a transfer of days off")
    lines.append(f"shift        to the {why.direction} working day ({why.direction_source})" if why.direction != "none" else f"shift        none: the nominal date stands ({why.direction_source})")
    for skipped in why.skipped:
        lines.append(f"             {day(skipped.date)} is not a working day: {skipped.reason}")
    if not why.skipped and why.direction != "none":
        lines.append("             the nominal date is a working day: no shift")
    lines.append(f"due          {day(o.due)}")
    from scheduler.cli.answers import stored_extension

    extension = stored_extension(o.id)  # from the database, when one is configured and holds it
    if extension is not None:
        until, plan_due, granted = extension
        how = ""
        if granted is not None:
            reason = json.loads(granted.details).get("reason")
            when = granted.at.replace(tzinfo=granted.at.tzinfo or dt.timezone.utc).astimezone(_zone(plan)).date()
            how = f": granted {when.isoformat()} by {granted.actor}" + (f' — "{reason}"' if reason else "")
        lines.append(f"extended     to {day(until)}{how}")
        if plan_due != o.due:
            lines.append(f"             the database holds the plan's date as {plan_due.isoformat()}: run `scheduler sync`")
    if o.recipient:
        lines.append(
            f"recipient    {o.recipient}: {plan.display_name(o.recipient, o.nominal_due, lang)} ({why.recipient_source})"
        )
    elif why.own_report:
        lines.append(f"recipient    none — {why.recipient_source}")
    if agency.placeholder:
        lines.append("placeholder  named by the plan with no addressee: listed, never mailed, not counted in compliance")
    lines += [f"{'dates' if i == 0 else '':<12} {line}" for i, line in enumerate(why.dating)]
    if ob.form_kk:
        lines.append(f"form         {ob.form_kk}")
    print("\n".join(lines))


def _period_lines(plan, o, lang: str) -> list[str]:
    """explain's words on an event row and on a period the plan covers only in part."""
    from scheduler.calendar.periods import partial_note, period_info, period_span, succession

    info = period_info(plan, o.obligation, o.period, o.agency)
    if info is None:
        return []
    lines = [f"             {info.start.isoformat()} … {info.end.isoformat()}"]
    if info.partial_from is not None:
        lines.append(f"             {partial_note(info)}, {info.partial_why} (the period began "
                     f"{period_span(info.label)[0].isoformat()}); nothing is owed for the days before")
    succeeded = succession(plan, o.agency, info)
    if succeeded:
        lines.append(f"             {succeeded}")
    if info.event:
        lines.append(f"kind         event: must take place between {info.start.isoformat()} and the due date; "
                     f"a period with none recorded is missed")
    return lines
