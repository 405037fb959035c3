"""What a plan change does, before it is applied: `scheduler diff OLD NEW` compares two plans'
expansions, `scheduler sync --dry-run` the database with what the plan (and contacts) would make it.
Parse, call `scheduler.plan.diff` (and `scheduler.store.sync.plan_sync`), print."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.cli.base import cli
from scheduler.cli.output import table
from scheduler.plan.diff import Change, compare, counts, date_labelled, entries

if TYPE_CHECKING:
    from scheduler.plan import Plan
    from scheduler.settings import Settings

# The plan, the calendar and the settings are imported inside the commands (see cli/__init__.py).


def load_plan(path: Path) -> Plan:
    """scheduler.plan.load_plan, imported when a command first reads a plan."""
    from scheduler.plan import load_plan as load

    return load(path)

Names = Callable[[str, dt.date], str]
"""A body's name as the secretariat reads it: (code, day) → "Қаржымині (finance)"."""

format_option = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)


def plan_entries(plan: Plan, *, with_form: bool = True):
    from scheduler.calendar.expand import expand
    from scheduler.calendar.workdays import WorkdayCalendar

    return entries(plan, expand(plan, WorkdayCalendar(plan.policy.holidays)), with_form=with_form)


def plan_names(*plans: Plan, fallback: dict[str, str] | None = None) -> Names:
    """Names from the first plan that knows the body (the new plan first), then `fallback`."""

    def name(code: str | None, day: dt.date) -> str:
        if code is None:
            return "—"
        for plan in plans:
            if code == "government" or plan.agency(code) is not None or code in plan.file.offices:
                return f"{plan.display_name(code, day, 'kk', short=True)} ({code})"
        if fallback and code in fallback:
            return f"{fallback[code]} ({code})"
        return code

    return name


@cli.command("diff")
@click.argument("old_plan", type=click.Path(path_type=Path))
@click.argument("new_plan", type=click.Path(path_type=Path))
@format_option
def diff_command(old_plan: Path, new_plan: Path, fmt: str) -> None:
    """What changing OLD_PLAN into NEW_PLAN does to the deadlines: who gains or loses which one,
    which move, whose report goes elsewhere. Exits 0 whether or not anything changed."""
    old, new = load_plan(old_plan), load_plan(new_plan)
    changes = compare(plan_entries(old), plan_entries(new), date_labelled(new))
    names = plan_names(new, old)
    if fmt == "json":
        sys.stdout.write(as_json(changes, names))
    else:
        sys.stdout.write(f"{old_plan} → {new_plan}\n")
        sys.stdout.write(as_table(changes, names, order=_agency_order(new, old)))


