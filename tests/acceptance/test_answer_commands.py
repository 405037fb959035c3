"""Answering a deadline as a user does it, through the installed `scheduler` command: submit with the
letter's number and date, the text and documents; show; accept, return, close, reopen; extend and
revoke; users. Return and extension move the ladder on the next tick (against real SMTP)."""

import datetime as dt
import hashlib
import io
import json
from zoneinfo import ZoneInfo

import pytest

from tests.acceptance.test_daemon_commands import deployed  # noqa: F401 - the shipped plan, synced
from tests.conftest import one_off_plan

pytestmark = pytest.mark.acceptance
OID = "7:finance:2022"
ALMATY = ZoneInfo("Asia/Almaty")


def ok(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def show(run, oid=OID) -> dict:
    return json.loads(ok(run("show", oid, "--format", "json")))


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["агенттік", "саны"])
    book.active.append(["finance", 3])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_submit_with_the_letter_text_and_documents_then_show_it(deployed, scheduler):  # noqa: F811
    letter = b"%PDF-1.4\n% the outgoing letter No. 12-3/45\n"
    (scheduler.cwd / "Хат 12-3-45.pdf").write_bytes(letter)
    (scheduler.cwd / "кесте.xlsx").write_bytes(xlsx_bytes())
    result = deployed("submit", OID, "--at", "2022-12-09T16:30", "--ref", "12-3/45", "--ref-date", "2022-12-08",
                      "--text", "2022 жылы 14 іс-шара өткізілді", "--file", "Хат 12-3-45.pdf", "--file", "кесте.xlsx",
                      "--by", "Aigul@Minfin.example.kz")
    assert ok(result).strip() == f"{OID}: submission recorded at 2022-12-09T16:30+06:00"
    shown = show(deployed)
    assert (shown["id"], shown["state"], shown["due"], shown["nominal_due"]) == (OID, "submitted", "2022-12-09", "2022-12-10")
    submission = shown["submission"]
    assert (submission["at"], submission["ref"], submission["ref_date"], submission["text"], submission["by"]) == (
        "2022-12-09T16:30:00+06:00", "12-3/45", "2022-12-08", "2022 жылы 14 іс-шара өткізілді", "aigul@minfin.example.kz")
    files = {f["name"]: f for f in submission["files"]}
    assert files["Хат 12-3-45.pdf"]["sha256"] == hashlib.sha256(letter).hexdigest()
    assert files["Хат 12-3-45.pdf"]["content_type"] == "application/pdf" and files["Хат 12-3-45.pdf"]["size"] == len(letter)
    assert files["кесте.xlsx"]["content_type"].endswith("spreadsheetml.sheet")
    [event] = shown["events"]
    assert (event["action"], event["actor"], event["from_state"], event["to_state"]) == (
        "submit", "aigul@minfin.example.kz", "open", "submitted")
    assert event["ref"] == "12-3/45" and [f["name"] for f in event["files"]] == ["Хат 12-3-45.pdf", "кесте.xlsx"]
    # a second submit keeps the first, as before, and says so
    again = deployed("submit", OID, "--ref", "99")
    assert ok(again).strip() == f"{OID}: submission already recorded at 2022-12-09T16:30+06:00"
    assert "was kept" in again.stderr and len(show(deployed)["events"]) == 1
    table = ok(deployed("show", OID))
    assert "state        submitted" in table and "letter 12-3/45 of 2022-12-08" in table and "Хат 12-3-45.pdf" in table


