"""What the secretariat's dashboard reads from the store: occurrences with their answer (filtered by
agency, obligation, due date and state, a page at a time), the figures the pages show counted by
the database (deadlines per day, the late per agency, a year's answers in a few columns), the
data's version, an agency's contacts and history, and an agency's feed token.

Read-only but for `agency_feed_token`, which registers the agency's feed token on first use (the
token is derived from the deployment's key, so the same link is shown every time and to every
instance, and revoking it with `scheduler feeds revoke` stops it for good)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, case, extract, func, literal_column, not_, null
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from scheduler.feeds.tokens import digest
from scheduler.store.db import session
from scheduler.store.ledger import aware
from scheduler.store.order import plan_position
from scheduler.store.tables import ContactRow, EventRow, FeedTokenRow, OccurrenceRow, SettingRow, SubmissionRow


@dataclass(frozen=True)
class Entry:
    """One active occurrence as the dashboard shows it."""

    id: str
    obligation: str
    agency: str
    period: str
    nominal_due: dt.date
    due: dt.date
    extended_until: dt.date | None
    extension_requested: dt.date | None
    state: str
    title_kk: str
    recipient: str | None
    submitted_at: dt.datetime | None  # the answer in force (a returned one's too), aware


OWED = ("open", "returned")  # the answer still owed: late once the day has passed
SHOWN = ("open", "returned", "submitted", "accepted")  # any other state is shown as closed
_o = OccurrenceRow.__table__.c


def state_is(state: str, today: dt.date):
    """The condition for a state as the dashboard shows it (`web.dashboard.view.state_of`)."""
    if state == "overdue":
        return and_(_o.state.in_(OWED), _o.due < today)
    if state in OWED:
        return and_(_o.state == state, _o.due >= today)
    if state in SHOWN:
        return _o.state == state
    return _o.state.not_in(SHOWN)


def _where(*, agency: str | None = None, obligation: str | None = None, first: dt.date | None = None,
           last: dt.date | None = None, state: str | None = None, today: dt.date | None = None,
           ids: Iterable[str] | None = None, match=None) -> list:
    found = [_o.status == "active"]
    if agency:
        found.append(_o.agency == agency)
    if obligation:
        found.append(_o.obligation == obligation)
    if first:
        found.append(_o.due >= first)
    if last:
        found.append(_o.due <= last)
    if state:
        found.append(state_is(state, today))
    if ids is not None:
        found.append(_o.id.in_(list(ids)))
    if match is not None:
        found.append(match)
    return found


def entries(engine: Engine, *, agency: str | None = None, obligation: str | None = None,
            first: dt.date | None = None, last: dt.date | None = None, state: str | None = None,
            today: dt.date | None = None, ids: Iterable[str] | None = None, match=None,
            limit: int | None = None, offset: int = 0) -> list[Entry]:
    """Active occurrences (closed ones included), due in [first, last] when given, in `state` as the
    dashboard shows it on `today`, by due date, then in the plan's order (the row's place in the plan,
    then the body); `limit` of them from `offset`."""
    s = SubmissionRow.__table__.c
    query = (
        sa_select(_o.id, _o.obligation, _o.agency, _o.period, _o.nominal_due, _o.due, _o.extended_until,
                  _o.extension_requested, _o.state, _o.title_kk, _o.recipient, s.submitted_at)
        .select_from(OccurrenceRow.__table__.outerjoin(SubmissionRow.__table__, s.id == _o.submission_id))
        .where(*_where(agency=agency, obligation=obligation, first=first, last=last, state=state, today=today,
                       ids=ids, match=match))
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(_o.due, plan_position(connection), _o.agency, _o.id)).all()
    return [Entry(*row[:-1], aware(row[-1]) if row[-1] else None) for row in rows]


def count(engine: Engine, **selection) -> int:
    """How many `entries` would give for this selection (without limit)."""
    with engine.connect() as connection:
        return connection.execute(sa_select(func.count()).select_from(OccurrenceRow.__table__)
                                  .where(*_where(**selection))).scalar() or 0


def lean(engine: Engine, **selection) -> list[tuple]:
    """(id, obligation, agency, period, nominal_due, due, state, title_kk) of the selection, in the
    order of `entries`: what a search of the words on the page is checked against."""
    query = (sa_select(_o.id, _o.obligation, _o.agency, _o.period, _o.nominal_due, _o.due, _o.state, _o.title_kk)
             .where(*_where(**selection)))
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(_o.due, plan_position(connection), _o.agency,
                                                                         _o.id)).all()]


def by_day(engine: Engine, today: dt.date, uncounted: Iterable[str] = (), **selection) -> dict[dt.date, tuple[int, int, int]]:
    """{due date: (deadlines, overdue, settled)}; the overdue of `uncounted` agencies (placeholders)
    are not counted as late."""
    late = and_(_o.state.in_(OWED), _o.due < today)
    uncounted = sorted(uncounted)
    if uncounted:
        late = and_(late, _o.agency.not_in(uncounted))
    query = (sa_select(_o.due, func.count(), func.sum(case((late, 1), else_=0)),
                       func.sum(case((_o.state.not_in(OWED), 1), else_=0)))
             .where(*_where(today=today, **selection)).group_by(_o.due))
    with engine.connect() as connection:
        return {due: (n, int(overdue or 0), int(settled or 0)) for due, n, overdue, settled in connection.execute(query)}


def name_epochs(agencies: dict) -> dict[str, list[dt.date]]:
    """Per agency with former names, the last days of each (ascending): a row is named by the first
    that its nominal date does not pass (`Plan.display_name`), or by the present name."""
    return {code: sorted(f.until for f in agency.former_names)
            for code, agency in agencies.items() if getattr(agency, "former_names", None)}


def _named_on(epochs: dict[str, list[dt.date]]):
    """An SQL expression: the day by which a row's body is named (see `name_epochs`); NULL for the
    present name. Literal values, so that GROUP BY repeats the very expression of the SELECT."""
    whens = [(and_(_o.agency == literal_column(_quoted(code)), _o.nominal_due <= literal_column(_quoted(until.isoformat()))),
              literal_column(_quoted(until.isoformat())))
             for code, untils in sorted(epochs.items()) for until in untils]
    return case(*whens, else_=null()) if whens else null()


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _day(value) -> dt.date | None:
    return value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def late_by_agency(engine: Engine, today: dt.date, epochs: dict[str, list[dt.date]], *, agency: str | None = None,
                   obligation: str | None = None, first: dt.date | None = None, last: dt.date | None = None,
                   state: str | None = None, match=None) -> list[tuple[str, dt.date | None, int]]:
    """(agency, the day its name is taken on or None for the present one, overdue deadlines) for
    every agency with a deadline past its day and still owed, within the page's filters: the body,
    the item, the due dates [first, last], the state (late ones are `overdue`: another state has
    none), `match` (a search's narrowing)."""
    named = _named_on(epochs)
    before = today - dt.timedelta(days=1)
    query = (sa_select(_o.agency, named, func.count())
             .where(*_where(agency=agency, obligation=obligation, first=first, last=min(last or before, before),
                            state=state, today=today, match=match),
                    _o.state.in_(OWED))
             .group_by(_o.agency, *([named] if epochs else [])))
    with engine.connect() as connection:
        return [(code, _day(day), n) for code, day, n in connection.execute(query)]


def agencies_of(engine: Engine, **selection) -> list[tuple[str, dt.date, int]]:
    """(agency, its earliest nominal date, deadlines) of the selection."""
    query = (sa_select(_o.agency, func.min(_o.nominal_due), func.count())
             .where(*_where(**selection)).group_by(_o.agency))
    with engine.connect() as connection:
        return [(code, _day(day), n) for code, day, n in connection.execute(query)]


ANSWERED = ("submitted", "accepted")  # an answer in force (scheduler.answers.ANSWERED)


def _day_ends(engine: Engine, first: dt.date, last: dt.date, zone):
    """An SQL expression: the instant (UTC) a row's due day ends in the plan's zone — an answer
    that came before it came on time. The zone's offset is taken for every day of [first, last]
    (Almaty moved from UTC+6 to UTC+5 on 1 March 2024): one CASE branch per stretch of one offset."""
    stretches: list[tuple[dt.date, int]] = []
    day = first
    while day <= last:
        following = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
        seconds = 86400 - int(following.utcoffset().total_seconds())
        if stretches and stretches[-1][1] == seconds:
            stretches[-1] = (day, seconds)
        else:
            stretches.append((day, seconds))
        day += dt.timedelta(days=1)

    def end(seconds: int):
        if engine.dialect.name == "postgresql":  # a timestamp read as UTC: a timestamptz
            return literal_column(f"((CAST(occurrence.due AS timestamp) + interval '{seconds} seconds') AT TIME ZONE 'UTC')")
        return literal_column(f"datetime(occurrence.due, '+{seconds} seconds')")  # as SQLite keeps DateTime: text

    if len(stretches) == 1:
        return end(stretches[0][1])
    return case(*[(_o.due <= literal_column(_quoted(until.isoformat())), end(seconds)) for until, seconds in stretches[:-1]],
                else_=end(stretches[-1][1]))


def year_counts(engine: Engine, first: dt.date, last: dt.date, today: dt.date, zone, uncounted: Iterable[str] = (), *,
                agency: str | None = None, obligation: str | None = None) -> tuple[list[tuple], list[tuple]]:
    """The compliance of the deadlines due in [first, last] (closed ones and `uncounted` agencies
    left out), counted by the database: ([(agency, month of the due date, owed, on time, late,
    missing, pending: not yet due, answered or not)], [(agency, due, submitted_at) of every late answer]: the working days late
    are the calendar's to count)."""
    s = SubmissionRow.__table__.c
    answered = and_(_o.state.in_(ANSWERED), s.submitted_at.is_not(None))
    ends = _day_ends(engine, first, last, zone)
    # Only the deadlines already due count (their day has passed): an answer in early for a deadline
    # due tomorrow is pending like an unanswered one, so 300 deadlines due tomorrow, a few answered,
    # never read as 100 % on time today.
    come = _o.due < today
    on_time, late = and_(answered, s.submitted_at < ends, come), and_(answered, s.submitted_at >= ends, come)
    month = extract("month", _o.due)
    where = [*_where(agency=agency, obligation=obligation, first=first, last=last), _o.state != "closed"]
    if uncounted := sorted(uncounted):
        where.append(_o.agency.not_in(uncounted))
    joined = OccurrenceRow.__table__.outerjoin(SubmissionRow.__table__, s.id == _o.submission_id)
    counted = lambda condition: func.sum(case((condition, 1), else_=0))  # noqa: E731
    query = (sa_select(_o.agency, month, func.count(), counted(on_time), counted(late),
                       counted(and_(not_(answered), come)), counted(not_(come)))
             .select_from(joined).where(*where).group_by(_o.agency, month))
    late_ones = sa_select(_o.agency, _o.due, s.submitted_at).select_from(joined).where(*where, late)
    with engine.connect() as connection:
        groups = [(code, int(m), *(int(n or 0) for n in numbers)) for code, m, *numbers in connection.execute(query)]
        lates = [(code, due, aware(at)) for code, due, at in connection.execute(late_ones)]
    return groups, lates


def last_nominal(engine: Engine, agencies: Iterable[str], **selection) -> dict[str, dt.date]:
    """The nominal date of each agency's last row (by due date and id) in the selection: the day
    its name is taken on in a table of the selection."""
    wanted = sorted(agencies)
    if not wanted:
        return {}
    query = (sa_select(_o.agency, _o.nominal_due).where(*_where(**selection), _o.agency.in_(wanted))
             .order_by(_o.due, _o.id))
    with engine.connect() as connection:
        return dict(connection.execute(query).all())


def data_version(engine: Engine) -> tuple:
    """What changes whenever what the dashboard shows may have changed: the last sync (plan,
    contacts, cancelled rows) and the events (every answer, decision and extension is written with
    one). Cheap: an index lookup and a count of the latest ids (so that an event whose id was taken
    before another's but committed after it is seen too)."""
    e = EventRow.__table__.c
    setting = SettingRow.__table__.c
    latest = sa_select(func.max(e.id)).scalar_subquery()
    with engine.connect() as connection:
        return tuple(connection.execute(sa_select(
            sa_select(setting.value).where(setting.key == "synced_at").scalar_subquery(),
            latest,
            sa_select(func.count()).select_from(EventRow.__table__).where(e.id > latest - 1000).scalar_subquery(),
        )).one())


def due_span(engine: Engine) -> tuple[dt.date, dt.date] | None:
    """The first and last due date of the active occurrences; None when there is none."""
    with session(engine) as db:
        found = db.exec(select(func.min(OccurrenceRow.due), func.max(OccurrenceRow.due))
                        .where(OccurrenceRow.status == "active")).one()
    return None if found[0] is None else (found[0], found[1])


def contacts(engine: Engine, agency: str) -> list[ContactRow]:
    with session(engine) as db:
        return list(db.exec(select(ContactRow).where(ContactRow.agency == agency)
                            .order_by(ContactRow.role, ContactRow.name, ContactRow.email)))


def events(engine: Engine, ids: Iterable[str], limit: int = 200) -> list[EventRow]:
    """The latest events of these occurrences, newest first."""
    wanted = list(ids)
    if not wanted:
        return []
    with session(engine) as db:
        return list(db.exec(select(EventRow).where(col(EventRow.occurrence_id).in_(wanted))
                            .order_by(col(EventRow.at).desc(), col(EventRow.id).desc()).limit(limit)))


def agency_token(key: bytes, agency: str) -> str:
    mac = hmac.new(key, b"agency-feed:" + agency.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def agency_feed_token(engine: Engine, key: bytes, agency: str, now: dt.datetime) -> str | None:
    """The token of `agency`'s feed, registered on first use; None once it has been revoked."""
    token = agency_token(key, agency)
    wanted = digest(token)
    with session(engine) as db:
        insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(FeedTokenRow)
        db.exec(insert.values(token_hash=wanted, scope="agency", agency=agency, created_at=now)
                .on_conflict_do_nothing(index_elements=["token_hash"]))
        row = db.exec(select(FeedTokenRow).where(FeedTokenRow.token_hash == wanted)).first()
    return None if row is None or row.revoked_at is not None else token
