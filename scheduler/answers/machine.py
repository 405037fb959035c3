"""The state machine of an occurrence's answer. Pure: no I/O, no clock.

States: `open` (owed, nothing recorded), `submitted` (the agency says it sent its information),
`accepted` (the secretariat confirms it), `returned` (sent back with a reason: owed again),
`closed` (not applicable or withdrawn, with a reason) — and `cancelled`, which no action reaches:
it is the plan's doing (the occurrence left the plan) and is read from the occurrence's status.

Actions: submit, accept, return, close, reopen, extend, revoke-extension, and request-extension /
refuse-extension (an agency asks for a later date; the secretariat grants it with `extend` or refuses
it; either way the state stays and the request is settled). `reopen` undoes the
latest submission, acceptance or closing that is still in force and goes back to the state before
it (accepted → submitted, submitted → open or returned, closed → whatever it was). A return clears
that history: after it the agency answers again. Extending and revoking change the due date, not
the state, and only while the occurrence is owed (open or returned): an extension granted after an
answer would change whether the answer came in time.

The state is a fold of the event log (`fold`); before an event is written, `decide` checks that the
actor's role may take the action and that the action makes sense in the present state, and raises a
typed error (a `BadInput`) naming the occurrence and its state when it does not.

For the ladder: `open` and `returned` run it; `submitted`, `accepted` and `closed` stop it. When it
runs again (returned, reopened) or the due date moves, it resumes from the next step due after that
moment: steps whose instant passed meanwhile are history, not sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from scheduler.errors import AnswerRefused, IllegalTransition, NotPermitted

OPEN, SUBMITTED, ACCEPTED, RETURNED, CLOSED, CANCELLED = "open", "submitted", "accepted", "returned", "closed", "cancelled"
STATES = (OPEN, SUBMITTED, ACCEPTED, RETURNED, CLOSED, CANCELLED)

SUBMIT, ACCEPT, RETURN, CLOSE, REOPEN, EXTEND, REVOKE = (
    "submit", "accept", "return", "close", "reopen", "extend", "revoke-extension")
REQUEST, REFUSE = "request-extension", "refuse-extension"
ACTIONS = (SUBMIT, ACCEPT, RETURN, CLOSE, REOPEN, EXTEND, REVOKE, REQUEST, REFUSE)

# Roles: the agency's own people (for their agencies only), the secretariat, and read-only observers.
# The operator at the command line acts as an admin.
FOCAL, SUPERVISOR, HEAD, REVIEWER, ADMIN, OBSERVER, OPERATOR = (
    "focal", "supervisor", "head", "reviewer", "admin", "observer", "operator")
ROLES = (FOCAL, SUPERVISOR, HEAD, REVIEWER, ADMIN, OBSERVER, OPERATOR)
AGENCY_ROLES = frozenset({FOCAL, SUPERVISOR, HEAD})
SECRETARIAT = frozenset({REVIEWER, ADMIN, OPERATOR})
STAFF_ROLES = (ADMIN, REVIEWER, OBSERVER)  # the roles a user of the secretariat can be given

MAY: dict[str, frozenset[str]] = {
    SUBMIT: SECRETARIAT | {FOCAL},
    ACCEPT: SECRETARIAT,
    RETURN: SECRETARIAT,
    CLOSE: SECRETARIAT,
    REOPEN: SECRETARIAT,
    EXTEND: SECRETARIAT,
    REVOKE: SECRETARIAT,
    REQUEST: SECRETARIAT | {FOCAL},
    REFUSE: SECRETARIAT,
}
NEEDS_REASON = frozenset({RETURN, CLOSE, REOPEN, EXTEND, REVOKE, REQUEST, REFUSE})

LADDER_RUNS = frozenset({OPEN, RETURNED})  # the other states stop it (cancelled too)
ANSWERED = frozenset({SUBMITTED, ACCEPTED})  # an answer is in: "submitted" in status, feeds, reports

# What an action does in a state. Missing pairs are illegal; cancelled has none.
REPEAT = "(repeat)"  # nothing changes and nothing is recorded: a submission already in stays as it was
UNDO = "(undo)"  # back to the state before the latest submission, acceptance or closing
SAME = "(same)"  # the state stays; the due date changes
TRANSITIONS: dict[tuple[str, str], str] = {
    (OPEN, SUBMIT): SUBMITTED,
    (RETURNED, SUBMIT): SUBMITTED,
    (SUBMITTED, SUBMIT): REPEAT,
    (ACCEPTED, SUBMIT): REPEAT,
    (SUBMITTED, ACCEPT): ACCEPTED,
    (SUBMITTED, RETURN): RETURNED,
    (ACCEPTED, RETURN): RETURNED,
    (OPEN, CLOSE): CLOSED,
    (SUBMITTED, CLOSE): CLOSED,
    (ACCEPTED, CLOSE): CLOSED,
    (RETURNED, CLOSE): CLOSED,
    (SUBMITTED, REOPEN): UNDO,
    (ACCEPTED, REOPEN): UNDO,
    (CLOSED, REOPEN): UNDO,
    (OPEN, EXTEND): SAME,
    (RETURNED, EXTEND): SAME,
    (OPEN, REVOKE): SAME,
    (RETURNED, REVOKE): SAME,
    (OPEN, REQUEST): SAME,
    (RETURNED, REQUEST): SAME,
    (OPEN, REFUSE): SAME,
    (RETURNED, REFUSE): SAME,
}

_VERB = {
    SUBMIT: "record a submission", ACCEPT: "accept it", RETURN: "return it", CLOSE: "close it",
    REOPEN: "reopen it", EXTEND: "extend its due date", REVOKE: "revoke an extension",
    REQUEST: "ask for an extension", REFUSE: "refuse an extension",
}

_BARE = {
    SUBMIT: "submit", ACCEPT: "accept", RETURN: "return", CLOSE: "close", REOPEN: "reopen", EXTEND: "extend",
    REVOKE: "revoke the extension of", REQUEST: "ask for an extension of", REFUSE: "refuse an extension of",
}


@dataclass(frozen=True)
class Actor:
    name: str  # an email address, or "operator"
    role: str
    agencies: frozenset[str] = frozenset()  # for focal points, supervisors and heads: whose occurrences


OPERATOR_ACTOR = Actor("operator", OPERATOR)


@dataclass(frozen=True)
class Answer:
    """An occurrence's answer as the events leave it."""

    state: str = OPEN
    submission: int | None = None  # the submission in force (also that of a returned answer)
    extended_until: dt.date | None = None
    requested_until: dt.date | None = None  # an extension asked for, not yet granted or refused
    # (state, submission) before each submission, acceptance or closing that `reopen` can take back
    undo: tuple[tuple[str, int | None], ...] = ()

    @property
    def ladder_runs(self) -> bool:
        return self.state in LADDER_RUNS