def test_accept_return_close_reopen_and_the_audit_trail(deployed):  # noqa: F811
    ok(deployed("submit", OID, "--at", "2022-12-09T16:30"))
    assert ok(deployed("accept", OID, "--by", "reviewer@gov.kz")).strip() == f"{OID}: accepted (was submitted)"
    refused = deployed("accept", OID)
    assert refused.returncode == 2 and f"{OID} is accepted: cannot accept it: it is already accepted" in refused.stderr
    assert "Traceback" not in refused.stderr
    status = ok(deployed("status", "--now", "2022-12-12T10:00"))
    finance = next(line for line in status.splitlines() if line.startswith("finance "))
    assert finance.split()[-1] == "1", "accepted counts as submitted"
    returned = ok(deployed("return", OID, "--reason", "the table is missing"))
    assert returned.startswith(f"{OID}: returned (was accepted)")
    closed = ok(deployed("close", OID, "--reason", "not applicable in 2022"))
    assert closed.strip() == f"{OID}: closed (was returned); no more reminders"
    assert ok(deployed("reopen", OID, "--reason", "closed by mistake")).startswith(f"{OID}: reopened: returned (was closed)")
    ok(deployed("submit", OID, "--at", "2022-12-20T11:00", "--ref", "12-3/50"))
    assert ok(deployed("reopen", OID, "--reason", "wrong letter")).startswith(f"{OID}: reopened: returned (was submitted)")
    shown = show(deployed)
    assert shown["state"] == "returned" and shown["submission"]["at"] == "2022-12-09T16:30:00+06:00"
    assert [(e["action"], e["to_state"], e["actor"]) for e in shown["events"]] == [
        ("submit", "submitted", "operator"), ("accept", "accepted", "reviewer@gov.kz"),
        ("return", "returned", "operator"), ("close", "closed", "operator"), ("reopen", "returned", "operator"),
        ("submit", "submitted", "operator"), ("reopen", "returned", "operator"),
    ]
    assert shown["events"][2]["reason"] == "the table is missing" and shown["events"][2]["details"]["reason"] == "the table is missing"
    times = [e["at"] for e in shown["events"]]
    assert times == sorted(times), "oldest first"


def test_users_are_added_listed_and_disabled(deployed):  # noqa: F811
    assert ok(deployed("users", "add", "Reviewer@Gov.kz", "--role", "reviewer")).strip() == "reviewer@gov.kz: added as reviewer"
    ok(deployed("users", "add", "office@gov.kz", "--role", "observer"))
    again = deployed("users", "add", "reviewer@gov.kz", "--role", "admin")
    assert again.returncode == 2 and "reviewer@gov.kz is already a user (reviewer)" in again.stderr
    assert ok(deployed("users", "disable", "reviewer@gov.kz")).strip() == "reviewer@gov.kz: disabled"
    listing = ok(deployed("users", "list")).splitlines()
    reviewer = next(line for line in listing if line.startswith("reviewer@gov.kz"))
    observer = next(line for line in listing if line.startswith("office@gov.kz"))
    assert len(reviewer.split()) == 4 and len(observer.split()) == 3, "disabled has a date, enabled has none"
    assert ok(deployed("users", "add", "reviewer@gov.kz", "--role", "admin")).strip() == "reviewer@gov.kz: enabled again as admin"
    # a user's own language: her pages and emails
    assert ok(deployed("users", "add", "ru@gov.kz", "--role", "reviewer", "--language", "ru")).strip() == \
        "ru@gov.kz: added as reviewer, language ru"
    assert ok(deployed("users", "language", "office@gov.kz", "kk")).strip() == "office@gov.kz: language kk"
    listing = ok(deployed("users", "list")).splitlines()
    assert next(line for line in listing if line.startswith("ru@gov.kz")).split()[:3] == ["ru@gov.kz", "reviewer", "ru"]
    wrong = deployed("users", "add", "x@gov.kz", "--role", "reviewer", "--language", "de")
    assert wrong.returncode == 2 and "'de' is not one of 'kk', 'ru', 'en'" in wrong.stderr and "Traceback" not in wrong.stderr
    nobody = deployed("users", "language", "nobody@gov.kz", "ru")
    assert nobody.returncode == 2 and "nobody@gov.kz: no such user" in nobody.stderr


# --- the ladder, with a plan whose deadlines lie ahead of today's clock --------------------------
# State changes take effect when they are recorded (by the wall clock); `tick --now` can then be
# sent forward to the days of the steps.

