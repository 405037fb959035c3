"""What the use cases work with, built once by the CLI and the daemon (and again on a reload):
settings, the plan, the store, the transport, the plan's calendar and timing, and what is read
once per sync or once per process (the contacts' directory, the focal points' addresses, the
secret key, the rendered feeds). Use cases are functions taking it; it does no work of its own.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scheduler.app import links
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.feeds import tokens
from scheduler.feeds.serve import FeedCache
from scheduler.notify.ladder import Directory, Person, Timing
from scheduler.plan import Plan
from scheduler.settings import Settings
from scheduler.store.ledger import lease_clock
from scheduler.store.tables import ContactRow, SettingRow
from scheduler.transport import Transport


def synced_at(db: Session) -> str | None:
    """When plan and contacts were last synced (by any process): what the caches here depend on."""
    table = SettingRow.__table__
    return db.connection().execute(select(table.c.value).where(table.c.key == "synced_at")).scalar()


@dataclass(eq=False)
class Context:
    settings: Settings
    plan: Plan
    engine: Engine
    transport: Transport
    calendar: WorkdayCalendar = field(init=False)
    timing: Timing = field(init=False)
    # Set by the daemon on SIGTERM: the delivery claims no more and finishes what is in hand.
    stopping: threading.Event = field(init=False, default_factory=threading.Event)
    lease_clock: Callable = field(init=False, default_factory=lambda: lease_clock)  # the wall clock leases are measured on
    feeds: FeedCache = field(init=False, default_factory=FeedCache)
    digest_recorded: str | None = field(init=False, default=None)  # this week's digest key, once the ledger has it
    ticked: bool = field(init=False, default=False)  # the first tick is logged even when idle
    _directory: tuple[str | None, Directory] | None = field(init=False, default=None, repr=False)
    _focal: tuple[str | None, frozenset[str]] | None = field(init=False, default=None, repr=False)
    _key: bytes | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        plan = self.plan
        self.calendar = WorkdayCalendar(plan.policy.holidays)
        self.timing = Timing.of_plan(plan, self.calendar, self.settings.timezone,
                                     lambda day: plan.recipient_on(plan.file.plan.coordinator, day))

    def directory(self, db: Session) -> Directory:
        """Contacts as of the last sync; read again only when a sync (in any process) changed them."""
        version = synced_at(db)
        if self._directory is None or self._directory[0] != version:
            contacts: dict[tuple[str, str], list[Person]] = defaultdict(list)
            table = ContactRow.__table__
            for agency, role, email, name, language, phone in db.connection().execute(
                select(table.c.agency, table.c.role, table.c.email, table.c.name, table.c.language, table.c.phone)
                .order_by(table.c.id)
            ):
                contacts[(agency, role)].append(Person(email, name, language, phone))
            plan = self.plan
            self._directory = (version, Directory(
                contacts=dict(contacts),
                by_agreement=frozenset(c for c, a in plan.file.agencies.items() if a.by_agreement),
                placeholders=plan.placeholders,
                # the coordinator of the occurrence's own plan (the home plan's for none)
                coordinator_on=lambda day, occurrence_id="": plan.recipient_on(plan.coordinator_of(occurrence_id), day),
            ))
        return self._directory[1]

    def focal_addresses(self, db: Session) -> frozenset[str]:
        """The focal points' addresses (lowercased), as of the last sync."""
        version = synced_at(db)
        if self._focal is None or self._focal[0] != version:
            self._focal = (version, frozenset(
                person.email.lower()
                for (_, role), people in self.directory(db).contacts.items() if role == "focal"
                for person in people
            ))
        return self._focal[1]

    def secret_key(self) -> bytes:
        """SCHEDULER_SECRET_KEY_FILE's key (made there on first use): feed tokens are derived from it."""
        if self._key is None:
            self._key = tokens.load_or_create_key(self.settings.secret_key_file)
        return self._key

    def link_key(self) -> bytes:
        """The personal links' key, derived from the secret key."""
        return links.key_from(self.secret_key())
