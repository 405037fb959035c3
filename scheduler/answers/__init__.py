"""Answering a deadline, pure: the state machine of an occurrence's answer (`machine`) and the
checks on uploaded documents (`files`)."""

from scheduler.answers.machine import (
    ACCEPT,
    ACCEPTED,
    ACTIONS,
    ANSWERED,
    CANCELLED,
    CLOSE,
    CLOSED,
    EXTEND,
    LADDER_RUNS,
    OPEN,
    OPERATOR_ACTOR,
    REFUSE,
    REOPEN,
    REQUEST,
    RETURN,
    RETURNED,
    REVOKE,
    ROLES,
    STAFF_ROLES,
    STATES,
    SUBMIT,
    SUBMITTED,
    Actor,
    Answer,
    Change,
    Decision,
    apply,
    decide,
    fold,
    may,
    state_of,
)

__all__ = [
    "ACCEPT", "ACCEPTED", "ACTIONS", "ANSWERED", "CANCELLED", "CLOSE", "CLOSED", "EXTEND", "LADDER_RUNS", "OPEN",
    "OPERATOR_ACTOR", "REFUSE", "REOPEN", "REQUEST", "RETURN", "RETURNED", "REVOKE", "ROLES", "STAFF_ROLES", "STATES", "SUBMIT",
    "SUBMITTED", "Actor", "Answer", "Change", "Decision", "apply", "decide", "fold", "may", "state_of",
]