@cli.command("new-plan")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--id", "plan_id", help="The plan's code (default: plan-FROM-TO), lowercase ASCII words joined by hyphens.")
@click.option("--title-kk", "title_kk", help="The plan's title in Kazakh (default: a placeholder to replace).")
@click.option("--from", "first", type=int, help="The plan's first year (default: this year).")
@click.option("--to", "last", type=int, help="The plan's last year (default: FROM + 2).")
def new_plan_command(path: Path, plan_id: str | None, title_kk: str | None, first: int | None, last: int | None) -> None:
    """Write a skeleton plan to PATH for the secretariat to fill in: [plan], [policy] with the
    contract's defaults, the shipped plan's bodies (same codes) and three example rows, every field
    explained in Kazakh and Russian. Never overwrites a file; the skeleton passes `validate`."""
    import re
    import tempfile

    from scheduler.clocks import clock
    from scheduler.errors import BadInput
    from scheduler.plan.skeleton import render

    first = clock().year if first is None else first
    last = first + 2 if last is None else last
    plan_id = plan_id if plan_id is not None else f"plan-{first}-{last}"
    problems = []
    if not 1900 <= first <= 2200 or not 1900 <= last <= 2200:
        problems.append(f"--from {first} --to {last}: years are written in full, between 1900 and 2200 (e.g. --from 2024)")
    elif last < first:
        problems.append(f"--to {last} is before --from {first}")
    elif last - first > 20:
        problems.append(f"--from {first} --to {last}: a plan of more than 20 years? give the plan's own years")
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", plan_id) or len(plan_id) > 64:
        problems.append(f"--id {plan_id!r}: lowercase Latin letters and digits joined by hyphens, e.g. kz-tip-2024-2026")
    if title_kk is not None and (not title_kk.strip() or any(ord(c) < 32 for c in title_kk)):
        problems.append("--title-kk: give the title as one line of text")
    if path.exists() or path.is_symlink():
        problems.append(f"{path} already exists: new-plan never overwrites a file; give another name or move it away")
    elif not path.parent.is_dir():
        problems.append(f"{path}: no such folder {path.parent}")
    if problems:
        raise BadInput("new-plan: nothing written: " + "; ".join(problems))

    text = render(plan_id, first, last, title_kk.strip() if title_kk is not None else None)
    with tempfile.TemporaryDirectory() as scratch:  # checked before it is written where asked
        trial = Path(scratch) / path.name
        trial.write_text(text, encoding="utf-8")
        plan = load_plan(trial)
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise BadInput(f"new-plan: nothing written: {path} already exists: new-plan never overwrites a file") from None
    except OSError as error:
        raise BadInput(f"new-plan: nothing written: {path}: {error.strerror}") from None
    occurrences = len(plan_entries(plan, with_form=False))
    print(f"wrote {path}: plan {plan_id}, period {first}–{last}, {len(plan.file.agencies)} bodies, "
          f"{len(plan.obligations)} example obligations ({occurrences} occurrences)")
    print(f"it passes `scheduler validate --plan {path}` as written; replace the placeholders and examples "
          f"(the comments say what each field takes), then validate again")


# --- rendering ---------------------------------------------------------------------------------


def _day(change: Change) -> dt.date:
    return change.subject.nominal_due


def as_json(changes: Sequence[Change], names: Names, notes: dict[int, dict] | None = None) -> str:
    records = []
    for index, change in enumerate(changes):
        record = change.record()
        record["agency_name"] = names(change.agency, _day(change))
        if change.change == "responsible":
            record["agency_after_name"] = names(change.new.agency, change.new.nominal_due)
        if notes is not None:
            note = notes.get(index)
            record["answer"] = note["answer"] if note else None
            record["consequence"] = note["consequence"] if note else None
        records.append(record)
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def _short(value, width: int = 60) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def what(change: Change, names: Names, side: str = "old") -> str:
    """The change in words, for the table (`side`: whose group the line is in, for a swap)."""
    c = change
    if c.change == "added":
        return "new deadline: " + _short(c.new.title, 48)
    if c.change == "removed":
        return "deadline dropped: " + _short(c.old.title, 44)
    if c.change == "moved":
        text = f"due date {c.old.due.isoformat()} → {c.new.due.isoformat()}"
        if "id" in c.fields:
            text += f" (a fresh database names it {c.new.id})"
        return text
    if c.change == "recipient":
        return f"report to: {names(c.old.recipient, c.old.nominal_due)} → {names(c.new.recipient, c.new.nominal_due)}"
    if c.change == "responsible":
        if side == "old":
            return f"no longer owed: passes to {names(c.new.agency, c.new.nominal_due)} as {c.new.id}"
        return f"newly owed: taken over from {names(c.old.agency, c.old.nominal_due)} ({c.old.id})"
    label = {"title": "title", "form": "form", "nominal_due": "nominal date"}.get(c.field or "", c.field or "")
    return f"{label}: {_short(_plain(c.before), 40)} → {_short(_plain(c.after), 40)}"


