"""One exception hierarchy for the whole program.

`BadInput` and its subclasses are the user's to fix (exit status 2); the CLI prints them with their
cause chain and no traceback. Integration modules raise their own subclass of `SchedulerError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SchedulerError(Exception):
    """Root of every error the program raises on purpose."""

    exit_code = 1


class BadInput(SchedulerError):
    """Input the user can correct: a file, an argument, an identifier."""

    exit_code = 2
    key: str | None = None
    """How a page says it: the key of its words among the pages' (scheduler/web/words.py `MESSAGES`),
    translated there with `values`; None: the page shows the English text, as the CLI does."""
    values: dict = {}

    def worded(self, key: str, **values) -> BadInput:
        """This refusal with the key and values of its words on a page (no occurrence id: the page
        shows which); its text stays the CLI's."""
        self.key, self.values = key, values
        return self


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the file allows."""

    file: Path | str
    message: str
    line: int | None = None
    column: int | None = None
    subject: str | None = None  # e.g. "obligation 7", "agency labour"

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        subject = f" {self.subject}:" if self.subject else ""
        return f"{where}:{subject} {self.message}"


class InputFileError(BadInput):
    """A file that cannot be used; carries every problem found, not just the first."""

    kind = "input"

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        lines = [f"{len(self.problems)} problem(s) in the {self.kind}:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class PlanError(InputFileError):
    kind = "plan"


class ContactsError(InputFileError):
    kind = "contacts"


class UnknownOccurrence(BadInput):
    """An occurrence id that the plan does not produce."""


class AnswerRefused(BadInput):
    """An action on an occurrence's answer that is not taken; the message names the occurrence and
    its state. Nothing is recorded."""

    def __init__(self, message: str, occurrence_id: str | None = None, state: str | None = None,
                 action: str | None = None):
        super().__init__(message)
        self.occurrence_id, self.state, self.action = occurrence_id, state, action


class IllegalTransition(AnswerRefused):
    """The action makes no sense in the occurrence's present state (accepting what was never submitted)."""


class NotPermitted(AnswerRefused):
    """The actor's role does not allow the action (an observer, a focal point of another agency)."""


class Conflict(AnswerRefused):
    """Someone else changed the occurrence since the actor looked at it: the optimistic check failed."""
