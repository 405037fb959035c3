"""One pass of the daemon's work, and the other store-backed commands.

The caller reads the clock once and passes `now`; everything below takes it as an argument.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scheduler import metrics, report
from scheduler.answers import ANSWERED, CLOSED, LADDER_RUNS
from scheduler.app import links, notices
from scheduler.app.deliver import TickReport, deliver
from scheduler.calendar.workdays import WorkdayCalendar
from scheduler.feeds import content, tokens
from scheduler.feeds.ics import RenderedFeed, deadlines_calendar, etag_of
from scheduler.i18n import LANGUAGES
from scheduler.notify import compose
from scheduler.notify.ladder import (
    DIGEST,
    Directory,
    OpenOccurrence,
    Person,
    Planned,
    Timing,
    digest_key,
    plan_digest,
    plan_notifications,
)
from scheduler.plan import GOVERNMENT, Plan
from scheduler.plan.dating import own_report
from scheduler.settings import Settings
from scheduler.store.db import retrying, session
from scheduler.store.ledger import advance, as_utc, lease_clock, open_occurrences, record, recorded_keys
from scheduler.store.tables import ContactRow, EventRow, NotificationRow, OccurrenceRow, SettingRow, SubmissionRow
from scheduler.transport import Transport

log = logging.getLogger("scheduler")
# Seconds a tick's planning, and an email's reads, wait for a database that dropped its connections.
PLAN_BUDGET = 60.0
COMPOSE_BUDGET = 30.0
UPCOMING_DAYS = 14
CANCELLED_KEPT = dt.timedelta(days=90)
FEED_CACHE_SIZE = 256


def period_named(plan: Plan, obligation_id: str, period: str, agency: str | None = None) -> dict:
    """An item's period: its label, whether the row is an event, and a partial first period (for `Item`)."""
    from scheduler.calendar.periods import period_info

    info = period_info(plan, obligation_id, period, agency)
    if info is None:
        return {}
    return {"period": info.label, "event": info.event, "opens": info.start, "partial_from": info.partial_from}


def plan_named(plan: Plan, obligation_id: str, language: str) -> dict:
    """With several plans loaded: an item's plan's title and its place among them (for `compose.Item`)."""
    if not plan.members:
        return {}
    own = plan.plan_of(obligation_id)
    meta = own.file.plan
    return {"plan": getattr(meta, f"title_{language}", None) or meta.title_kk, "plan_rank": plan.members.index(own)}


