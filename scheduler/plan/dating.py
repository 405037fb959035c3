"""What the plan's dated directory means for one deadline, and whether a deadline is a body's own report.

Bodies reorganised during a plan carry their dates in the file (`valid_from` / `valid_until` /
`predecessor`, a `[[former_name]]`'s `until`, a group member's `from` / `until`), each with the
`source` that set it when it is known. `dated_directory` says, for one occurrence, which of those
dates decided who owes it or what a body was called on its nominal date, with the source: the lines
`scheduler explain` prints under "dates".

`own_report`: a body never reports to itself. Where the body a deadline's information goes to is the
owing body itself (paragraph 3.2: Еңбекмині receives the 2021 information and owes its own; ІІМ in
2022–2023), expansion gives the occurrence no recipient, and this says why: it is the body's own
part of the consolidated report it compiles, nothing to send.
"""

from __future__ import annotations

import datetime as dt

from scheduler.plan.model import GOVERNMENT, Plan
from scheduler.plan.schema import GroupMember

NO_SOURCE = "source not given in the plan"


def declared_recipient(plan: Plan, obligation_id: str, nominal: dt.date) -> str | None:
    """The recipient the row (or its dated instance) names for a deadline nominally on `nominal`:
    an agency, an office or `government`, before resolving offices and predecessors."""
    text = plan.text_on(obligation_id, nominal)
    obligation = text.obligation if text is not None and text.obligation is not None else plan.obligation(obligation_id)
    if obligation is None:
        return None
    instance = next((i for i in obligation.instances if i.date == nominal), None)
    return instance.recipient if instance is not None and instance.recipient else obligation.recipient


def own_report(plan: Plan, obligation_id: str, agency: str, nominal: dt.date) -> bool:
    """True when the body the deadline's information goes to is `agency` itself (its own report)."""
    code = declared_recipient(plan, obligation_id, nominal)
    return code is not None and code != GOVERNMENT and plan.recipient_on(code, nominal) == agency


def _source(text: str | None) -> str:
    return f"source: {text}" if text else NO_SOURCE


def _name(plan: Plan, code: str, day: dt.date) -> str:
    return plan.display_name(code, day, "en")


def about_body(plan: Plan, code: str, day: dt.date, role: str = "") -> list[str]:
    """The dated facts of the directory that decide what `code` is on `day`: a former name in use,
    the body's existence from or until a date, a successor it answers for, each with its source."""
    agency = plan.agency(code)
    if agency is None:
        return []
    lines = []
    who = f"{role}{code}"
    for former in sorted(agency.former_names, key=lambda f: f.until):
        if day <= former.until:
            lines.append(f"{who} was called {former.name_en or former.name_kk} until {former.until.isoformat()} "
                         f"(now {agency.name_en or agency.name_kk}) — {_source(former.source)}")
            break
    if agency.valid_from and day >= agency.valid_from:
        lines.append(f"{who} exists from {agency.valid_from.isoformat()}"
                     + (f", succeeding {agency.predecessor}" if agency.predecessor else "") + f" — {_source(agency.source)}")
    if agency.valid_until and day <= agency.valid_until:
        lines.append(f"{who} exists until {agency.valid_until.isoformat()} — {_source(agency.source)}")
    for successor_code, successor in plan.file.agencies.items():
        if successor.predecessor == code and successor.valid_from and day < successor.valid_from:
            lines.append(f"{who} answers for its successor {successor_code} ({_name(plan, successor_code, successor.valid_from)}), "
                         f"which exists only from {successor.valid_from.isoformat()} — {_source(successor.source)}")
    return lines


def about_groups(plan: Plan, code: str, day: dt.date) -> list[str]:
    """Dated memberships of `code` that hold on `day` (a member `from` or `until` a date), with the source."""
    lines = []
    for group_code, group in plan.file.groups.items():
        for member in group.members:
            if isinstance(member, GroupMember) and member.agency == code and (member.since or member.until):
                if member.since and day < member.since or member.until and day > member.until:
                    continue
                span = " ".join(p for p in (f"from {member.since.isoformat()}" if member.since else "",
                                            f"until {member.until.isoformat()}" if member.until else "") if p)
                lines.append(f"{code} is a member of {group_code} {span} — {_source(member.source)}")
    return lines


def dated_directory(plan: Plan, agency: str, nominal: dt.date, recipient: str | None = None) -> list[str]:
    """Every dated fact of the directory that decided something for a deadline of `agency` nominally
    on `nominal`, and for its `recipient` (an agency code) when given: lines for `explain`."""
    lines = about_body(plan, agency, nominal) + about_groups(plan, agency, nominal)
    if recipient is not None and recipient != agency and recipient != GOVERNMENT:
        lines += about_body(plan, recipient, nominal, role="recipient ")
    return lines


def assumed_office(plan: Plan, obligation_id: str, agency: str, nominal: dt.date):
    """(office code, its `Tenure`) when who owes or receives a deadline nominally on `nominal` goes
    through an office whose holder that year is the program's assumption (`assumed` on the tenure):
    the 2022 working body. None when nothing about the deadline rests on such a reading."""
    text = plan.text_on(obligation_id, nominal)
    obligation = text.obligation if text is not None and text.obligation is not None else plan.obligation(obligation_id)
    if obligation is None:
        return None
    instance = next((i for i in obligation.instances if i.date == nominal), None)
    refs = instance.responsible if instance is not None and instance.responsible else obligation.responsible
    codes = [] if refs == "all" else [r if isinstance(r, str) else r.party for r in refs]
    recipient = declared_recipient(plan, obligation_id, nominal)
    for code in [*codes, recipient]:
        if code in plan.file.offices:
            tenure = plan.tenure(code, nominal.year)
            if tenure is not None and tenure.assumed and (tenure.agency == agency or code == recipient):
                return code, tenure
    return None
