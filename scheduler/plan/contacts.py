"""The contacts spreadsheet (CSV): who is focal point, supervisor or head for each agency."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from scheduler.errors import ContactsError, Problem
from scheduler.i18n import LANGUAGES
from scheduler.plan.readfile import read_text
from scheduler.plan.model import Plan
from scheduler.plan.suggest import did_you_mean

COLUMNS = ("agency", "name", "email", "role", "language")
OPTIONAL = ("phone",)  # may follow: how to reach her by telephone, said to her supervisors and heads
PHONE_CHARS = 40
ROLES = ("focal", "supervisor", "head")
# Excel saves "CSV" in the system's code page (cp1251 for Cyrillic) and, in a Russian locale, with
# semicolons; its "CSV UTF-8" format is the one this program reads.
EXCEL_HINT = "in Excel: save as CSV UTF-8 (comma delimited)"


@dataclass(frozen=True)
class Contact:
    agency: str
    name: str
    email: str
    role: str
    language: str
    phone: str | None = None


def mailbox(address: str, smtputf8: bool = False) -> str:
    """The form an address is kept and compared in: lowercased, the domain in ASCII (punycode).

    Raises EmailNotValidError for what can never be delivered: not an address, or a non-ASCII name
    before the @ when the SMTP server is not known to take SMTPUTF8."""
    found = validate_email(address, check_deliverability=False, allow_smtputf8=smtputf8)
    return (found.ascii_email or f"{found.local_part}@{found.ascii_domain}").lower()


def load_contacts(path: Path | str, plan: Plan, smtputf8: bool = False) -> tuple[Contact, ...]:
    """Contacts from the CSV; addresses come back in their kept form (see `mailbox`). With `smtputf8`
    (SCHEDULER_SMTP_UTF8: the server takes internationalised addresses) a Cyrillic name before the @
    is allowed."""
    path = Path(path)
    text = read_text(path, ContactsError, hint=f"; {EXCEL_HINT}")
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as error:
        raise ContactsError([Problem(path, f"CSV syntax: {error}", line=1)]) from None
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL]
    if missing or unknown or len(header) != len(set(header)):
        message = f"the header must be {','.join(COLUMNS)} (and may add {','.join(OPTIONAL)}); found {','.join(header)}"
        if any(";" in cell for cell in header):
            message += f" (semicolons separate the columns; {EXCEL_HINT})"
        raise ContactsError([Problem(path, message, line=1)])
    position = {c: header.index(c) for c in COLUMNS + OPTIONAL if c in header}
    contacts: list[Contact] = []
    line = 1
    try:
        for row in reader:
            first_line, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(Problem(path, f"expected {len(header)} fields, found {len(row)}", line=first_line))
                continue
            cells = {c: row[position[c]].strip() for c in COLUMNS}
            phone = " ".join(row[position["phone"]].split()) if "phone" in position else ""
            found, kept = _check_row(cells, plan, smtputf8)
            if len(phone) > PHONE_CHARS:
                found.append(f"the phone is longer than {PHONE_CHARS} characters")
            problems += [Problem(path, message, line=first_line, subject=cells["email"] or None) for message in found]
            if not found:
                cells["email"] = kept
                contacts.append(Contact(**cells, phone=phone or None))
    except csv.Error as error:
        problems.append(Problem(path, f"CSV syntax: {error}", line=line + 1))
    for (agency, email, role), count in Counter((c.agency, c.email.lower(), c.role) for c in contacts).items():
        if count > 1:
            problems.append(Problem(path, f"{email} is listed {count} times as {role} of {agency}"))
    if problems:
        raise ContactsError(problems)
    return tuple(contacts)


def _check_row(cells: dict[str, str], plan: Plan, smtputf8: bool = False) -> tuple[list[str], str]:
    """What is wrong with a row, and its address in the kept form (`mailbox`; checked once: it is
    most of a large file's reading)."""
    found, kept = [], ""
    agency = plan.agency(cells["agency"])
    if agency is None:
        found.append(f"unknown agency {cells['agency']!r}{did_you_mean(cells['agency'], plan.file.agencies)}")
    elif agency.placeholder:
        found.append(f"agency {cells['agency']!r} is a placeholder in the plan (placeholder = true: named with no "
                     "addressee), and nothing is ever mailed to it; remove the row, or name the body in the plan "
                     "and give its code")
    if not cells["name"]:
        found.append("the name is empty")
    if any(ch in cells["name"] for ch in "\r\n\x00"):
        found.append("the name contains a line break")
    try:
        kept = mailbox(cells["email"], smtputf8)
    except EmailNotValidError as error:
        if cells["email"] and not cells["email"].partition("@")[0].isascii() and "@" in cells["email"]:
            found.append(f"{cells['email']!r} cannot be delivered: mail servers take a non-Latin name before the @ "
                         "only with SMTPUTF8 (set SCHEDULER_SMTP_UTF8=true if yours does), so ask for the Latin address")
        else:
            found.append(f"not an email address {cells['email']!r}: {error}")
    if cells["role"] not in ROLES:
        found.append(f"role {cells['role']!r} is not one of {', '.join(ROLES)}")
    if cells["language"] not in LANGUAGES:
        found.append(f"language {cells['language']!r} is not one of {', '.join(LANGUAGES)}")
    return found, kept
