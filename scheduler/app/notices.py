"""Notices: the emails that answer events cause, beside the ladder's reminders.

- `answer-received` (an answer submitted): to the secretariat — the enabled reviewers and admins
  but the one who recorded it; with no such user at all, the focal points of the plan's coordinator
  (who get the weekly digest);
- `answer-returned` (an answer returned): to the agency's focal points, and whoever submitted it if
  she is a contact;
- `extension-granted` (an extension granted, asked for or not) and `extension-refused` (a request
  refused): to the agency's focal points, and whoever asked if she is a contact.

`record` decides who is told and writes one ledger row per recipient IN THE EVENT'S TRANSACTION
(`scheduler/app/answer.py` calls it): `step` is the kind, `event_id` the event, `due` the
occurrence's due date after it, `scheduled_at` its time. So an event is told exactly once, and only
if it was recorded; the next tick sends the rows like any step (claims, retries, failures,
metrics), one email per recipient and kind listing every event of that kind since the last one.
The ladder never plans, advances or withdraws these rows: a notice about an answered occurrence is
still sent (`withdraw_closed` leaves rows with an event alone).

`compose_group` writes the email of one (recipient, kind) group: the secretariat's with a link to each
occurrence's page and to the review queue; an agency's with the recipient's personal link, to
answer again or ask for more time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

from sqlalchemy import func
from sqlmodel import Session, col, select

from scheduler.answers import EXTEND, REFUSE, REQUEST, RETURN, SUBMIT
from scheduler.answers.machine import ADMIN, FOCAL, REVIEWER
from scheduler.notify import compose
from scheduler.store.db import session
from scheduler.store.ledger import as_utc, aware
from scheduler.store.tables import ContactRow, EventRow, FileRow, NotificationRow, OccurrenceRow, SubmissionRow, UserRow

ANSWER_RECEIVED = "answer-received"
ANSWER_RETURNED = "answer-returned"
EXTENSION_GRANTED = "extension-granted"
EXTENSION_REFUSED = "extension-refused"
KINDS = frozenset({ANSWER_RECEIVED, ANSWER_RETURNED, EXTENSION_GRANTED, EXTENSION_REFUSED})
BY_ACTION = {SUBMIT: ANSWER_RECEIVED, RETURN: ANSWER_RETURNED, EXTEND: EXTENSION_GRANTED, REFUSE: EXTENSION_REFUSED}
DEFAULT_LANGUAGE = "kk"  # the plan's own language: staff who are no contact read it


# --- who is told: in the event's transaction ------------------------------------------------------


def _contact(db: Session, email: str) -> ContactRow | None:
    return db.exec(select(ContactRow).where(ContactRow.email == email.lower()).order_by(ContactRow.id)).first()


def _secretariat(db: Session, timing, day: dt.date, actor: str) -> list[tuple[str, str, str, str | None]]:
    """(email, name, language, agency) of the enabled reviewers and admins but the actor; with no
    such user at all, the coordinator's focal points."""
    enabled = UserRow.disabled_at == None  # noqa: E711 - SQL's IS NULL
    staff = db.exec(select(UserRow.email, UserRow.language).where(col(UserRow.role).in_((REVIEWER, ADMIN)), enabled)
                    .order_by(UserRow.id)).all()
    if staff:
        found = []
        for email, own in staff:
            if email.lower() == actor.lower():
                continue  # she recorded it herself
            contact = _contact(db, email)
            language = own or (contact.language if contact else DEFAULT_LANGUAGE)
            found.append((email, contact.name if contact else "", language, None))
        return found
    coordinator = timing.coordinator_on(day) if timing.coordinator_on is not None else None
    if coordinator is None:
        return []
    return [(c.email, c.name, c.language, coordinator)
            for c in db.exec(select(ContactRow).where(ContactRow.agency == coordinator, ContactRow.role == FOCAL)
                             .order_by(ContactRow.id))]


def _agency(db: Session, agency: str, also: str | None) -> list[tuple[str, str, str, str | None]]:
    """The agency's focal points, and `also` (who submitted or asked) if she is a contact."""
    found = [(c.email, c.name, c.language, agency)
             for c in db.exec(select(ContactRow).where(ContactRow.agency == agency, ContactRow.role == FOCAL)
                              .order_by(ContactRow.id))]
    if also:
        contact = db.exec(select(ContactRow).where(ContactRow.email == also.lower())
                          .order_by(col(ContactRow.agency) != agency, ContactRow.id)).first()
        if contact is not None:
            found.append((contact.email, contact.name, contact.language, contact.agency))
    return found


