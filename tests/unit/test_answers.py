"""The answer's state machine, pure: every state × action × role, the fold of the event log, undo,
what each state means for the ladder, and the documents an answer may carry."""

import datetime as dt
import io
import zipfile

import pytest

from scheduler.answers import (
    ACTIONS,
    ROLES,
    STATES,
    Actor,
    Answer,
    Change,
    decide,
    fold,
)
from scheduler.answers.files import DOCX, JPEG, PDF, PNG, XLSX, check_upload, clean_name, sniff
from scheduler.errors import AnswerRefused, BadInput, IllegalTransition, NotPermitted

OID = "7:finance:2022"
PLAN_DUE = dt.date(2022, 12, 9)
LATER = dt.date(2022, 12, 20)

# The table the manual gives (docs/manual/answering.md), written out independently of the code: what each action leads to in
# each state. "=" is a repeat (nothing recorded), "-" is illegal. `reopen` goes back to the state
# before the latest submission, acceptance or closing; with the histories below that is the state
# named here. Extending and revoking keep the state (only the due date moves); revoking needs an
# extension to revoke, and refusing one a request to refuse, which the cases below have.
TABLE = """
state      submit     accept    return    close   reopen     extend    revoke-extension  request-extension  refuse-extension
open       submitted  -         -         closed  -          open      open              open               open
submitted  =          accepted  returned  closed  open       -         -                 -                  -
accepted   =          -         returned  closed  submitted  -         -                 -                  -
returned   submitted  -         -         closed  -          returned  returned          returned           returned
closed     -          -         -         -       open       -         -                 -                  -
cancelled  -          -         -         -       -          -         -                 -                  -
"""
HISTORY = {  # how an occurrence got into each state
    "open": [],
    "submitted": [Change("submit", submission=1)],
    "accepted": [Change("submit", submission=1), Change("accept")],
    "returned": [Change("submit", submission=1), Change("return")],
    "closed": [Change("close")],
    "cancelled": [],
}
# Who may take each action: the secretariat everything, a focal point only submit and ask for an
# extension (for her agency).
PERMITTED = {action: {"reviewer", "admin", "operator"} for action in ACTIONS}
PERMITTED["submit"] |= {"focal"}
PERMITTED["request-extension"] |= {"focal"}


def expected_table():
    lines = [line.split() for line in TABLE.strip().splitlines()]
    header = lines[0][1:]
    return {(row[0], action): cell for row in lines[1:] for action, cell in zip(header, row[1:], strict=True)}


EXPECTED = expected_table()
CASES = [(state, action, role) for state in STATES for action in ACTIONS for role in ROLES]


def test_the_table_covers_every_state_and_action():
    assert set(EXPECTED) == {(s, a) for s in STATES for a in ACTIONS}
    assert set(HISTORY) == set(STATES)


def answer_in(state, extended=False, requested=False):
    before = [Change("extend", until=LATER)] if extended else []
    asked = [Change("request-extension", until=LATER)] if requested and state in ("open", "returned") else []
    return fold(before + HISTORY[state] + asked)


def act(state, action, actor, extended=False, **extra):
    arguments = dict(occurrence_id=OID, agency="finance", cancelled=state == "cancelled", reason="a reason",
                     until=dt.date(2022, 12, 30) if action in ("extend", "request-extension") else None,
                     plan_due=PLAN_DUE)
    requested = action == "refuse-extension"  # refusing needs a request to refuse
    return decide(answer_in(state, extended, requested), action, actor, **(arguments | extra))


@pytest.mark.parametrize(("state", "action", "role"), CASES, ids=["-".join(c) for c in CASES])
def test_every_state_action_and_role(state, action, role):
    actor = Actor("someone@example.kz", role, frozenset({"finance"}))
    extended = action == "revoke-extension"  # revoking needs an extension to revoke
    expected = EXPECTED[(state, action)]
    if role not in PERMITTED[action]:
        with pytest.raises(NotPermitted) as refused:
            act(state, action, actor, extended)
        assert OID in str(refused.value) and role in str(refused.value)
        return
    if expected == "-":
        with pytest.raises(IllegalTransition) as refused:
            act(state, action, actor, extended)
        message = str(refused.value)
        assert message.startswith(f"{OID} is {state}: cannot "), message
        assert refused.value.state == state and refused.value.action == action
        return
    decision = act(state, action, actor, extended)
    if expected == "=":
        assert decision.repeat and decision.after == decision.before
    else:
        assert not decision.repeat and decision.after.state == expected