def _plain(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _agency_order(*plans: Plan) -> list[str]:
    order: dict[str, None] = {}
    for plan in plans:
        order.update(dict.fromkeys(plan.file.agencies))
    return list(order)


def as_table(changes: Sequence[Change], names: Names, *, order: Sequence[str] = (),
             notes: dict[int, dict] | None = None) -> str:
    """Grouped by agency: who gains or loses which deadline. A swap shows under both bodies."""
    if not changes:
        return "no changes: both give the same deadlines\n"
    groups: dict[str, list[tuple[int, Change, str]]] = {}
    for index, change in enumerate(changes):
        groups.setdefault(change.agency, []).append((index, change, "old"))
        if change.change == "responsible":
            groups.setdefault(change.new.agency, []).append((index, change, "new"))
    rank = {code: n for n, code in enumerate(order)}
    out = []
    for code in sorted(groups, key=lambda c: (rank.get(c, len(rank)), c)):
        rows = []
        for index, change, side in groups[code]:
            shown = change.new.id if side == "new" else change.occurrence
            due_before = change.old.due.isoformat() if change.old is not None and side == "old" else ""
            due_after = change.new.due.isoformat() if change.new is not None and (side == "new" or change.change != "responsible") else ""
            rows.append([shown, change.change, due_before, due_after, what(change, names, side)])
            note = (notes or {}).get(index)
            if note and note.get("consequence") and side == "old":
                rows.append(["", "", "", "", "! " + note["consequence"]])
        day = groups[code][0][1].subject.nominal_due
        out.append(f"{names(code, day)}: {len(groups[code])} change(s)\n")
        out.append(_indent(table(["occurrence", "change", "due before", "due after", "what"], rows, stretch=4)))
        out.append("\n")
    tally = ", ".join(f"{n} {kind}" for kind, n in counts(changes).items() if n)
    out.append(f"{len(changes)} change(s) for {len(groups)} agencies: {tally}\n")
    return "".join(out)


def _indent(text: str) -> str:
    return "".join("  " + line if line.strip() else line for line in text.splitlines(keepends=True))


# --- sync --dry-run ---------------------------------------------------------------------------


def dry_run(settings: Settings, plan_path: Path | None, contacts_path: Path | None, fmt: str) -> None:
    """What `scheduler sync` would change, and what it means for answers already recorded; changes
    nothing (not even the schema: a database that needs an upgrade is refused as by `status`)."""
    from sqlmodel import Session, select

    from scheduler.plan import load_contacts
    from scheduler.store.db import check_schema, connect, shown
    from scheduler.store.sync import expansion, plan_sync
    from scheduler.store.tables import AgencyRow, ContactRow, OccurrenceRow, SubmissionRow

    plan = load_plan(plan_path or settings.plan)
    contacts_path = contacts_path or settings.contacts_path()
    contacts = load_contacts(contacts_path, plan, settings.smtp_utf8) if contacts_path else None
    engine = connect(settings.database_url)
    check_schema(engine)
    with Session(engine) as db:  # read only: never committed, rolled back on leaving
        existing = {row.id: row for row in db.exec(select(OccurrenceRow))}
        stored_contacts = {(c.agency, c.email, c.role) for c in db.exec(select(ContactRow))}
        stored_names = {a.code: a.short_kk for a in db.exec(select(AgencyRow))}
        submissions = {s.id: s for s in db.exec(select(SubmissionRow).where(SubmissionRow.id.in_(
            [r.submission_id for r in existing.values() if r.submission_id is not None] or [-1])))}
        db.expunge_all()  # detached as loaded; leaving the block rolls back what little was read
    engine.dispose()

    wanted = expansion(plan)
    planned = plan_sync(plan, wanted, existing)
    old = [
        _stored_entry(row) for row in existing.values() if row.status == "active"
    ]
    new = entries(plan, wanted.values(), with_form=False)  # the database keeps no form
    changes = compare(old, new, date_labelled(plan))
    notes = {}
    for index, change in enumerate(changes):
        note = _consequence(change, existing, submissions)
        if note:
            notes[index] = note
    names = plan_names(plan, fallback=stored_names)
    c = planned.counts
    summary = (f"dry run, nothing changed in {shown(engine)}: sync would make occurrences: {c['added']} added, "
               f"{c['moved']} moved, {c['changed']} changed, {c['cancelled']} cancelled, {c['restored']} restored, "
               f"{c['unchanged']} unchanged; ")
    if contacts is None:
        summary += "contacts: kept (no contacts file)"
    else:
        wanted_contacts = {(x.agency, x.email, x.role) for x in contacts}
        summary += (f"contacts: {len(stored_contacts)} → {len(wanted_contacts)} "
                    f"({len(wanted_contacts - stored_contacts)} added, {len(stored_contacts - wanted_contacts)} removed)")
    answered = sum(1 for n in notes.values() if n.get("answer"))
    if answered:
        summary += f"; {answered} change(s) touch an answer already recorded"
    if fmt == "json":
        click.echo(summary, err=True)
        sys.stdout.write(as_json(changes, names, notes))
    else:
        print(summary)
        sys.stdout.write(as_table(changes, names, order=_agency_order(plan), notes=notes))


def _stored_entry(row):
    from scheduler.plan.diff import Entry

    # Compared with the plan's date: an extended occurrence keeps the plan's own date in plan_due.
    plan_due = row.plan_due if row.extended_until is not None and row.plan_due is not None else row.due
    return Entry(row.id, row.obligation, row.agency, row.period, row.nominal_due, plan_due, row.recipient,
                 row.title_kk, None)


def _consequence(change: Change, existing: dict, submissions: dict) -> dict | None:
    """What the change means for the answer recorded on the stored occurrence, if any."""
    if change.change == "added":
        row = existing.get(change.occurrence)
        if row is None:
            return None
        answer = _answer(row, submissions)
        text = "restored: it was cancelled" + (f"; its answer comes back ({_answer_words(answer)})" if answer else "")
        return {"answer": answer, "consequence": text}
    if change.old is None or change.change not in ("removed", "responsible", "moved"):
        return None
    if change.change == "moved" and change.new.id != change.old.id and "id" not in change.fields:
        return None  # the body changed too: its `responsible` change says the stored one is cancelled
    row = existing.get(change.old.id)
    if row is None:
        return None
    answer = _answer(row, submissions)
    if answer is None:
        return None
    words = _answer_words(answer)
    if change.change in ("removed", "responsible"):
        text = f"would be cancelled while {words}"
    elif row.extended_until is not None:
        effective = max(change.new.due, row.extended_until)
        text = (f"extended to {row.extended_until.isoformat()}: the extension stands, due "
                f"{effective.isoformat()}" + (f"; {words}" if row.state != "open" else ""))
    else:
        text = f"its due date would move while {words}"
    return {"answer": answer, "consequence": text}


def _answer(row, submissions: dict) -> dict | None:
    if row.state == "open" and row.extended_until is None and row.extension_requested is None:
        return None
    submission = submissions.get(row.submission_id) if row.submission_id is not None else None
    at = submission.submitted_at if submission is not None else None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return {
        "state": row.state,
        "submitted_at": at.isoformat() if at else None,
        "ref": submission.ref if submission is not None else None,
        "extended_until": row.extended_until.isoformat() if row.extended_until else None,
        "extension_requested": row.extension_requested.isoformat() if row.extension_requested else None,
    }


def _answer_words(answer: dict) -> str:
    parts = []
    if answer["state"] != "open":
        text = answer["state"]
        if answer["submitted_at"]:
            text += f" (answer of {answer['submitted_at'][:10]}" + (f", ref {answer['ref']}" if answer["ref"] else "") + ")"
        parts.append(text)
    if answer["extended_until"]:
        parts.append(f"extended to {answer['extended_until']}")
    if answer["extension_requested"]:
        parts.append(f"an extension to {answer['extension_requested']} asked")
    return ", ".join(parts)
