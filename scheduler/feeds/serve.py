"""A feed as its subscriber fetches it: the token's scope read from the store, the rendered
calendar kept by the version of the data it shows (rendering is the costly part)."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import Session, col, select

from scheduler.answers import ANSWERED
from scheduler.feeds import content, tokens
from scheduler.feeds.ics import RenderedFeed, deadlines_calendar, etag_of
from scheduler.i18n import LANGUAGES
from scheduler.store.db import session
from scheduler.store.ledger import as_utc
from scheduler.store.tables import ContactRow, EventRow, OccurrenceRow, SettingRow, SubmissionRow

if TYPE_CHECKING:
    from scheduler.app.context import Context

CANCELLED_KEPT = dt.timedelta(days=90)  # cancelled occurrences stay this long, so clients remove them
FEED_CACHE_SIZE = 256


@dataclass
class FeedCache:
    """Rendered feeds by the version of their data, and data versions by a cheap stamp of what can
    change them; each the FEED_CACHE_SIZE last used."""

    rendered: OrderedDict[tuple, RenderedFeed] = field(default_factory=OrderedDict)
    versions: OrderedDict[tuple, tuple] = field(default_factory=OrderedDict)

    def keep(self, store: OrderedDict, key: tuple, value):
        store[key] = value
        while len(store) > FEED_CACHE_SIZE:
            store.popitem(last=False)
        return value


def feed(ctx: Context, token: str, now: dt.datetime, lang: str | None = None, plan_id: str | None = None) -> RenderedFeed | None:
    """The rendered feed for a live token; None for an unknown or revoked one. Its language:
    `lang` when given (kk, ru, en), else a contact's own language, else Kazakh. With several
    plans loaded it holds every plan's deadlines, or `plan_id`'s alone (None when not loaded).

    Cancelled occurrences stay in the feed for CANCELLED_KEPT so subscribed clients remove them."""
    row = tokens.find(ctx.engine, token)
    if row is None:
        return None
    try:
        member = ctx.plan.member(plan_id) if plan_id is not None else None
    except KeyError:
        return None
    cache = ctx.feeds
    with session(ctx.engine) as db:
        lang, agencies, name = _scope(ctx, db, row, lang, now)
        scope = (OccurrenceRow.status == "active") | (col(OccurrenceRow.updated_at) >= as_utc(now) - CANCELLED_KEPT)
        if agencies is not None:
            scope = scope & col(OccurrenceRow.agency).in_(agencies)
        key = (row.token_hash, lang, plan_id, tuple(sorted(agencies or ())), name, _stamp(db, now))
        version = cache.versions.get(key)
        if version is None:
            # The data's version: what any change to these events changes (a query over every
            # row of the feed).
            version = cache.keep(cache.versions, key, (*key[:5], *db.exec(
                select(func.count(), func.max(OccurrenceRow.updated_at), func.max(SubmissionRow.recorded_at))
                .select_from(OccurrenceRow).outerjoin(SubmissionRow, _joined()).where(scope)
            ).one()))
        cached = cache.rendered.get(version)
        if cached is not None:
            cache.rendered.move_to_end(version)
            return cached
        rows = _rows(db, scope)
    body = _render(ctx, rows, member, lang, name)
    return cache.keep(cache.rendered, version, body)


def _joined():
    return col(SubmissionRow.id) == col(OccurrenceRow.submission_id)


def _scope(ctx: Context, db: Session, row, lang: str | None, now: dt.datetime) -> tuple[str, list[str] | None, str]:
    """The feed's language, its bodies (None: all) and its name, by the token's scope."""
    if row.scope == "contact" and lang not in LANGUAGES:
        lang = db.exec(select(ContactRow.language).where(ContactRow.email == row.email)).first()
    lang = lang if lang in LANGUAGES else "kk"
    if row.scope == "agency":
        return lang, [row.agency], content.short_name(ctx.plan, row.agency, ctx.timing.local_day(now), lang)
    if row.scope == "contact":
        agencies = list(db.exec(select(ContactRow.agency).where(ContactRow.email == row.email, ContactRow.role == "focal")))
        return lang, agencies, row.email
    return lang, None, "all"


def _stamp(db: Session, now: dt.datetime) -> tuple:
    """A cheap stamp of what can change a feed: a sync (plan or contacts), an answer or an extension
    (each written with an event), a cancelled occurrence leaving the feed's window. While it
    stands, the data's version is the one found last; a new stamp asks again."""
    o, setting = OccurrenceRow.__table__.c, SettingRow.__table__.c
    return tuple(db.connection().execute(select(
        select(setting.value).where(setting.key == "synced_at").scalar_subquery(),
        select(func.count()).select_from(EventRow.__table__).scalar_subquery(),  # append-only: ids may commit out of order
        select(func.count()).select_from(OccurrenceRow.__table__)
        .where(o.status == "cancelled", o.updated_at >= as_utc(now) - CANCELLED_KEPT).scalar_subquery(),
    )).one())


def _rows(db: Session, scope) -> list:
    """Plain rows of the columns an event needs (no ORM object per occurrence)."""
    o = OccurrenceRow.__table__.c
    return db.connection().execute(
        select(o.id, o.obligation, o.agency, o.nominal_due, o.due, o.recipient, o.sequence, o.updated_at,
               o.status, o.state, SubmissionRow.__table__.c.recorded_at)
        .select_from(OccurrenceRow.__table__.outerjoin(SubmissionRow.__table__, _joined())).where(scope)
    ).all()


def _render(ctx: Context, rows: list, member, lang: str, name: str) -> RenderedFeed:
    plan = ctx.plan
    if member is not None and plan.members:
        rows = [r for r in rows if plan.plan_of(r.obligation) is member]
    events = [
        content.deadline(
            plan, ctx.calendar, occurrence_id=r.id, obligation_id=r.obligation, agency=r.agency,
            nominal=r.nominal_due, due=r.due, recipient=r.recipient, sequence=r.sequence,
            last_modified=max(filter(None, (r.updated_at, r.recorded_at))), cancelled=r.status != "active",
            submitted=r.state in ANSWERED, lang=lang,
        )
        for r in rows
    ]
    stamp = max((e.last_modified for e in events), default=content.plan_stamp(plan))
    shown = [member] if member is not None else plan.plans
    title = f"{' + '.join(p.file.plan.id for p in shown)} — {name}"
    body = deadlines_calendar(events, title, stamp)
    return RenderedFeed(title, body, etag_of(body))