@pytest.mark.parametrize("role", ["focal", "supervisor", "head"])
@pytest.mark.parametrize("action", ACTIONS)
def test_an_agencys_people_act_only_for_their_own_agency(role, action):
    stranger = Actor("focal@mvd.example.kz", role, frozenset({"mvd"}))
    with pytest.raises(NotPermitted, match=f"may not .* {OID}"):
        act("open", action, stranger)


def test_refusals_are_bad_input_with_exit_status_2():
    for error in (IllegalTransition, NotPermitted, AnswerRefused):
        assert issubclass(error, BadInput) and error("x").exit_code == 2


@pytest.mark.parametrize(("state", "action", "hint"), [
    ("open", "accept", "nothing has been submitted"),
    ("returned", "return", "nothing has been submitted since it was returned"),
    ("accepted", "accept", "already accepted"),
    ("closed", "submit", "it was closed; reopen it first"),
    ("closed", "close", "already closed"),
    ("open", "reopen", "open already: there is nothing to undo"),
    ("submitted", "extend", "reopen it first"),
    ("cancelled", "submit", "it left the plan"),
    ("open", "revoke-extension", "it has no extension"),
    ("submitted", "request-extension", "reopen it first"),
])
def test_a_refusal_says_why(state, action, hint):
    with pytest.raises(IllegalTransition) as refused:
        act(state, action, Actor("operator", "operator"))
    assert hint in str(refused.value) and str(refused.value).startswith(f"{OID} is {state}")


@pytest.mark.parametrize("action", ["return", "close", "reopen", "extend", "revoke-extension", "request-extension",
                                    "refuse-extension"])
def test_a_reason_is_required(action):
    state = {"return": "submitted", "reopen": "submitted"}.get(action, "open")
    with pytest.raises(AnswerRefused, match="a reason is needed"):
        act(state, action, Actor("operator", "operator"), extended=action == "revoke-extension", reason="  ")


def test_an_extension_must_be_later_than_the_plans_date_and_new():
    operator = Actor("operator", "operator")
    with pytest.raises(AnswerRefused, match="not later than the plan's due date 2022-12-09"):
        act("open", "extend", operator, until=PLAN_DUE)
    with pytest.raises(AnswerRefused, match="needs the new due date"):
        act("open", "extend", operator, until=None)
    with pytest.raises(AnswerRefused, match="already extended to 2022-12-20"):
        act("open", "extend", operator, extended=True, until=LATER)
    moved = act("open", "extend", operator, extended=True, until=dt.date(2022, 12, 27))
    assert moved.after.extended_until == dt.date(2022, 12, 27) and moved.resumes_ladder


def test_the_state_is_the_fold_of_the_events_and_reopen_undoes_one_step_at_a_time():
    log = [Change("submit", submission=1), Change("accept"), Change("close")]
    assert fold(log).state == "closed"
    log.append(Change("reopen"))
    assert (fold(log).state, fold(log).submission) == ("accepted", 1)
    log.append(Change("reopen"))
    assert fold(log).state == "submitted"
    log.append(Change("reopen"))
    assert (fold(log).state, fold(log).submission) == ("open", None)


def test_after_a_return_a_new_answer_can_be_undone_back_to_the_returned_one():
    log = [Change("submit", submission=1), Change("return"), Change("submit", submission=2)]
    assert (fold(log).state, fold(log).submission) == ("submitted", 2)
    undone = fold([*log, Change("reopen")])
    assert (undone.state, undone.submission) == ("returned", 1)
    with pytest.raises(IllegalTransition, match="returned for a new answer"):
        decide(undone, "reopen", Actor("operator", "operator"), occurrence_id=OID, agency="finance", reason="r")


def test_extensions_fold_and_survive_answers():
    log = [Change("extend", until=LATER), Change("submit", submission=1), Change("accept")]
    assert fold(log).extended_until == LATER
    assert fold([Change("extend", until=LATER), Change("revoke-extension")]).extended_until is None