def plan_ahead(today: dt.date, due: dt.date) -> str:
    return one_off_plan("answers-ahead", today - dt.timedelta(days=60), due, responsible=("mvd", "labour"),
                        last_year=(due + dt.timedelta(days=60)).year)


@pytest.fixture
def ahead(scheduler, smtp_server):
    today = dt.datetime.now(ALMATY).date()
    due = today + dt.timedelta(days=30)
    (scheduler.cwd / "obligations.toml").write_text(plan_ahead(today, due), encoding="utf-8")
    (scheduler.cwd / "contacts.csv").write_text(
        "agency,name,email,role,language\n"
        "mvd,Асқар,askar@mvd.example.kz,focal,kk\n"
        "labour,Еңбек,focal@enbek.example.kz,focal,ru\n", encoding="utf-8")
    env = {"SCHEDULER_SMTP_HOST": "127.0.0.1", "SCHEDULER_SMTP_PORT": str(smtp_server.port), "SCHEDULER_SMTP_TLS": "none"}
    assert ok(scheduler("sync", env_extra=env))

    def run(*args):
        return scheduler(*args, env_extra=env)

    run.today, run.due = today, due
    return run


def instant(day: dt.date, hour: int = 9, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


NOT_LADDER = ("digest", "answer-received", "answer-acknowledged", "answer-accepted", "answer-returned", "deadline-closed",
              "deadline-reopened", "extension-granted", "extension-refused", "decisions")


def listing(mailbox, oid):
    """The ladder's steps that listed the occurrence (not the digest, nor the notices answers cause)."""
    return [m["X-Scheduler-Step"] for m in mailbox.messages
            if m["X-Scheduler-Step"] not in NOT_LADDER and oid in [i.strip() for i in m["X-Scheduler-Occurrences"].split(",")]]


def test_a_returned_answer_gets_reminders_again_on_the_next_tick(ahead, smtp_server):
    oid = f"1:mvd:{ahead.due}"
    fourteen = ahead.due - dt.timedelta(days=14)
    assert ok(ahead("submit", oid)).startswith(f"{oid}: submission recorded at ")
    ok(ahead("tick", "--now", instant(fourteen)))
    assert listing(smtp_server.mailbox, oid) == [], "submitted: no reminder"
    assert listing(smtp_server.mailbox, f"1:labour:{ahead.due}") == ["reminder-14d"], "the other one's ladder runs"
    returned = ok(ahead("return", oid, "--reason", "the table is missing"))
    assert returned.strip() == f"{oid}: returned (was submitted); reminders resume with reminder-14d on {instant(fourteen)}+05:00"
    ok(ahead("tick", "--now", instant(fourteen, 9, 5)))
    assert listing(smtp_server.mailbox, oid) == ["reminder-14d"]
    told = [(m["X-Scheduler-Step"], m["To"].addresses[0].addr_spec) for m in smtp_server.mailbox.messages
            if m["X-Scheduler-Step"] in NOT_LADDER[1:]]
    assert told == [("answer-received", "focal@enbek.example.kz"), ("answer-acknowledged", "askar@mvd.example.kz"),
                    ("answer-returned", "askar@mvd.example.kz")], (
        "the answer told to the coordinator (no reviewer yet) and, entered at the command line, acknowledged to "
        "the focal point; the return to the focal point")
    acknowledged = next(m for m in smtp_server.mailbox.messages if m["X-Scheduler-Step"] == "answer-acknowledged")
    assert acknowledged["Subject"] == "Жауабыңыз келіп түсті (1 іс-шара)" and oid in acknowledged["X-Scheduler-Occurrences"]
    ok(ahead("submit", oid))
    ok(ahead("accept", oid))
    ok(ahead("tick", "--now", instant(ahead.due - dt.timedelta(days=7))))
    assert listing(smtp_server.mailbox, oid) == ["reminder-14d"], "accepted: the ladder stopped again"
    decided = [m for m in smtp_server.mailbox.messages if m["X-Scheduler-Step"] == "decisions"]
    assert [m["To"].addresses[0].addr_spec for m in decided] == ["askar@mvd.example.kz"], \
        "the answer's acknowledgement and its acceptance, one email"
    ok(ahead("tick", "--now", instant(ahead.due - dt.timedelta(days=7), 9, 5)))
    assert len([m for m in smtp_server.mailbox.messages if m["X-Scheduler-Step"] in NOT_LADDER[1:]]) == len(told) + 2


def test_simulate_lists_notices_from_the_ledger_and_never_forecasts_them(ahead, smtp_server):
    oid = f"1:mvd:{ahead.due}"
    ok(ahead("submit", oid))
    ok(ahead("tick", "--now", instant(ahead.due - dt.timedelta(days=14))))
    ok(ahead("return", oid, "--reason", "the table is missing"))  # told by the next tick
    span = ("--from", ahead.today.isoformat(), "--to", ahead.due.isoformat())
    records = json.loads(ok(ahead("simulate", *span, "--format", "json")))
    told = {(r["step"], r["occurrence"], r["recipient"], r["state"]) for r in records if r["notice"]}
    assert told == {("answer-received", oid, "focal@enbek.example.kz", "sent"),
                    ("answer-acknowledged", oid, "askar@mvd.example.kz", "sent"),
                    ("answer-returned", oid, "askar@mvd.example.kz", "pending")}
    ladder = [r for r in records if not r["notice"]]
    assert not [r for r in ladder if r["step"] in NOT_LADDER[1:]]
    assert ("reminder-7d", "to send") in {(r["step"], r["state"]) for r in ladder if r["occurrence"] == oid}, \
        "the ladder resumes after the return"
    table = ok(ahead("simulate", *span))
    assert "of these, notices of answers and extensions (never forecast): 1 pending, 2 sent" in table


def test_an_extension_moves_the_ladder_and_explain_names_it(ahead, smtp_server):
    oid, later = f"1:labour:{ahead.due}", ahead.due + dt.timedelta(days=10)
    ok(ahead("tick", "--now", instant(ahead.due - dt.timedelta(days=14))))
    extended = ok(ahead("extend", oid, "--to", later.isoformat(), "--reason", "letter No. 7: the survey ends later",
                        "--by", "reviewer@gov.kz"))
    assert extended.strip() == (f"{oid}: due extended to {later} (the plan: {ahead.due}); reminders resume with "
                                f"reminder-14d on {instant(later - dt.timedelta(days=14))}+05:00")
    shown = show(ahead, oid)
    assert (shown["due"], shown["plan_due"], shown["state"]) == (later.isoformat(), ahead.due.isoformat(), "open")
    assert shown["extension"]["until"] == later.isoformat() and shown["extension"]["by"] == "reviewer@gov.kz"
    assert shown["events"][-1]["action"] == "extend" and shown["events"][-1]["until"] == later.isoformat()
    explained = ok(ahead("explain", oid))
    assert f"extended     to {later}" in explained and "by reviewer@gov.kz" in explained and "letter No. 7" in explained
    ok(ahead("tick", "--now", instant(later - dt.timedelta(days=14))))
    assert listing(smtp_server.mailbox, oid) == ["reminder-14d", "reminder-14d"], "again, for the new date"
    assert ok(ahead("sync")), "a sync keeps the extension"
    assert show(ahead, oid)["due"] == later.isoformat()
    revoked = ok(ahead("extend", oid, "--revoke", "--reason", "granted by mistake"))
    assert revoked.startswith(f"{oid}: extension revoked: due {ahead.due} (the plan's date)")
    assert show(ahead, oid)["due"] == ahead.due.isoformat() and "extended" not in ok(ahead("explain", oid))
    ok(ahead("tick", "--now", instant(ahead.due)))
    assert listing(smtp_server.mailbox, oid) == ["reminder-14d", "reminder-14d", "due"], "nothing twice for one date"


def test_explain_reads_no_database_it_would_have_to_make(scheduler):
    result = scheduler("explain", OID)
    assert result.returncode == 0 and "due          2022-12-09" in result.stdout and "extended" not in result.stdout
    assert not (scheduler.cwd / "var").exists(), "no database, no folder left behind"
