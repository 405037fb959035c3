"""Who a signed-in person is: her agencies and roles there (from the contacts), her role in the
secretariat (from the users), her language, and so what she may see and do.

A focal point sees and answers her agencies' occurrences; a supervisor or head sees his agency's;
the secretariat's users see everything (reviewers and admins act, observers only read). Someone who
is neither a contact nor an enabled user is nobody: her links and sessions show nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import select

from scheduler.answers import Actor
from scheduler.answers.machine import ADMIN, FOCAL, HEAD, OBSERVER, REVIEWER, SUPERVISOR
from scheduler.store.db import session
from scheduler.store.tables import ContactRow, UserRow


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    language: str | None  # from the contacts; None for staff who are no contact
    staff_role: str | None = None  # admin | reviewer | observer
    roles: dict[str, frozenset[str]] = field(default_factory=dict)  # agency → focal / supervisor / head

    @property
    def staff(self) -> bool:
        return self.staff_role is not None

    @property
    def reviews(self) -> bool:
        """May take the secretariat's actions (accept, return, extend, close, reopen)."""
        return self.staff_role in (ADMIN, REVIEWER)

    @property
    def agencies(self) -> frozenset[str]:
        return frozenset(self.roles)

    @property
    def focal_for(self) -> frozenset[str]:
        return frozenset(a for a, roles in self.roles.items() if FOCAL in roles)

    def sees(self, agency: str) -> bool:
        return self.staff or agency in self.roles

    def answers(self, agency: str) -> bool:
        return self.reviews or agency in self.focal_for

    def actor(self) -> Actor:
        """The actor the state machine judges: the secretariat role first, then focal point."""
        if self.staff_role in (ADMIN, REVIEWER):
            return Actor(self.email, self.staff_role)
        if self.focal_for:
            return Actor(self.email, FOCAL, self.focal_for)
        if self.staff_role == OBSERVER:
            return Actor(self.email, OBSERVER)
        kinds = {r for roles in self.roles.values() for r in roles}
        return Actor(self.email, SUPERVISOR if SUPERVISOR in kinds else HEAD, self.agencies)


def admin(user: str) -> Person:
    """The dashboard's HTTP Basic user: an admin, named by its user name in the records."""
    return Person(user, user, None, ADMIN)


def who(engine: Engine, email: str) -> Person | None:
    address = email.lower()
    with session(engine) as db:
        contacts = db.exec(select(ContactRow).where(ContactRow.email == address).order_by(ContactRow.id)).all()
        user = db.exec(select(UserRow).where(UserRow.email == address, UserRow.disabled_at == None)).first()  # noqa: E711
    if not contacts and user is None:
        return None
    roles: dict[str, set[str]] = {}
    for contact in contacts:
        roles.setdefault(contact.agency, set()).add(contact.role)
    # Her own language: the one she set as a user, else the contacts file's.
    language = (user.language if user is not None else None) or (contacts[0].language if contacts else None)
    return Person(address, contacts[0].name if contacts else address, language,
                  user.role if user else None, {a: frozenset(r) for a, r in roles.items()})