def test_an_extension_request_is_pending_until_granted_refused_or_answered():
    asked = [Change("request-extension", until=LATER)]
    assert fold(asked).requested_until == LATER and fold(asked).state == "open"
    assert fold([*asked, Change("extend", until=LATER)]).requested_until is None
    assert fold([*asked, Change("refuse-extension")]).requested_until is None
    assert fold([*asked, Change("submit", submission=1)]).requested_until is None
    with pytest.raises(IllegalTransition, match="no extension has been asked for"):
        decide(fold([]), "refuse-extension", Actor("operator", "operator"), occurrence_id=OID, agency="finance",
            reason="r")
    with pytest.raises(AnswerRefused, match="not later than the plan's due date"):
        act("open", "request-extension", Actor("a@minfin.kz", "focal", frozenset({"finance"})), until=PLAN_DUE)
    decision = act("open", "request-extension", Actor("a@minfin.kz", "focal", frozenset({"finance"})))
    assert not decision.stops_ladder and not decision.resumes_ladder, "asking changes nothing for the ladder"


def test_a_log_that_breaks_the_rules_is_refused():
    with pytest.raises(ValueError, match="'accept' in state 'open'"):
        fold([Change("accept")])


@pytest.mark.parametrize(("state", "action", "stops", "resumes"), [
    ("open", "submit", True, False),
    ("returned", "submit", True, False),
    ("submitted", "accept", True, False),
    ("submitted", "return", False, True),  # the ladder runs again from the next step due
    ("accepted", "return", False, True),
    ("open", "close", True, False),
    ("submitted", "reopen", False, True),
    ("accepted", "reopen", True, False),  # back to submitted: still answered
    ("closed", "reopen", False, True),
    ("open", "extend", False, True),  # a new date: its own ladder, from now
    ("returned", "extend", False, True),
])
def test_what_each_change_means_for_the_ladder(state, action, stops, resumes):
    decision = act(state, action, Actor("operator", "operator"))
    assert (decision.stops_ladder, decision.resumes_ladder) == (stops, resumes)


def test_submitted_accepted_and_closed_stop_the_ladder_open_and_returned_run_it():
    assert {s: Answer(s).ladder_runs for s in STATES} == {
        "open": True, "submitted": False, "accepted": False, "returned": True, "closed": False, "cancelled": False}


# --- documents ---------------------------------------------------------------------------------

def office(kind: str, macro: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
        if macro:
            archive.writestr("word/vbaProject.bin", b"\x00")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("report.pdf", b"%PDF-1.7\n...", PDF),
    ("scan.png", b"\x89PNG\r\n\x1a\n....", PNG),
    ("photo.JPG", b"\xff\xd8\xff\xe0....", JPEG),
    ("letter.docx", office("docx"), DOCX),
    ("table.xlsx", office("xlsx"), XLSX),
])
def test_accepted_documents_are_recognised_by_their_content(name, content, kind):
    upload = check_upload(name, content, 20 << 20)
    assert (upload.content_type, upload.size, len(upload.sha256)) == (kind, len(content), 64)
    assert sniff(content) == kind


@pytest.mark.parametrize(("name", "content", "message"), [
    ("page.pdf", b"<html><script>alert(1)</script>", "not a PDF, DOCX, XLSX, PNG or JPEG"),
    ("tool.exe", b"MZ\x90\x00", "not a PDF, DOCX, XLSX, PNG or JPEG"),
    ("macro.docx", office("docx", macro=True), "not a PDF"),
    ("archive.docx", b"PK\x03\x04garbage", "not a PDF"),
    ("scan.pdf", b"\x89PNG\r\n\x1a\n....", "the content is PNG, but the name says otherwise"),
    ("empty.pdf", b"", "the file is empty"),
    ("big.pdf", b"%PDF-" + b"0" * (2 << 20), "more than the limit, 1 MB (1 048 576 bytes), set by SCHEDULER_MAX_UPLOAD_MB"),
])
def test_other_content_is_refused_naming_the_file(name, content, message):
    with pytest.raises(BadInput) as refused:
        check_upload(name, content, 1 << 20)
    assert str(refused.value).startswith(name) and message in str(refused.value)


def test_a_documents_name_loses_folders_and_control_characters():
    assert clean_name("../../etc/passwd\r\n.pdf") == "passwd.pdf"
    assert clean_name("C:\\Users\\a\\Хат 12.pdf") == "Хат 12.pdf"
    assert len(clean_name("x" * 500 + ".pdf")) == 200 and clean_name("x" * 500 + ".pdf").endswith(".pdf")
