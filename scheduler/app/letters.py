"""The emails of a tick's claimed batches: each group of ledger rows becomes one email, with the
reads it needs (the deadlines, the contacts, the personal and feed links) made once per batch
or once per tick. Notices and the digest are composed by their own use cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from sqlmodel import Session, select

from scheduler.app import digest, links, notices
from scheduler.app.context import Context
from scheduler.feeds import tokens
from scheduler.notify import compose
from scheduler.notify.batch import Batch
from scheduler.notify.items import item, letterhead, role_of
from scheduler.notify.ladder import DIGEST
from scheduler.store.db import retrying, session
from scheduler.store.tables import NotificationRow, OccurrenceRow

COMPOSE_BUDGET = 30.0  # seconds an email's reads wait for a database that dropped its connections


def feed_urls(ctx: Context, db: Session, emails: Sequence[str], now: dt.datetime, focal: frozenset[str],
              registered: dict | None = None) -> dict[str, str]:
    """The links to the own feeds of those of `emails` who are focal points (`focal`), by
    lowercased address, their tokens registered on first use; none for a revoked one.
    `registered`: the tokens already read (`tokens.contact_token_states`), kept up to date."""
    found = tokens.ensure_contact_tokens(db, ctx.secret_key(), [e for e in emails if e.lower() in focal], now, registered)
    base = ctx.settings.public_base_url()
    return {address: f"{base}/feeds/{token}.ics" for address, token in found.items() if token}


def feed_url_for(ctx: Context, email: str, now: dt.datetime) -> str | None:
    """The link to a focal point's own feed (every agency she is focal for); None for others."""
    with session(ctx.engine) as db:
        return feed_urls(ctx, db, [email], now, ctx.focal_addresses(db)).get(email.lower())


def compose_group(ctx: Context, group: Sequence[NotificationRow], message_id: str, now: dt.datetime,
                  memo: dict[tuple, object] | None = None):
    """The one email of a notice's or a digest's group of ledger rows (the ladder's steps are
    written a batch at a time, by `compose_batch`). `memo`: the tick's, where a week's digest in
    a language is made once for all its readers (it is the same for each)."""
    first = group[0]
    if first.step in notices.KINDS:
        return notices.compose_group(ctx, group, message_id, now)
    to = compose.Recipient(first.recipient, first.name, first.language)
    memo = {} if memo is None else memo
    with session(ctx.engine) as db:
        key = ("digest", first.occurrence_id, first.language)
        if key not in memo:
            memo[key] = digest.report(ctx, db, now, first.occurrence_id, first.language)
        report = memo[key]
        # Her personal link signs her in and opens the dashboard (plan-wide, read-only: she is a
        # focal point of the coordinator), so every link of the digest opens after it.
        url, until = links.personal_link(ctx, db, first.recipient, now)
    return compose.digest(to, report, letterhead(ctx, first.language, now, None, (f"{url}?next=%2F", until)),
                          now, message_id)


def compose_batch(ctx: Context, groups: Sequence[Sequence[NotificationRow]], message_ids: Sequence[str],
                  now: dt.datetime, shared: Batch, memo: dict[tuple, object]):
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
        reads = retrying("reading the deadlines of a batch's emails", lambda: _batch_reads(ctx, ladder, now, memo),
                         COMPOSE_BUDGET)
        write = _LadderWriter(ctx, now, shared, memo, *reads)
    for group, message_id in zip(groups, message_ids, strict=True):
        first = group[0]
        try:
            if first.step in notices.KINDS or first.step == DIGEST:
                yield retrying(f"composing the {first.step} to {first.recipient}",
                               lambda: compose_group(ctx, group, message_id, now, memo), COMPOSE_BUDGET)
            else:
                yield write(group, message_id)
        except Exception as error:  # noqa: BLE001 - recorded on its group, never holds back the others
            yield error


class _LadderWriter:
    """Writes the ladder's emails of a batch from the batch's reads."""

    def __init__(self, ctx: Context, now: dt.datetime, shared: Batch, memo: dict, rows: dict,
                 directory, generations: dict, feeds: dict):
        self.ctx, self.now, self.shared, self.memo = ctx, now, shared, memo
        self.rows, self.directory, self.generations, self.feeds = rows, directory, generations, feeds
        self.link_key, self.base = ctx.link_key(), ctx.settings.public_base_url()
        self.until = links.until(ctx, now)
        self.letterheads: dict[str, compose.Letterhead] = {}

    def __call__(self, group: Sequence[NotificationRow], message_id: str):
        ctx, memo, now, first = self.ctx, self.memo, self.now, group[0]
        address = first.recipient.lower()
        if first.language not in self.letterheads:
            self.letterheads[first.language] = letterhead(ctx, first.language, now)
        token = links.mint(self.link_key, address, self.generations.get(address, 0), now)
        head = replace(self.letterheads[first.language], feed_url=self.feeds.get(address),
                       personal_url=f"{self.base}{links.PATH}{token}", link_until=self.until)
        found = list({r.occurrence_id: self.rows[r.occurrence_id] for r in group if r.occurrence_id in self.rows}.values())
        keys = [("item", row.id, row.updated_at, row.due, first.language) for row in found]
        for key, row in zip(keys, found):
            if key not in memo:
                memo[key] = item(ctx.plan, row, first.language, self.directory.people(row.agency, "focal"))
        to = compose.Recipient(first.recipient, first.name, first.language,
                               role_of(ctx.plan, first, found, self.directory, memo))
        return self.shared.deadline(compose.kind_of(first.step), to, first.step, [memo[key] for key in keys],
                                    head, now, message_id)


def _batch_reads(ctx: Context, ladder: Sequence[Sequence[NotificationRow]], now: dt.datetime, memo: dict[tuple, object]):
    """What a batch's ladder emails need, in one read: their deadlines by id, the directory, the
    links' revoked generations, and each recipient's feed URL."""
    with session(ctx.engine) as db:
        ids = sorted({r.occurrence_id for g in ladder for r in g})
        table = OccurrenceRow.__table__  # plain rows, with the attributes `item` and `role_of` read
        rows = {row.id: row for row in db.connection().execute(select(table).where(table.c.id.in_(ids)))}
        if ("reads",) not in memo:  # once a tick: what holds for all its batches
            memo[("reads",)] = (ctx.directory(db), ctx.focal_addresses(db), links.revoked_generations(db),
                                tokens.contact_token_states(db))
        directory, focal, generations, registered = memo[("reads",)]
        feeds = feed_urls(ctx, db, [g[0].recipient for g in ladder], now, focal, registered)
    return rows, directory, generations, feeds
