"""Notices: the emails that answer events cause, beside the ladder's reminders.

To the secretariat:
- `answer-received` (an answer submitted): the enabled reviewers and admins but the one who
  recorded it; with no such user at all, the focal points of the plan's coordinator (who get the
  weekly digest).

To the agency — its focal points, and whoever submitted the answer (or asked for more time) if she
is a contact:
- `answer-acknowledged`: her answer was received, whoever recorded it (the focal point on the web,
  the secretariat from a paper letter, `scheduler submit`);
- `answer-accepted`, `answer-returned` (with the reason);
- `deadline-closed` (not applicable or withdrawn, with the reason) and `deadline-reopened` (the
  secretariat's latest decision undone: what the deadline is now);
- `extension-granted` (asked for or not) and `extension-refused`.

`record` decides who is told and writes one ledger row per recipient IN THE EVENT'S TRANSACTION
(`scheduler/app/answer.py` calls it): `step` is the kind, `event_id` the event, `due` the
occurrence's due date after it, `scheduled_at` its time, `language` the recipient's own (a user's
language where she is one and has said it, else her contact's). So an event is told exactly once,
and only if it was recorded; the next tick sends the rows like any step (claims, retries, failures,
metrics). The ladder never plans, advances or withdraws these rows: a notice about an answered
occurrence is still sent (`withdraw_closed` leaves rows with an event alone).

How rows make emails (`email_step`, used by the claim and by `deliver.group_key`): the secretariat's
`answer-received` rows make one email per recipient listing every answer since the last one; ALL of
an agency-side recipient's rows (every kind above but `answer-received`) make ONE email per tick,
whatever happened: its `X-Scheduler-Step` is the kind when every row is of one kind, `decisions`
when it tells of several kinds (each deadline then says what happened to it).

`compose_group` writes the email of one group: the secretariat's with a link to each occurrence's
page and to the review queue; an agency's with the recipient's personal link, to answer again or
ask for more time, and each deadline's own page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

from sqlalchemy import func
from sqlmodel import Session, col, select

from scheduler.answers import ACCEPT, CLOSE, EXTEND, REFUSE, REOPEN, REQUEST, RETURN, SUBMIT
from scheduler.answers.machine import ADMIN, FOCAL, REVIEWER
from scheduler.app import links
from scheduler.notify import compose, items
from scheduler.notify import notices as notice_mail
from scheduler.store.db import session
from scheduler.store.ledger import as_utc, aware
from scheduler.store.tables import ContactRow, EventRow, FileRow, NotificationRow, OccurrenceRow, SubmissionRow, UserRow

ANSWER_RECEIVED = "answer-received"  # to the secretariat
ANSWER_ACKNOWLEDGED = "answer-acknowledged"  # the rest to the agency
ANSWER_ACCEPTED = "answer-accepted"
ANSWER_RETURNED = "answer-returned"
DEADLINE_CLOSED = "deadline-closed"
DEADLINE_REOPENED = "deadline-reopened"
EXTENSION_GRANTED = "extension-granted"
EXTENSION_REFUSED = "extension-refused"
AGENCY_KINDS = frozenset({ANSWER_ACKNOWLEDGED, ANSWER_ACCEPTED, ANSWER_RETURNED, DEADLINE_CLOSED, DEADLINE_REOPENED,
                          EXTENSION_GRANTED, EXTENSION_REFUSED})
KINDS = frozenset({ANSWER_RECEIVED} | AGENCY_KINDS)  # the ledger steps of notices
DECISIONS = notice_mail.DECISIONS  # X-Scheduler-Step of an agency's email that tells of several kinds
STEPS = KINDS | {DECISIONS}  # every X-Scheduler-Step a notice's email can carry
# What each action tells, to whom: the secretariat's kind first, then the agency's.
BY_ACTION: dict[str, tuple[str, ...]] = {
    SUBMIT: (ANSWER_RECEIVED, ANSWER_ACKNOWLEDGED), ACCEPT: (ANSWER_ACCEPTED,), RETURN: (ANSWER_RETURNED,),
    CLOSE: (DEADLINE_CLOSED,), REOPEN: (DEADLINE_REOPENED,), EXTEND: (EXTENSION_GRANTED,), REFUSE: (EXTENSION_REFUSED,),
}
DEFAULT_LANGUAGE = "kk"  # the plan's own language: staff who are no contact read it


def email_step(step: str) -> str:
    """The group a ledger row's step is sent in: an agency's notices all in one (`decisions`)."""
    return DECISIONS if step in AGENCY_KINDS else step


# --- who is told: in the event's transaction ------------------------------------------------------


def _contact(db: Session, email: str) -> ContactRow | None:
    return db.exec(select(ContactRow).where(ContactRow.email == email.lower()).order_by(ContactRow.id)).first()


def _own_language(db: Session, email: str) -> str | None:
    """The language a user has said for herself (`users add --language`), if she is one."""
    return db.exec(select(UserRow.language).where(func.lower(UserRow.email) == email.lower())).first()


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
    """The agency's focal points, and `also` (who submitted or asked) if she is a contact; each in
    her own language (a user's, where she has said it; else her contact's)."""
    found = [(c.email, c.name, c.language, agency)
             for c in db.exec(select(ContactRow).where(ContactRow.agency == agency, ContactRow.role == FOCAL)
                              .order_by(ContactRow.id))]
    if also:
        contact = db.exec(select(ContactRow).where(ContactRow.email == also.lower())
                          .order_by(col(ContactRow.agency) != agency, ContactRow.id)).first()
        if contact is not None:
            found.append((contact.email, contact.name, contact.language, contact.agency))
    return [(email, name, _own_language(db, email) or language, body) for email, name, language, body in found]


def _submitter(db: Session, row: OccurrenceRow, values: dict) -> str | None:
    """Who submitted the answer the event is about: the one in force after it, or (a reopening that
    took a submission back) the one in force before it."""
    submission_id = values.get("submission_id") or row.submission_id
    submission = db.get(SubmissionRow, submission_id) if submission_id else None
    return submission.by if submission else None


def _asker(db: Session, row: OccurrenceRow, event: EventRow, details: dict) -> str | None:
    """Who asked for the extension an event grants or refuses (None when nobody asked)."""
    if not details.get("requested"):
        return None
    return db.exec(select(EventRow.actor).where(EventRow.occurrence_id == row.id, EventRow.action == REQUEST,
                                                EventRow.id < event.id).order_by(col(EventRow.id).desc())).first()


def _told(db: Session, timing, kind: str, row: OccurrenceRow, event: EventRow, values: dict, details: dict):
    if kind == ANSWER_RECEIVED:
        return _secretariat(db, timing, timing.local_day(aware(event.at)), event.actor)
    if kind == ANSWER_ACKNOWLEDGED:
        return _agency(db, row.agency, event.actor)  # whoever recorded it: told if she is a contact
    if kind in (EXTENSION_GRANTED, EXTENSION_REFUSED):
        return _agency(db, row.agency, _asker(db, row, event, details))
    return _agency(db, row.agency, _submitter(db, row, values))


def record(db: Session, timing, row: OccurrenceRow, event: EventRow, values: dict) -> int:
    """Write the notices that `event` (just flushed, on occurrence `row` as it was before) causes,
    in the caller's transaction; `values` are the occurrence's new columns. Returns how many rows
    were written."""
    kinds = BY_ACTION.get(event.action, ())
    if not kinds:
        return 0
    details = json.loads(event.details)
    due = values.get("due", row.due)
    written = 0
    for kind in kinds:
        seen: set[str] = set()
        for email, name, language, agency in _told(db, timing, kind, row, event, values, details):
            address = email.lower()
            if address in seen:
                continue
            seen.add(address)
            db.add(NotificationRow(occurrence_id=row.id, step=kind, recipient=address, due=due, event_id=event.id,
                                   name=name, language=language, agency=agency, scheduled_at=as_utc(aware(event.at)),
                                   state="pending", attempts=0))
        written += len(seen)
    return written


# --- the email -------------------------------------------------------------------------------------


def occurrence_url(base_url: str, occurrence_id: str) -> str:
    return f"{base_url}/occurrences/{quote(occurrence_id, safe=':.-')}"


RECEIPTS = frozenset({ANSWER_RECEIVED, ANSWER_ACKNOWLEDGED})  # they say when the answer came, its letter, documents


def compose_group(ctx, group: Sequence[NotificationRow], message_id: str, now: dt.datetime):
    """The one email for a group of notices: the secretariat's answers received, or everything an
    agency's recipient is told of at once (`email_step`)."""
    first = group[0]
    kind, language, zone = first.step, first.language, ctx.timing.zone
    base = ctx.settings.public_base_url()
    to = compose.Recipient(first.recipient, first.name, language)
    local = lambda moment: aware(moment).astimezone(zone) if moment is not None else None  # noqa: E731
    with session(ctx.engine) as db:
        events = {e.id: e for e in db.exec(select(EventRow).where(col(EventRow.id).in_([r.event_id for r in group])))}
        occurrences = {o.id: o for o in db.exec(select(OccurrenceRow).where(
            col(OccurrenceRow.id).in_(sorted({r.occurrence_id for r in group}))))}
        details = {i: json.loads(e.details) for i, e in events.items()}
        ids = sorted({details[r.event_id]["submission"] for r in group
                      if r.step in RECEIPTS and r.event_id in details and details[r.event_id].get("submission")})
        submissions: dict[int, SubmissionRow] = {}
        documents: dict[int, int] = {}
        if ids:
            submissions = {s.id: s for s in db.exec(select(SubmissionRow).where(col(SubmissionRow.id).in_(ids)))}
            documents = dict(db.exec(select(FileRow.submission_id, func.count()).where(col(FileRow.submission_id).in_(ids))
                                     .group_by(FileRow.submission_id)).all())
        if kind == ANSWER_RECEIVED and first.agency is None:  # to staff: the queue is theirs
            letterhead = items.letterhead(ctx, language, now)
        else:  # a body's people, the coordinator's focal points standing in for staff too: their link
            letterhead = items.letterhead(ctx, language, now, None, links.personal_link(ctx, db, first.recipient, now))
    day = lambda value: dt.date.fromisoformat(value) if value else None  # noqa: E731
    notices = []
    for r in group:
        event, occurrence = events.get(r.event_id), occurrences.get(r.occurrence_id)
        if event is None or occurrence is None:
            raise LookupError(f"notice {r.id}: its event {r.event_id} or occurrence {r.occurrence_id} is gone")
        said = details[r.event_id]
        receipt = r.step in RECEIPTS
        submission = submissions.get(said.get("submission")) if receipt and said.get("submission") else None
        requested = said.get("requested")  # the date asked for, when the event settled a request
        notices.append(notice_mail.Notice(
            item=replace(items.item(ctx.plan, occurrence, language), due=r.due),
            at=local(event.at),
            url=occurrence_url(base, r.occurrence_id),
            reason=said.get("reason"),
            received=local(submission.submitted_at) if submission else None,
            ref=(submission.ref if submission else said.get("ref")) if receipt else None,
            ref_date=(submission.ref_date if submission else day(said.get("ref_date"))) if receipt else None,
            documents=(documents.get(submission.id, 0) if submission else len(said.get("files") or ())) if receipt else 0,
            previous_due=day(said.get("previous_due")) if event.action == EXTEND else None,
            requested=day(requested),
            kind=r.step,
            state=event.to_state,
        ))
    return notice_mail.notice(kind, to, notices, letterhead, now, message_id,
                          review_url=f"{base}/review" if kind == ANSWER_RECEIVED and first.agency is None else None)
