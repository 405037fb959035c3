"""What the API reads from the store, scoped to the token's role as a person of that role is on the
pages (`scheduler.app.people.Person`): observers and reviewers read every deadline, an agency's token
reads its agency's (and, as its focal point would, the whole plan when the agency coordinates it, or
the deadlines owed to it). Synchronous: the router runs these in worker threads."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from sqlalchemy import and_, or_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine

from scheduler.answers import Answer
from scheduler.answers.machine import FOCAL, OBSERVER, REVIEWER, state_of
import scheduler.api.models as models
from scheduler.app import answer as answers
from scheduler.app.people import Person, Scope
from scheduler.store.tables import AgencyRow, EventRow, OccurrenceRow

OWED = ("open", "returned")
_o = OccurrenceRow.__table__.c


class BadCursor(ValueError):
    pass


def person_of(token, scope: Scope) -> Person:
    """The person a token acts as: `token:NAME`, of its role (an agency's token: its focal point)."""
    name = f"token:{token.name}"
    if token.role == "reviewer":
        return Person(name, token.name, None, REVIEWER)
    if token.role == "observer":
        return Person(name, token.name, None, OBSERVER)
    agency = token.agency
    return Person(name, token.name, None, None, {agency: frozenset({FOCAL})},
                  reads_plan=agency in scope.readers,
                  told_of=frozenset({agency}) | scope.told.get(agency, frozenset()))


def _seen_by(person: Person):
    """The SQL condition for what `person` reads (None: everything)."""
    if person.staff or person.reads_plan:
        return None
    return or_(_o.agency.in_(sorted(person.agencies)), _o.recipient.in_(sorted(person.told_of)))


def encode_cursor(due: dt.date, oid: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([due.isoformat(), oid]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.date, str]:
    try:
        due, oid = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return dt.date.fromisoformat(due), str(oid)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise BadCursor("not a cursor this API gave") from error


def _state(state: str, today: dt.date):
    if state == "overdue":
        return and_(_o.status == "active", _o.state.in_(OWED), _o.due < today)
    if state == "cancelled":
        return _o.status != "active"
    return and_(_o.status == "active", _o.state == state)


def _item(plan, row, today: dt.date) -> models.Occurrence:
    cancelled = row.status != "active"
    return models.Occurrence(
        id=row.id, plan=plan.plan_of(row.id).file.plan.id, obligation=row.obligation, agency=row.agency,
        period=row.period, nominal_due=row.nominal_due, due=row.due,
        plan_due=row.plan_due if row.extended_until is not None and row.plan_due is not None else row.due,
        extension_requested=row.extension_requested, recipient=row.recipient, title_kk=row.title_kk,
        state=state_of(Answer(row.state), cancelled), overdue=not cancelled and row.state in OWED and row.due < today,
        version=row.version)


def occurrences(engine: Engine, plan, person: Person, query: models.OccurrenceQuery, today: dt.date) -> models.OccurrencePage:
    """A page of the occurrences `person` reads that the query selects, by due date then id."""
    where = [_state(query.state, today) if query.state else _o.status == "active"]
    if query.agency:
        where.append(_o.agency == query.agency)
    if query.obligation:
        where.append(_o.obligation == query.obligation)
    if query.year is not None:
        where.append(_o.due.between(dt.date(query.year, 1, 1), dt.date(query.year, 12, 31)))
    if query.plan:
        where.append(_o.obligation.in_([o.id for o in plan.member(query.plan).obligations]))
    seen = _seen_by(person)
    if seen is not None:
        where.append(seen)
    if query.cursor:
        due, oid = decode_cursor(query.cursor)
        where.append(or_(_o.due > due, and_(_o.due == due, _o.id > oid)))
    statement = (sa_select(OccurrenceRow.__table__).where(*where).order_by(_o.due, _o.id).limit(query.limit + 1))
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return models.OccurrencePage(items=[_item(plan, row, today) for row in rows],
                                 next=encode_cursor(rows[-1].due, rows[-1].id) if more and rows else None)


def occurrence(engine: Engine, plan, person: Person, oid: str, today: dt.date, zone) -> models.OccurrenceDetail | None:
    """One occurrence with its answer, documents and events; None when there is none or `person`
    does not read it (the two look alike)."""
    with engine.connect() as connection:
        row = connection.execute(sa_select(OccurrenceRow.__table__).where(_o.id == oid)).first()
        if row is None or not person.sees(row.agency, row.recipient):
            return None
        e = EventRow.__table__.c
        links = {r.id: (r.chain_seq, r.hash) for r in connection.execute(
            sa_select(e.id, e.chain_seq, e.hash).where(e.occurrence_id == oid))}
    shown = answers.show(engine, oid, zone)
    events = [models.Event(id=ev["id"], at=ev["at"], actor=ev["actor"], action=ev["action"],
                           from_state=ev["from_state"], to_state=ev["to_state"], details=ev["details"],
                           chain_seq=links.get(ev["id"], (None, None))[0], hash=links.get(ev["id"], (None, None))[1])
              for ev in shown["events"]]
    submission = shown["submission"]
    return models.OccurrenceDetail(**_item(plan, row, today).model_dump(),
                                   submission=models.Submission(**submission) if submission else None,
                                   events=events)


def agencies(engine: Engine) -> models.AgencyList:
    with engine.connect() as connection:
        rows = connection.execute(sa_select(AgencyRow.__table__).order_by(AgencyRow.__table__.c.code)).all()
    return models.AgencyList(items=[models.Agency(code=r.code, kind=r.kind, short_kk=r.short_kk, name_kk=r.name_kk,
                                                  name_ru=r.name_ru, name_en=r.name_en) for r in rows])