def record(db: Session, timing, row: OccurrenceRow, event: EventRow, values: dict) -> int:
    """Write the notices that `event` (just flushed, on occurrence `row`) causes, in the caller's
    transaction; `values` are the occurrence's new columns. Returns how many rows were written."""
    kind = BY_ACTION.get(event.action)
    if kind is None:
        return 0
    details = json.loads(event.details)
    if kind == ANSWER_RECEIVED:
        people = _secretariat(db, timing, timing.local_day(aware(event.at)), event.actor)
    elif kind == ANSWER_RETURNED:
        submission = db.get(SubmissionRow, values.get("submission_id")) if values.get("submission_id") else None
        people = _agency(db, row.agency, submission.by if submission else None)
    else:
        asked = None
        if details.get("requested"):  # the request this settles: who made it
            asked = db.exec(select(EventRow.actor).where(EventRow.occurrence_id == row.id, EventRow.action == REQUEST,
                                                         EventRow.id < event.id).order_by(col(EventRow.id).desc())).first()
        people = _agency(db, row.agency, asked)
    seen: set[str] = set()
    due = values.get("due", row.due)
    for email, name, language, agency in people:
        address = email.lower()
        if address in seen:
            continue
        seen.add(address)
        db.add(NotificationRow(occurrence_id=row.id, step=kind, recipient=address, due=due, event_id=event.id,
                               name=name, language=language, agency=agency, scheduled_at=as_utc(aware(event.at)),
                               state="pending", attempts=0))
    return len(seen)


# --- the email -------------------------------------------------------------------------------------


def occurrence_url(base_url: str, occurrence_id: str) -> str:
    return f"{base_url}/occurrences/{quote(occurrence_id, safe=':.-')}"


def compose_group(service, group: Sequence[NotificationRow], message_id: str, now: dt.datetime):
    """The one email for a (recipient, kind) group of notices."""
    first = group[0]
    kind, language, zone = first.step, first.language, service.timing.zone
    base = service.settings.public_base_url()
    to = compose.Recipient(first.recipient, first.name, language)
    local = lambda moment: aware(moment).astimezone(zone) if moment is not None else None  # noqa: E731
    with session(service.engine) as db:
        events = {e.id: e for e in db.exec(select(EventRow).where(col(EventRow.id).in_([r.event_id for r in group])))}
        occurrences = {o.id: o for o in db.exec(select(OccurrenceRow).where(
            col(OccurrenceRow.id).in_(sorted({r.occurrence_id for r in group}))))}
        details = {i: json.loads(e.details) for i, e in events.items()}
        submissions: dict[int, SubmissionRow] = {}
        documents: dict[int, int] = {}
        if kind == ANSWER_RECEIVED:
            ids = sorted({d["submission"] for d in details.values() if d.get("submission")})
            submissions = {s.id: s for s in db.exec(select(SubmissionRow).where(col(SubmissionRow.id).in_(ids)))}
            documents = dict(db.exec(select(FileRow.submission_id, func.count()).where(col(FileRow.submission_id).in_(ids))
                                     .group_by(FileRow.submission_id)).all())
            letterhead = service.letterhead(language, now)
        else:
            letterhead = service.letterhead(language, now, None, service.personal_link(db, first.recipient, now))
    day = lambda value: dt.date.fromisoformat(value) if value else None  # noqa: E731
    notices = []
    for r in group:
        event, occurrence = events.get(r.event_id), occurrences.get(r.occurrence_id)
        if event is None or occurrence is None:
            raise LookupError(f"notice {r.id}: its event {r.event_id} or occurrence {r.occurrence_id} is gone")
        said = details[r.event_id]
        submission = submissions.get(said.get("submission")) if said.get("submission") else None
        requested = said.get("requested")  # the date asked for, when the event settled a request
        notices.append(compose.Notice(
            item=replace(service.item(occurrence, language), due=r.due),
            at=local(event.at),
            url=occurrence_url(base, r.occurrence_id),
            reason=said.get("reason"),
            received=local(submission.submitted_at) if submission else None,
            ref=submission.ref if submission else said.get("ref"),
            ref_date=submission.ref_date if submission else day(said.get("ref_date")),
            documents=documents.get(submission.id, 0) if submission else len(said.get("files") or ()),
            previous_due=day(said.get("previous_due")) if event.action == EXTEND else None,
            requested=day(requested),
        ))
    return compose.notice(kind, to, notices, letterhead, now, message_id,
                          review_url=f"{base}/review" if kind == ANSWER_RECEIVED else None)
