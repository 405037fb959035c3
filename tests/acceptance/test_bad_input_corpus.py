"""A corpus of broken plans, contacts files and command lines, run through the CLI against a synced
database: each exits 2 with a message naming the file and the line or id, shows no traceback, and
leaves the database exactly as it was."""

import hashlib
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from tests import forkserver
from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance
PLAN = (ROOT / "obligations.toml").read_text(encoding="utf-8")
CONTACTS = (ROOT / "examples" / "contacts.csv").read_text(encoding="utf-8")
COMMAND = shutil.which("scheduler", path=str(Path(sys.executable).parent)) or shutil.which("scheduler")


def in_obligation(oid, old, new):
    def edit(text):
        start = text.index(f'id = "{oid}"')
        assert old in text[start:], (oid, old)
        return text[:start] + text[start:].replace(old, new, 1)
    return edit


def replace(old, new):
    def edit(text):
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


def append(extra):
    return lambda text: text + extra


PLANS = [
    ("toml-syntax", replace("coordinator = ", "coordinator == "), ["obligations.toml", "TOML syntax", "line"]),
    ("wrong-type", in_obligation("7", "month = 12", 'month = "December"'), ["obligation 7", "'December' is not a number: write the month as a number, month = 12"]),
    ("unknown-agency", in_obligation("7", '"gpo"', '"gpp"'), ["obligation 7", "unknown agency or group 'gpp'"]),
    ("unknown-recipient", in_obligation("5", 'recipient = "finance"', 'recipient = "treasury"'), ["obligation 5", "'treasury'"]),
    ("impossible-date", in_obligation("2", "date = 2021-07-01", "date = 2021-02-30"), ["obligations.toml", "line"]),
    ("impossible-day", in_obligation("16", "month = 2, day = 10", "month = 2, day = 30"), ["obligation 16", "no day 30"]),
    ("duplicate-id", in_obligation("7", 'id = "7"', 'id = "6"'), ["obligation 6", "duplicate id '6'"]),
    ("missing-title", in_obligation("14", "title_kk = ", "title_xx = "), ["obligation 14", "title_kk: required"]),
    ("typo-key", in_obligation("14", "responsible = ", "responsable = "), ["obligation 14", "responsable: unknown key"]),
    ("unknown-rule", in_obligation("14", 'kind = "annual"', 'kind = "weekly"'), ["obligation 14", "'weekly'"]),
    ("predecessor-cycle", replace('short_kk = "БҒМ"', 'short_kk = "БҒМ"\npredecessor = "enlightenment"'),
     ["agency", "predecessors go round in a circle"]),
    ("dangling-predecessor", replace('predecessor = "mes"', 'predecessor = "mes-2"'), ["agency enlightenment", "'mes-2' is not an agency"]),
    ("unknown-member", replace('  "akimat-abai",', '  "akimat-semey",'), ["group akimats", "'akimat-semey' is not an agency"]),
    ("unknown-holder", replace('{ agency = "labour", years = [2021] }', '{ agency = "labor", years = [2021] }'), ["office vak-working-body", "'labor'"]),
    ("year-scope-outside", in_obligation("1", 'responsible = ["vak-working-body", "akimats"]',
                                         'responsible = [{ party = "vak-working-body", years = [2020] }, "akimats"]'),
     ["obligation 1", "2020 is outside the plan's period"]),
    ("no-deadline-in-period", in_obligation("36", "year = 2023", "year = 2030"), ["obligation 36", "yields no deadline"]),
    ("before-adoption", in_obligation("2", "date = 2021-07-01", "date = 2020-07-01"), ["obligation 2", "before the plan's adoption"]),
    ("bad-timezone", replace('timezone = "Asia/Almaty"', 'timezone = "Asia/Alma-Ata City"'), ["obligations.toml", "unknown time zone"]),
    ("duplicate-step", replace('step = "reminder-7d"', 'step = "reminder-14d"'), ["obligations.toml", "repeated: reminder-14d"]),
    ("office-without-holder", replace("years = [2023, 2024] }", "years = [2024] }"), ["obligation", "has no holder in 2023"]),
    ("dates-without-instances", in_obligation("res-4", 'due = { kind = "dates" }', 'due = { kind = "dates" }\n[[obligation.xinstance]]'), ["res-4"]),
    ("period-reversed", replace("period = { from = 2021, to = 2023 }", "period = { from = 2023, to = 2021 }"), ["obligations.toml", "before it starts"]),
    ("unknown-coordinator", replace('coordinator = "vak-working-body"', 'coordinator = "nobody"'), ["obligations.toml", "'nobody' is neither"]),
    ("group-as-recipient", in_obligation("5", 'recipient = "finance"', 'recipient = "akimats"'), ["obligation 5", "a group cannot receive"]),
    ("unknown-holidays", replace('holidays = "KZ"', 'holidays = "ZZ"'), ["policy.holidays: unknown country code 'ZZ'"]),
]
BINARY_PLANS = [
    ("empty-plan", b"", ["obligations.toml", "the file is empty"]),
    ("binary-plan", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["obligations.toml", "binary file"]),
    ("latin1-plan", 'schema = 1\n# Қаржы\n'.encode("utf-8").replace("Қ".encode(), b"\xca"), ["obligations.toml", "not UTF-8", ":2"]),
    ("deep-nesting", b"schema = 1\nx = " + b"[" * 5000 + b"]" * 5000 + b"\n", ["obligations.toml:2", "nested too deeply"]),
    ("oversized-plan", PLAN.encode("utf-8") + b"#" * (9 << 20), ["obligations.toml", "larger than"]),
]
HEADER = "agency,name,email,role,language\n"
CONTACT_FILES = [
    ("contacts-header", "agency;name;email;role;language\nmvd;A;a@x.kz;focal;kk\n", ["contacts.csv:1", "the header must be"]),
    ("contacts-agency", HEADER + "mvd,A,a@x.kz,focal,kk\nministry-x,B,b@x.kz,focal,kk\n", ["contacts.csv:3", "unknown agency 'ministry-x'"]),
    ("contacts-email", HEADER + "mvd,A,not-an-address,focal,kk\n", ["contacts.csv:2", "not an email address"]),
    ("contacts-role", HEADER + "mvd,A,a@x.kz,boss,kk\n", ["contacts.csv:2", "role 'boss'"]),
    ("contacts-language", HEADER + "mvd,A,a@x.kz,focal,de\n", ["contacts.csv:2", "language 'de'"]),
    ("contacts-crlf-name", HEADER + 'mvd,"A\r\nBcc: x@evil.example",a@x.kz,focal,kk\n', ["contacts.csv:2", "line break"]),
    ("contacts-empty", "", ["contacts.csv", "the file is empty"]),
    ("contacts-binary", "\x00\x01\x02", ["contacts.csv", "binary file"]),
    ("contacts-duplicate", HEADER + "mvd,A,a@x.kz,focal,kk\nmvd,A,A@x.kz,focal,kk\n", ["contacts.csv", "listed 2 times as focal of mvd"]),
    ("contacts-cp1251", (HEADER + "mvd,Иванов Пётр,p@x.kz,focal,ru\n").encode("cp1251"),
     ["contacts.csv:2", "not UTF-8", "save as CSV UTF-8 (comma delimited)"]),
    ("contacts-semicolons", "\ufeffagency;name;email;role;language\r\nmvd;Иванов Пётр;p@x.kz;focal;ru\r\n",
     ["contacts.csv:1", "semicolons", "save as CSV UTF-8 (comma delimited)"]),
]
COMMANDS = [
    ("now-not-iso", ["tick", "--now", "12/12/2022"], ["--now", "not an ISO date-time"]),
    ("submit-unknown", ["submit", "99:mvd:2022"], ["99:mvd:2022: no such occurrence"]),
    ("expand-bad-date", ["expand", "--from", "2021-02-30"], ["'2021-02-30' does not match"]),
    ("report-year", ["report", "--year", "1999"], ["--year 1999 is outside"]),
    ("report-missing-folder", ["report", "--year", "2022", "--format", "csv", "--output", "/no/such/dir/out.csv"],
     ["--output /no/such/dir/out.csv", "no such folder"]),
    ("report-compliance-docx", ["report", "--year", "2022", "--format", "docx"],
     ["--format docx: the compliance report comes as csv, xlsx, html (docx is for --kind consolidated)"]),
    ("report-compliance-all", ["report", "--all"], ["--all: only the consolidated report covers the whole plan"]),
    ("report-compliance-lang", ["report", "--year", "2022", "--lang", "de"],
     ["Invalid value for '--lang': 'de' is not one of 'kk', 'ru', 'en'"]),
    ("report-consolidated-no-span", ["report", "--kind", "consolidated", "--format", "docx"],
     ["the consolidated report needs --year YEAR or --all"]),
    ("report-consolidated-year-and-all", ["report", "--kind", "consolidated", "--year", "2022", "--all"],
     ["--year 2022 and --all: give one of them"]),
    ("report-consolidated-csv", ["report", "--kind", "consolidated", "--year", "2022", "--format", "csv"],
     ["--format csv: the consolidated report comes as docx, xlsx (csv is for --kind compliance)"]),
    ("report-consolidated-year", ["report", "--kind", "consolidated", "--year", "2031"], ["--year 2031 is outside"]),
    ("report-consolidated-lang", ["report", "--kind", "consolidated", "--all", "--lang", "en"],
     ["--lang en: the consolidated report is written in Kazakh or Russian (--lang kk or ru)"]),
    ("report-consolidated-missing-folder", ["report", "--kind", "consolidated", "--all", "--output", "/no/such/dir/r.docx"],
     ["--output /no/such/dir/r.docx", "no such folder"]),
    ("revoke-garbage", ["feeds", "revoke", "%%%"], ["neither a feed token nor a feed URL"]),
    ("unknown-command", ["deploy"], ["No such command 'deploy'"]),
    # answering a deadline: 7:finance:2022 is submitted in the template, 6:finance:2022 open
    ("submit-in-the-future", ["submit", "6:finance:2022", "--at", "2099-01-01T09:00"], ["6:finance:2022: received at 2099-01-01T09:00", "is in the future"]),
    ("submit-before-the-plan", ["submit", "6:finance:2022", "--at", "2020-05-01T09:00"],
     ["6:finance:2022", "before the plan's adoption on 2021-02-24"]),
    ("submit-at-not-iso", ["submit", "6:finance:2022", "--at", "9 Dec"], ["6:finance:2022: --at: '9 Dec' is not an ISO date-time"]),
    ("submit-letter-after-receipt", ["submit", "6:finance:2022", "--at", "2022-12-09T10:00", "--ref-date", "2022-12-20"],
     ["6:finance:2022: the letter's date 2022-12-20 is after the day it was received (2022-12-09)"]),
    ("submit-missing-file", ["submit", "6:finance:2022", "--file", "missing.pdf"], ["6:finance:2022: --file missing.pdf: no such file"]),
    ("submit-by-not-an-address", ["submit", "6:finance:2022", "--by", "Aigul"], ["6:finance:2022: --by: 'Aigul' is not an email address"]),
    ("submit-unknown-with-file", ["submit", "99:mvd:2022", "--ref", "1"], ["99:mvd:2022: no such occurrence"]),
    ("accept-open", ["accept", "6:finance:2022"], ["6:finance:2022 is open: cannot accept it: nothing has been submitted"]),
    ("return-open", ["return", "6:finance:2022", "--reason", "x"], ["6:finance:2022 is open: cannot return it"]),
    ("return-without-reason", ["return", "7:finance:2022"], ["Missing option '--reason'"]),
    ("return-blank-reason", ["return", "7:finance:2022", "--reason", "  "], ["7:finance:2022: a reason is needed to return it"]),
    ("close-unknown", ["close", "99:mvd:2022", "--reason", "x"], ["99:mvd:2022: no such occurrence"]),
    ("reopen-open", ["reopen", "6:finance:2022", "--reason", "x"], ["6:finance:2022 is open: cannot reopen it: it is open already"]),
    ("extend-to-earlier", ["extend", "6:finance:2022", "--to", "2022-12-01", "--reason", "x"],
     ["6:finance:2022: cannot extend to 2022-12-01: not later than the plan's due date 2022-12-09"]),
    ("extend-answered", ["extend", "7:finance:2022", "--to", "2022-12-30", "--reason", "x"], ["7:finance:2022 is submitted: cannot extend"]),
    ("extend-to-and-revoke", ["extend", "6:finance:2022", "--to", "2022-12-30", "--revoke", "--reason", "x"],
     ["6:finance:2022: give --to DATE or --revoke"]),
    ("revoke-nothing", ["extend", "6:finance:2022", "--revoke", "--reason", "x"], ["6:finance:2022 is open: cannot revoke an extension: it has no extension"]),
    ("show-unknown", ["show", "99:mvd:2022", "--format", "json"], ["99:mvd:2022: no such occurrence"]),
    ("users-bad-role", ["users", "add", "a@gov.kz", "--role", "boss"], ["'boss' is not one of"]),
    ("users-bad-address", ["users", "add", "not-an-address", "--role", "reviewer"], ["'not-an-address' is not an email address"]),
    ("users-disable-unknown", ["users", "disable", "nobody@gov.kz"], ["nobody@gov.kz: no such user"]),
]
DOCUMENTS = [
    ("file-html-as-pdf", "page.pdf", b"<html><script>alert(1)</script></html>", ["6:finance:2022: --file page.pdf: not a PDF, DOCX"]),
    ("file-png-named-pdf", "scan.pdf", b"\x89PNG\r\n\x1a\n\x00\x00", ["6:finance:2022: --file scan.pdf: the content is PNG"]),
    ("file-empty", "empty.pdf", b"", ["6:finance:2022: --file empty.pdf: the file is empty"]),
    ("file-too-large", "big.pdf", b"%PDF-" + b"0" * (21 << 20), ["6:finance:2022: --file big.pdf: 21.0 MB (22 020 101 bytes) is more than the limit, 20 MB (20 971 520 bytes)"]),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A directory with the plan, the example contacts and a database synced from them."""
    base = tmp_path_factory.mktemp("synced")
    (base / "obligations.toml").write_text(PLAN, encoding="utf-8")
    (base / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    result = forkserver.run([COMMAND, "sync"], cwd=base, env=clean_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    result = forkserver.run([COMMAND, "submit", "7:finance:2022"], cwd=base, env=clean_env())
    assert result.returncode == 0, result.stderr
    return base


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}


def database_state(directory) -> str:
    with sqlite3.connect(directory / "var" / "scheduler.db") as connection:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()


def run_case(template, tmp_path, args, files):
    work = tmp_path / "work"
    shutil.copytree(template, work)
    before = database_state(work)
    for name, content in files.items():
        (work / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = forkserver.run([COMMAND, *args], cwd=work, env=clean_env(), timeout=120)
    return result, before, database_state(work)


def check(result, before, after, fragments):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert after == before, "the database was not changed"


@pytest.mark.parametrize(("case", "edit", "fragments"), PLANS, ids=[p[0] for p in PLANS])
def test_broken_plans(template, tmp_path, case, edit, fragments):
    result, before, after = run_case(template, tmp_path, ["sync"], {"obligations.toml": edit(PLAN)})
    check(result, before, after, ["obligations.toml:", *fragments])


@pytest.mark.parametrize(("case", "content", "fragments"), BINARY_PLANS, ids=[p[0] for p in BINARY_PLANS])
def test_unreadable_plans(template, tmp_path, case, content, fragments):
    check(*run_case(template, tmp_path, ["sync"], {"obligations.toml": content}), fragments)


@pytest.mark.parametrize(("case", "content", "fragments"), CONTACT_FILES, ids=[c[0] for c in CONTACT_FILES])
def test_broken_contacts(template, tmp_path, case, content, fragments):
    check(*run_case(template, tmp_path, ["sync"], {"contacts.csv": content}), fragments)


@pytest.mark.parametrize(("case", "args", "fragments"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_wrong_commands(template, tmp_path, case, args, fragments):
    check(*run_case(template, tmp_path, args, {}), fragments)


@pytest.mark.parametrize(("case", "name", "content", "fragments"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_refused_documents(template, tmp_path, case, name, content, fragments):
    check(*run_case(template, tmp_path, ["submit", "6:finance:2022", "--ref", "12-3/45", "--file", name], {name: content}),
          fragments)


def test_the_corpus_is_at_least_thirty_files():
    assert len(PLANS) + len(BINARY_PLANS) + len(CONTACT_FILES) >= 30