@dataclass(frozen=True)
class Change:
    """One event as the fold needs it."""

    action: str
    submission: int | None = None  # submit: the new submission's id
    until: dt.date | None = None  # extend: the new due date; request-extension: the date asked for


def apply(answer: Answer, change: Change) -> Answer:
    """The answer after one event. A log that breaks the machine's rules raises ValueError."""
    target = TRANSITIONS.get((answer.state, change.action))
    if target is None:
        raise ValueError(f"the event log has {change.action!r} in state {answer.state!r}")
    if target == REPEAT:
        return answer
    if target == UNDO:
        if not answer.undo:
            return replace(answer, state=OPEN, submission=None)
        (state, submission), rest = answer.undo[-1], answer.undo[:-1]
        return replace(answer, state=state, submission=submission, undo=rest)
    if change.action == EXTEND:
        return replace(answer, extended_until=change.until, requested_until=None)
    if change.action == REVOKE:
        return replace(answer, extended_until=None)
    if change.action == REQUEST:
        return replace(answer, requested_until=change.until)
    if change.action == REFUSE:
        return replace(answer, requested_until=None)
    if change.action == RETURN:
        return replace(answer, state=RETURNED, undo=())
    before = (answer.state, answer.submission)
    submission = change.submission if change.action == SUBMIT else answer.submission
    # An answer or a closing settles a request for more time: nothing is owed to extend.
    requested = None if change.action in (SUBMIT, CLOSE) else answer.requested_until
    return replace(answer, state=target, submission=submission, undo=(*answer.undo, before), requested_until=requested)


def fold(changes: Iterable[Change]) -> Answer:
    """The state is the fold of the events, oldest first."""
    answer = Answer()
    for change in changes:
        answer = apply(answer, change)
    return answer


