"""Who a signed-in person is: her agencies and roles there (from the contacts), her role in the
secretariat (from the users), her language, and so what she may see and do.

A focal point sees and answers her agencies' occurrences; a supervisor or head sees his agency's;
the secretariat's users see everything (reviewers and admins act, observers only read). Someone who
is neither a contact nor an enabled user is nobody: her links and sessions show nothing.

Read beyond her own bodies, never acting there (`Scope`, from the plan, given by the pages): a focal
point of the plan's coordinator (the body that gets the weekly digest) reads the whole plan — the
dashboard and every occurrence — as the digest's links need; a focal point of a body that
information is owed to (a recipient, told of misses by escalation-5wd) reads the occurrences owed
to it. Neither is a member of the secretariat: no decisions, no review queue's buttons."""

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
    reads_plan: bool = False  # a focal point of the plan's coordinator: reads every body's deadlines
    told_of: frozenset[str] = frozenset()  # recipient codes (bodies, offices) whose owed deadlines she reads

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

    def sees(self, agency: str, recipient: str | None = None) -> bool:
        """May read an occurrence of `agency` (owed to `recipient`, when given)."""
        return self.staff or self.reads_plan or agency in self.roles or (recipient is not None and recipient in self.told_of)

    @property
    def reads_dashboard(self) -> bool:
        """The secretariat, and the coordinator's focal points (read-only, plan-wide)."""
        return self.staff or self.reads_plan

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


@dataclass(frozen=True)
class Scope:
    """What the plan says about reading beyond one's own bodies: `readers`, the bodies whose focal
    points read the whole plan (the coordinators' holders today); `told`, per body, the recipient
    codes its focal points are told of (the body itself and the offices it holds in some year)."""

    readers: frozenset[str] = frozenset()
    told: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of_plan(cls, plan, day) -> Scope:
        readers = {plan.recipient_on(member.file.plan.coordinator, day) for member in plan.plans}
        told: dict[str, set[str]] = {}
        for office in plan.file.offices:
            for year in plan.years:
                holder = plan.office_holder(office, year)
                if holder is not None:
                    told.setdefault(holder, set()).add(office)
        return cls(frozenset(r for r in readers if r), {a: frozenset(c) for a, c in told.items()})


def who(engine: Engine, email: str, scope: Scope | None = None) -> Person | None:
    """The person behind `email` (None: nobody); `scope`: what she reads beyond her own bodies."""
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
    focal = {a for a, r in roles.items() if FOCAL in r}
    scope = scope or Scope()
    told = frozenset(focal) | frozenset(code for a in focal for code in scope.told.get(a, ()))
    return Person(address, contacts[0].name if contacts else address, language,
                  user.role if user else None, {a: frozenset(r) for a, r in roles.items()},
                  reads_plan=bool(focal & scope.readers), told_of=told)


def is_focal(engine: Engine, email: str) -> bool:
    """Whether `email` is a focal point of some body (in the contacts as last synced)."""
    with session(engine) as db:
        return db.exec(select(ContactRow.id).where(ContactRow.email == email.lower(), ContactRow.role == "focal")).first() is not None