class Service:
    def __init__(self, settings: Settings, plan: Plan, engine: Engine, transport: Transport):
        self.settings = settings
        self.plan = plan
        self.engine = engine
        self.transport = transport
        self.calendar = WorkdayCalendar(plan.policy.holidays)
        self.timing = Timing.of_plan(plan, self.calendar, settings.timezone,
                                     lambda day: plan.recipient_on(plan.file.plan.coordinator, day))
        self._directory: tuple[str | None, Directory] | None = None
        self._digest_recorded: str | None = None  # this week's digest key, once the ledger has it
        self._feeds: OrderedDict[tuple, RenderedFeed] = OrderedDict()  # rendered feeds by data version
        self._feed_versions: OrderedDict[tuple, tuple] = OrderedDict()  # data versions by cheap stamp
        self._feed_key: bytes | None = None  # read from SCHEDULER_SECRET_KEY_FILE on first need
        self._focal: tuple[str | None, frozenset[str]] | None = None  # focal points' addresses, per sync
        self._ticked = False  # the first tick is logged even when idle
        self.stopping = threading.Event()  # set by the daemon on SIGTERM: claim no more, finish what is in hand
        self.lease_clock = lease_clock  # the wall clock that claims' leases are measured on

    # --- planning ---------------------------------------------------------------------------

    @staticmethod
    def synced_at(db: Session) -> str | None:
        """When plan and contacts were last synced (by any process): what the caches here depend on."""
        table = SettingRow.__table__
        return db.connection().execute(select(table.c.value).where(table.c.key == "synced_at")).scalar()

    def directory(self, db: Session) -> Directory:
        """Contacts as of the last sync; read again only when a sync (in any process) changed them."""
        version = self.synced_at(db)
        if self._directory is None or self._directory[0] != version:
            contacts: dict[tuple[str, str], list[Person]] = defaultdict(list)
            table = ContactRow.__table__
            for agency, role, email, name, language, phone in db.connection().execute(
                select(table.c.agency, table.c.role, table.c.email, table.c.name, table.c.language, table.c.phone)
                .order_by(table.c.id)
            ):
                contacts[(agency, role)].append(Person(email, name, language, phone))
            self._directory = (version, Directory(
                contacts=dict(contacts),
                by_agreement=frozenset(c for c, a in self.plan.file.agencies.items() if a.by_agreement),
                placeholders=self.plan.placeholders,
                # the coordinator of the occurrence's own plan (the home plan's for none)
                coordinator_on=lambda day, occurrence_id="": self.plan.recipient_on(self.plan.coordinator_of(occurrence_id), day),
            ))
        return self._directory[1]

    def plan_due(self, db: Session, now: dt.datetime) -> tuple[list[OpenOccurrence], list[Planned]]:
        """The occurrences with a step to plan by `now`, and the ledger rows to write for them.

        Steps before an occurrence's `next_step_at` are handled; a step planned twice (by two
        processes at once) is a no-op insert on the ledger's unique key. So only the digest's key
        is read from the ledger here."""
        first, last = self.timing.open_window(now)
        occurrences = open_occurrences(db, first, last, step_due_by=now)
        directory = self.directory(db)
        planned = plan_notifications(occurrences, directory, self.timing, set(), now)
        week = digest_key(self.timing.digest_instant(now), self.timing)
        if week != self._digest_recorded:
            recorded = recorded_keys(db, [week])
            digest = plan_digest(directory, self.timing, recorded, now)
            if not digest:
                self._digest_recorded = week
            elif not digest[0].send:
                log.info("digest %s skipped: %s (now=%s)", week.removeprefix("digest:"), digest[0].reason, now.isoformat())
            planned += digest
        return occurrences, planned

    def plan_and_record(self, now: dt.datetime) -> tuple[list[OpenOccurrence], list[Planned]]:
        """A tick's first part, in one transaction: plan what is due by `now`, write it to the
        ledger, point each occurrence planned for at its next step."""
        def once() -> tuple[list[OpenOccurrence], list[Planned]]:
            with session(self.engine) as db:
                considered, planned = self.plan_due(db, now)
                record(db, planned)
                advance(db, considered, self.timing, now)
            return considered, planned

        # One transaction, and recording is idempotent (the ledger's unique key): tried again whole.
        return retrying("planning the tick", once, PLAN_BUDGET, self.stopping)

    # --- the tick ---------------------------------------------------------------------------

    def tick(self, now: dt.datetime) -> TickReport:
        report = TickReport()
        with metrics.tick_seconds.time():
            try:
                _, planned = self.plan_and_record(now)
                report.planned = sum(p.send for p in planned)
                report.skipped = len(planned) - report.planned
                self.deliver(now, report)
            except Exception:
                metrics.ticks.labels("error").inc()
                raise
        metrics.ticks.labels("ok").inc()
        # An idle tick (nothing planned, nothing sent or failed) is not worth a line a minute; the
        # first one is, to say that ticking has begun.
        busy = report.planned or report.skipped or report.emails or report.withdrawn or not self._ticked
        self._ticked = True
        log.log(logging.INFO if busy else logging.DEBUG, "tick now=%s %s", now.isoformat(), report)
        return report

    def deliver(self, now: dt.datetime, report: TickReport) -> None:
        domain = self.settings.mail_from.rpartition("@")[2] or "localhost"
        shared = compose.Batch(self.working_days_between)  # renderings shared by the tick's recipients
        memo: dict[tuple, object] = {}  # and the deadlines as emails list them, the addresses by body and role
        deliver(self.engine, self.transport, lambda groups, ids, moment: self.compose_batch(groups, ids, moment, shared, memo),
                domain, now, report, self.stopping, self.lease_clock)

    # --- composing ----------------------------------------------------------------------------

    def letterhead(self, language: str, now: dt.datetime, feed_url: str | None = None,
                   personal: tuple[str, dt.date] | None = None) -> compose.Letterhead:
        title = "; ".join(getattr(p.file.plan, f"title_{language}", None) or p.file.plan.title_kk for p in self.plan.plans)
        return compose.Letterhead(self.settings.mail_from, title, self.settings.public_base_url(), feed_url,
                                  *(personal or (None, None)), sender_name=self.sender_name(language, now),
                                  reply_to=self.settings.reply_to,
                                  translation=self.plan.translation_status(language) if language != "kk" else None)

    def sender_name(self, language: str, now: dt.datetime) -> str:
        """From's display name: SCHEDULER_MAIL_FROM_NAME, else the plan's coordinator (the
        commission's working body) named in the reader's language, as it is called at `now`."""
        if self.settings.mail_from_name:
            return self.settings.mail_from_name
        coordinator = self.plan.file.plan.coordinator
        if not coordinator:
            return ""
        office = self.plan.file.offices.get(coordinator)
        if office is not None:
            name = getattr(office, f"name_{language}", None) or office.name_kk
        elif self.plan.agency(coordinator):
            name = self.plan.display_name(coordinator, self.timing.local_day(now), language)
        else:
            return ""
        return name[:1].upper() + name[1:]

    def link_key(self) -> bytes:
        """The personal links' key, derived from SCHEDULER_SECRET_KEY_FILE (made there on first use)."""
        if self._feed_key is None:
            self._feed_key = tokens.load_or_create_key(self.settings.secret_key_file)
        return links.key_from(self._feed_key)

    def personal_link(self, db: Session, email: str, now: dt.datetime) -> tuple[str, dt.date]:
        """The recipient's personal link as of `now`, and the last day it is good for."""
        until = self.timing.local_day(now + dt.timedelta(days=self.settings.link_days)) - dt.timedelta(days=1)
        return links.url(self.settings.public_base_url(), self.link_key(), db, email, now), until

    def feed_url_for(self, email: str, now: dt.datetime) -> str | None:
        """The link to a focal point's own feed (every agency she is focal for); None for others."""
        with session(self.engine) as db:
            return self.feed_urls(db, [email], now, self.focal_addresses(db)).get(email.lower())

    def feed_urls(self, db: Session, emails: Sequence[str], now: dt.datetime, focal: frozenset[str],
                  registered: dict | None = None) -> dict[str, str]:
        """The links to the own feeds of those of `emails` who are focal points (`focal`), by
        lowercased address, their tokens registered on first use; none for a revoked one.
        `registered`: the tokens already read (`tokens.contact_token_states`), kept up to date."""
        if self._feed_key is None:
            self._feed_key = tokens.load_or_create_key(self.settings.secret_key_file)
        found = tokens.ensure_contact_tokens(db, self._feed_key, [e for e in emails if e.lower() in focal], now, registered)
        base = self.settings.public_base_url()
        return {address: f"{base}/feeds/{token}.ics" for address, token in found.items() if token}

    def item(self, row: OccurrenceRow, language: str, focal: Sequence[Person] = ()) -> compose.Item:
        """A deadline as emails list it; `focal`: its body's focal points (named for its heads)."""
        obligation = self.plan.obligation(row.obligation)
        pick = lambda name: (getattr(obligation, f"{name}_{language}", None) or getattr(obligation, f"{name}_kk")) if obligation else None  # noqa: E731
        recipient = None
        if row.recipient == GOVERNMENT or (row.recipient and self.plan.agency(row.recipient)):
            recipient = self.plan.display_name(row.recipient, row.nominal_due, language)
        agency = self.plan.agency(row.agency)
        heading = None
        if obligation is not None and obligation.under:
            parent = next((h for h in self.plan.file.headings if h.id == obligation.under), None)
            if parent is not None:
                heading = f"{parent.id}. " + (getattr(parent, f"title_{language}", None) or parent.title_kk)
        return compose.Item(
            occurrence_id=row.id,
            obligation=row.obligation,
            agency_name=self.plan.display_name(row.agency, row.nominal_due, language) if agency else row.agency,
            title=(pick("title") or row.title_kk).rstrip(" ;"),
            form=pick("form"),
            due=row.due,
            recipient_name=recipient,
            own_report=row.recipient is None and own_report(self.plan, row.obligation, row.agency, row.nominal_due),
            sequence=row.sequence,
            heading=heading,
            by_agreement=bool(agency and agency.by_agreement),
            agency_short=content.short_name(self.plan, row.agency, row.nominal_due, language) if agency else None,
            focal=tuple(", ".join(filter(None, (p.name, p.email, getattr(p, "phone", None)))) for p in focal),
            **plan_named(self.plan, row.obligation, language),
            **period_named(self.plan, row.obligation, row.period, row.agency),
        )

    def focal_addresses(self, db: Session) -> frozenset[str]:
        version = self.synced_at(db)
        if self._focal is None or self._focal[0] != version:
            self._focal = (version, frozenset(
                person.email.lower()
                for (_, role), people in self.directory(db).contacts.items() if role == "focal"
                for person in people
            ))
        return self._focal[1]

    def compose_group(self, group: Sequence[NotificationRow], message_id: str, now: dt.datetime):
        """The one email of a notice's or a digest's group of ledger rows (the ladder's steps are
        written a batch at a time, by `compose_batch`)."""
        first = group[0]
        if first.step in notices.KINDS:
            return notices.compose_group(self, group, message_id, now)
        to = compose.Recipient(first.recipient, first.name, first.language)
        with session(self.engine) as db:
            report = self.digest_report(db, now, first.occurrence_id, first.language)
            # Her personal link signs her in and opens the dashboard (plan-wide, read-only: she is a
            # focal point of the coordinator), so every link of the digest opens after it.
            url, until = self.personal_link(db, first.recipient, now)
        return compose.digest(to, report, self.letterhead(first.language, now, None, (f"{url}?next=%2F", until)),
                              now, message_id)

    def compose_batch(self, groups: Sequence[Sequence[NotificationRow]], message_ids: Sequence[str], now: dt.datetime,
                      shared: compose.Batch, memo: dict[tuple, object]):
        """The emails of a claimed batch's groups, in order (or the exception that kept one from being
        written): what `compose_group` makes, with one read for the whole batch of the deadlines, the
        contacts' feed tokens, and the renderings shared by recipients of the same deadlines (`shared`,
        kept for the tick, as `memo`: each deadline as of its row's last change, in each language, the
        addresses of a body's people in a role, and what is read once a tick: the directory, the links'
        revoked generations, the feed tokens registered). Digests and notices are composed group by
        group."""
        ladder = [g for g in groups if g[0].step not in notices.KINDS and g[0].step != DIGEST]
        if ladder:
            # Read-only, so tried again whole after a database fault.
            rows, directory, generations, feeds = retrying(
                "reading the deadlines of a batch's emails", lambda: self._batch_reads(ladder, now, memo), COMPOSE_BUDGET)
            link_key, base = self.link_key(), self.settings.public_base_url()
            until = self.timing.local_day(now + dt.timedelta(days=self.settings.link_days)) - dt.timedelta(days=1)
            letterheads: dict[str, compose.Letterhead] = {}
        for group, message_id in zip(groups, message_ids, strict=True):
            first = group[0]
            try:
                if first.step in notices.KINDS or first.step == DIGEST:
                    yield retrying(f"composing the {first.step} to {first.recipient}",
                                   lambda: self.compose_group(group, message_id, now), COMPOSE_BUDGET)
                    continue
                address = first.recipient.lower()
                if first.language not in letterheads:
                    letterheads[first.language] = self.letterhead(first.language, now)
                letterhead = replace(letterheads[first.language], feed_url=feeds.get(address),
                                     personal_url=f"{base}{links.PATH}{links.mint(link_key, address, generations.get(address, 0), now)}",
                                     link_until=until)
                found = list({r.occurrence_id: rows[r.occurrence_id] for r in group if r.occurrence_id in rows}.values())
                keys = [("item", row.id, row.updated_at, row.due, first.language) for row in found]
                for key, row in zip(keys, found):
                    if key not in memo:
                        memo[key] = self.item(row, first.language, directory.people(row.agency, "focal"))
                to = compose.Recipient(first.recipient, first.name, first.language,
                                       self.role_of(first, found, directory, memo))
                yield shared.deadline(compose.kind_of(first.step), to, first.step, [memo[key] for key in keys],
                                      letterhead, now, message_id)
            except Exception as error:  # noqa: BLE001 - recorded on its group, never holds back the others
                yield error

    def _batch_reads(self, ladder: Sequence[Sequence[NotificationRow]], now: dt.datetime, memo: dict[tuple, object]):
        """What a batch's ladder emails need, in one read: their deadlines by id, the directory, the
        links' revoked generations, and each recipient's feed URL."""
        with session(self.engine) as db:
            ids = sorted({r.occurrence_id for g in ladder for r in g})
            table = OccurrenceRow.__table__  # plain rows, with the attributes `item` and `role_of` read
            rows = {row.id: row for row in db.connection().execute(select(table).where(table.c.id.in_(ids)))}
            if ("reads",) not in memo:  # once a tick: what holds for all its batches
                memo[("reads",)] = (self.directory(db), self.focal_addresses(db), links.revoked_generations(db),
                                    tokens.contact_token_states(db))
            directory, focal, generations, registered = memo[("reads",)]
            feeds = self.feed_urls(db, [g[0].recipient for g in ladder], now, focal, registered)
        return rows, directory, generations, feeds

    def role_of(self, first: NotificationRow, rows: Sequence[OccurrenceRow], directory: Directory, memo: dict) -> str:
        """Why this person gets a step's email: as the agency's focal point, supervisor or head; as a
        focal point of the body the information is owed to ("recipient"); or as the coordinator
        standing in for the head of a body by agreement ("coordinator"). `memo` keeps a body's
        people in a role (a tick's)."""
        owing = {row.agency for row in rows}
        if first.agency is not None and first.agency not in owing:
            by_agreement = all(getattr(self.plan.agency(a), "by_agreement", False) for a in owing)
            coordinator = directory.coordinator_on(first.due, first.occurrence_id)
            if by_agreement and first.agency == coordinator and first.step.startswith("escalation") and \
                    all(row.recipient != first.agency and self.plan.recipient_on(row.recipient, row.nominal_due) != first.agency
                        for row in rows):
                return "coordinator"
            return "recipient"
        address = first.recipient.lower()
        for role in ("focal", "supervisor", "head"):
            key = ("people", first.agency, role)
            if key not in memo:
                memo[key] = frozenset(p.email.lower() for p in directory.people(first.agency, role))
            if address in memo[key]:
                return role
        return "focal"

    def working_days_between(self, earlier: dt.date, later: dt.date) -> int:
        """Working days after `earlier` up to and including `later`, by the plan's calendar."""
        calendar = self.timing.calendar
        return sum(calendar.is_working_day(earlier + dt.timedelta(days=n)) for n in range(1, (later - earlier).days + 1))

    def digest_report(self, db: Session, now: dt.datetime, key: str, language: str) -> compose.DigestReport:
        """This week's digest (scheduler/app/digest.py)."""
        from scheduler.app import digest

        return digest.report(self, db, now, key, language)

    # --- other commands -----------------------------------------------------------------------

    def database_problem(self) -> str | None:
        """None when the database answers; otherwise what went wrong, in one line."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any failure means unhealthy; say which
            return f"{error.__class__.__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]
        return None

    def is_focal_contact(self, email: str) -> bool:
        with session(self.engine) as db:
            return db.exec(select(ContactRow.id).where(ContactRow.email == email.lower(), ContactRow.role == "focal")).first() is not None

    def submit(self, occurrence_id: str, at: dt.datetime, note: str | None, now: dt.datetime,
               client: str | None = None) -> tuple[bool, SubmissionRow]:
        """Record a submission by the operator (scheduler/app/answer.py); returns (new, row). A second
        submission keeps the first."""
        from scheduler.app import answer

        done = answer.submit(self.engine, self.timing, occurrence_id, at=at, now=now, note=note,
                             earliest=self.plan.plan_of(occurrence_id).adopted, client=client)
        return not done.repeat, done.submission

    def simulate(self, start: dt.date, end: dt.date):
        """Every notification of the span: what the ledger holds, and what ticks would still send."""
        from scheduler.app.simulate import simulate

        return simulate(self, start, end)

    def feed(self, token: str, now: dt.datetime, lang: str | None = None, plan_id: str | None = None) -> RenderedFeed | None:
        """The rendered feed for a live token; None for an unknown or revoked one. Its language:
        `lang` when given (kk, ru, en), else a contact's own language, else Kazakh. With several
        plans loaded it holds every plan's deadlines, or `plan_id`'s alone (None when not loaded).

        Cancelled occurrences stay in the feed for CANCELLED_KEPT so subscribed clients remove them."""
        row = tokens.find(self.engine, token)
        if row is None:
            return None
        try:
            member = self.plan.member(plan_id) if plan_id is not None else None
        except KeyError:
            return None
        with session(self.engine) as db:
            if row.scope == "contact" and lang not in LANGUAGES:
                lang = db.exec(select(ContactRow.language).where(ContactRow.email == row.email)).first()
            lang = lang if lang in LANGUAGES else "kk"
            if row.scope == "agency":
                agencies, name = [row.agency], content.short_name(self.plan, row.agency, self.timing.local_day(now), lang)
            elif row.scope == "contact":
                agencies = list(db.exec(select(ContactRow.agency).where(ContactRow.email == row.email, ContactRow.role == "focal")))
                name = row.email
            else:
                agencies, name = None, "all"
            scope = (OccurrenceRow.status == "active") | (col(OccurrenceRow.updated_at) >= as_utc(now) - CANCELLED_KEPT)
            if agencies is not None:
                scope = scope & col(OccurrenceRow.agency).in_(agencies)
            joined = (col(SubmissionRow.id) == col(OccurrenceRow.submission_id))
            # A cheap stamp of what can change the feed: a sync (plan or contacts), an answer or an
            # extension (each written with an event), a cancelled occurrence leaving the feed's window.
            # While it stands, the data's version is the one found last; a new stamp asks again.
            o, setting = OccurrenceRow.__table__.c, SettingRow.__table__.c
            stamp = tuple(db.connection().execute(select(
                select(setting.value).where(setting.key == "synced_at").scalar_subquery(),
                select(func.count()).select_from(EventRow.__table__).scalar_subquery(),  # append-only: ids may commit out of order
                select(func.count()).select_from(OccurrenceRow.__table__)
                .where(o.status == "cancelled", o.updated_at >= as_utc(now) - CANCELLED_KEPT).scalar_subquery(),
            )).one())
            key = (row.token_hash, lang, plan_id, tuple(sorted(agencies or ())), name, stamp)
            version = self._feed_versions.get(key)
            if version is None:
                # The data's version: what any change to these events changes (a query over every
                # row of the feed). Rendering is the costly part.
                version = self._feed_versions[key] = (*key[:5], *db.exec(
                    select(func.count(), func.max(OccurrenceRow.updated_at), func.max(SubmissionRow.recorded_at))
                    .select_from(OccurrenceRow).outerjoin(SubmissionRow, joined).where(scope)
                ).one())
                while len(self._feed_versions) > FEED_CACHE_SIZE:
                    self._feed_versions.popitem(last=False)
            cached = self._feeds.get(version)
            if cached is not None:
                self._feeds.move_to_end(version)
                return cached
            # Plain rows of the columns an event needs (no ORM object per occurrence).
            rows = db.connection().execute(
                select(o.id, o.obligation, o.agency, o.nominal_due, o.due, o.recipient, o.sequence, o.updated_at,
                       o.status, o.state, SubmissionRow.__table__.c.recorded_at)
                .select_from(OccurrenceRow.__table__.outerjoin(SubmissionRow.__table__, joined)).where(scope)
            ).all()
        if member is not None and self.plan.members:
            rows = [r for r in rows if self.plan.plan_of(r.obligation) is member]
        events = [
            content.deadline(
                self.plan, self.calendar, occurrence_id=r.id, obligation_id=r.obligation, agency=r.agency,
                nominal=r.nominal_due, due=r.due, recipient=r.recipient, sequence=r.sequence,
                last_modified=max(filter(None, (r.updated_at, r.recorded_at))), cancelled=r.status != "active",
                submitted=r.state in ANSWERED, lang=lang,
            )
            for r in rows
        ]
        stamp = max((e.last_modified for e in events), default=content.plan_stamp(self.plan))
        shown = [member] if member is not None else self.plan.plans
        title = f"{' + '.join(p.file.plan.id for p in shown)} — {name}"
        body = deadlines_calendar(events, title, stamp)
        rendered = self._feeds[version] = RenderedFeed(title, body, etag_of(body))
        while len(self._feeds) > FEED_CACHE_SIZE:
            self._feeds.popitem(last=False)
        return rendered

    def due_between(self, first: dt.date, last: dt.date) -> dict[dt.date, list[tuple[str, str, bool]]]:
        """Active occurrences due in [first, last] by day: (id, agency's short name, nothing owed:
        submitted, accepted or closed)."""
        with session(self.engine) as db:
            rows = db.exec(
                select(OccurrenceRow.id, OccurrenceRow.agency, OccurrenceRow.due, OccurrenceRow.state)
                .where(OccurrenceRow.status == "active", col(OccurrenceRow.due).between(first, last))
                .order_by(OccurrenceRow.due, OccurrenceRow.id)
            ).all()
        days: dict[dt.date, list[tuple[str, str, bool]]] = defaultdict(list)
        for oid, agency, due, state in rows:
            known = self.plan.agency(agency)
            days[due].append((oid, known.short_kk if known else agency, state not in LADDER_RUNS))
        return dict(days)

    def history(self, occurrence_id: str):
        """(occurrence, the submission in force or None, its ledger rows) or None when there is no such occurrence."""
        with session(self.engine) as db:
            row = db.get(OccurrenceRow, occurrence_id)
            if row is None:
                return None
            ledger = list(db.exec(select(NotificationRow).where(NotificationRow.occurrence_id == occurrence_id)
                                  .order_by(NotificationRow.scheduled_at, NotificationRow.id)))
            submission = db.get(SubmissionRow, row.submission_id) if row.submission_id is not None else None
            return row, submission, ledger

    def compliance(self, year: int, now: dt.datetime, lang: str = "kk") -> list[report.AgencyCompliance]:
        """The compliance table of occurrences due in `year` (active ones, not closed), as of `now`.
        An answer counts while submitted or accepted; a returned one is owed again. Each body is
        named in `lang` as on the nominal date of its last deadline of the year, as the dashboard
        names it (`report.body_name`)."""
        with session(self.engine) as db:
            rows = db.exec(
                select(OccurrenceRow.agency, OccurrenceRow.nominal_due, OccurrenceRow.due, OccurrenceRow.state,
                       SubmissionRow.submitted_at)
                .outerjoin(SubmissionRow, col(SubmissionRow.id) == col(OccurrenceRow.submission_id))
                .where(OccurrenceRow.status == "active", OccurrenceRow.state != CLOSED,
                       col(OccurrenceRow.due).between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
                .order_by(OccurrenceRow.due, OccurrenceRow.id)
            ).all()
        # Placeholders (named with no addressee) are listed, not counted.
        counted = [row for row in rows if row[0] not in self.plan.placeholders]
        owed = [report.Owed(agency, due, self.timing.local_day(submitted) if state in ANSWERED and submitted else None)
                for agency, _nominal, due, state, submitted in counted]
        named_on = {agency: nominal for agency, nominal, *_rest in counted}  # the last one's, in due order
        names = {code: report.body_name(self.plan, code, day, lang) for code, day in named_on.items()}
        return report.compliance(owed, names, self.timing.local_day(now), self.calendar)

    def undelivered(self, now: dt.datetime, days: int = 30) -> list[tuple[str, str, str, str]]:
        """Emails of the last `days` that failed for good: (recipient, step, occurrences, why), one per email."""
        since = as_utc(now) - dt.timedelta(days=days)
        emails: dict[tuple[str, str, str | None], list] = {}
        with session(self.engine) as db:
            for row in db.exec(select(NotificationRow).where(NotificationRow.state == "failed",
                                                             col(NotificationRow.scheduled_at) >= since)
                               .order_by(NotificationRow.scheduled_at, NotificationRow.id)):
                emails.setdefault((row.recipient, row.step, row.error), []).append(row.occurrence_id)
        return [(recipient, step, ", ".join(ids), " ".join((error or "").split())[:200])
                for (recipient, step, error), ids in emails.items()]

    def status(self, now: dt.datetime) -> list[tuple[str, int, int, int, int]]:
        """Per agency: overdue, due within 7 days, within 30 days, submitted (or accepted). A returned
        occurrence is owed again; a closed one is not counted."""
        today = self.timing.local_day(now)
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        with session(self.engine) as db:
            rows = db.exec(
                select(OccurrenceRow.agency, OccurrenceRow.due, OccurrenceRow.state)
                .where(OccurrenceRow.status == "active", OccurrenceRow.state != CLOSED)
            ).all()
        for agency, due, state in rows:
            if agency in self.plan.placeholders:
                continue  # listed, not counted
            entry = counts[agency]
            if state in ANSWERED:
                entry[3] += 1
            elif due < today:
                entry[0] += 1
            elif due <= today + dt.timedelta(days=7):
                entry[1] += 1
            elif due <= today + dt.timedelta(days=30):
                entry[2] += 1
        return sorted(((a, *c) for a, c in counts.items()), key=lambda r: (-r[1], -r[2], r[0]))