def state_of(answer: Answer, cancelled: bool) -> str:
    """What the occurrence is in: cancelled (the plan's doing) overrides the answer's state."""
    return CANCELLED if cancelled else answer.state


@dataclass(frozen=True)
class Decision:
    before: Answer
    after: Answer
    repeat: bool = False  # nothing to record

    @property
    def resumes_ladder(self) -> bool:
        """The ladder runs afresh from now: it was stopped and runs again, or the due date moved."""
        return self.after.ladder_runs and (
            not self.before.ladder_runs or self.before.extended_until != self.after.extended_until)

    @property
    def stops_ladder(self) -> bool:
        return not self.after.ladder_runs


def may(actor: Actor, action: str, agency: str) -> bool:
    return actor.role in MAY.get(action, ()) and (actor.role not in AGENCY_ROLES or agency in actor.agencies)


def decide(
    answer: Answer,
    action: str,
    actor: Actor,
    *,
    occurrence_id: str,
    agency: str,
    cancelled: bool = False,
    reason: str | None = None,
    until: dt.date | None = None,
    plan_due: dt.date | None = None,
    submission: int | None = None,
) -> Decision:
    """Whether `actor` may take `action` now, and the answer it leaves. Raises NotPermitted,
    IllegalTransition or AnswerRefused (all BadInput), naming the occurrence and its state."""
    state = state_of(answer, cancelled)
    if action not in ACTIONS:
        raise AnswerRefused(f"{occurrence_id}: unknown action {action!r}", occurrence_id, state, action)
    if not may(actor, action, agency):
        raise NotPermitted(f"{actor.name} ({actor.role}) may not {_BARE[action]} {occurrence_id} (it is {state})",
                           occurrence_id, state, action).worded("not_permitted", action=action)
    if action in NEEDS_REASON and not (reason or "").strip():
        raise AnswerRefused(f"{occurrence_id}: a reason is needed to {_VERB[action]}", occurrence_id, state,
                            action).worded("need_reason")
    target = TRANSITIONS.get((state, action))
    if target is None or (action == REVOKE and answer.extended_until is None) or (
            action == REFUSE and answer.requested_until is None):
        raise IllegalTransition(f"{occurrence_id} is {state}: cannot {_VERB[action]}: {_why_not(state, action)}",
                                occurrence_id, state, action).worded("not_now", state=state, action=action)
    if action in (EXTEND, REQUEST):
        if until is None:
            raise AnswerRefused(f"{occurrence_id}: an extension needs the new due date", occurrence_id, state,
                                action).worded("need_until")
        if plan_due is not None and until <= plan_due:
            raise AnswerRefused(f"{occurrence_id}: cannot extend to {until.isoformat()}: not later than the plan's "
                                f"due date {plan_due.isoformat()}", occurrence_id, state, action
                                ).worded("not_later", date=until, due=plan_due)
        if action == EXTEND and until == answer.extended_until:
            raise AnswerRefused(f"{occurrence_id}: already extended to {until.isoformat()}", occurrence_id, state,
                                action).worded("already_extended", date=until)
    if target == REPEAT:
        return Decision(answer, answer, repeat=True)
    return Decision(answer, apply(answer, Change(action, submission=submission, until=until)))


def _why_not(state: str, action: str) -> str:
    if state == CANCELLED:
        return "it left the plan"
    if action == REVOKE and state in LADDER_RUNS:
        return "it has no extension"
    if action == REFUSE and state in LADDER_RUNS:
        return "no extension has been asked for"
    if state == CLOSED:
        return "it is already closed" if action == CLOSE else "it was closed; reopen it first"
    if action in (ACCEPT, RETURN) and state in LADDER_RUNS:
        return "nothing has been submitted" + (" since it was returned" if state == RETURNED else "")
    if action == ACCEPT and state == ACCEPTED:
        return "it is already accepted"
    if action == REOPEN:
        return "it is open already: there is nothing to undo" + (" (it was returned for a new answer)" if state == RETURNED else "")
    if action in (EXTEND, REVOKE, REQUEST, REFUSE):
        return "it has been answered, and a new due date now would change whether the answer came in time; reopen it first"
    return "not allowed"  # pragma: no cover - every illegal pair has its reason above
