"""What the dashboard's pages show, worked out from the store and the plan: the page's language, the
filters, each deadline's state in words, the month's calendar, the day list, the compliance table
(the figures and charts: web/dashboard/figures.py).

However large the plan, a page costs the same: the database counts (deadlines per day, the late
per agency, a year's compliance per agency and month), the lists are read a page at a time
(`PAGE_SIZE`, a day's `DAY_PAGE_SIZE`). A search of words is checked on the
page's words (titles and names in its language): the database first narrows the rows to those
whose item, body or period can hold each word, then each is checked.

Every word passes through gettext (the `dashboard` catalog): strings here are marked with `N_`
or `_`; the templates with `{% trans %}` and `_()`."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from babel.dates import format_date
from starlette.requests import Request

from scheduler import bounds
from scheduler.app import dashboard_queries
from scheduler.app.dashboard_queries import Entry
from scheduler.i18n import long_date

LANGUAGES = ("kk", "ru", "en")
LANGUAGE_COOKIE = "lang"  # the same cookie as the people's pages (web/auth.py)
LANGUAGE_NAMES = (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"))
STATES = ("overdue", "open", "submitted", "returned", "accepted", "closed")
FILTERS = ("agency", "obligation", "state", "year", "month", "q", "lang")
PAGE_SIZE = 50
DAY_PAGE_SIZE = 100  # a day's list, grouped by agency


def N_(message: str) -> str:  # marks a message for extraction; translated where it is shown
    return message


STATE_WORDS = {
    "overdue": N_("overdue"), "open": N_("not yet due"), "submitted": N_("submitted"),
    "returned": N_("returned for completion"), "accepted": N_("accepted"), "closed": N_("closed"),
}
# Not by colour alone: every state has its sign, read out by screen readers with the words.
STATE_ICONS = {"overdue": "⚠", "open": "○", "submitted": "✉", "returned": "↩", "accepted": "✓", "closed": "—"}
ACTION_WORDS = {
    "submit": N_("answer submitted"), "accept": N_("answer accepted"), "return": N_("returned for completion"),
    "close": N_("taken off control"), "reopen": N_("latest decision undone"), "extend": N_("deadline extended"),
    "revoke-extension": N_("extension revoked"), "request-extension": N_("extension requested"),
    "refuse-extension": N_("extension refused"),
}
ROLE_WORDS = {"focal": N_("focal point"), "supervisor": N_("supervisor"), "head": N_("head")}
LANGUAGE_WORDS = {"kk": N_("Kazakh"), "ru": N_("Russian"), "en": N_("English")}


def state_of(entry: Entry, today: dt.date) -> str:
    """One of STATES: an owed deadline (open or returned) whose day has passed is overdue."""
    if entry.state in ("open", "returned") and entry.due < today:
        return "overdue"
    return entry.state if entry.state in STATES else "closed"


@dataclass
class Filters:
    agency: str | None = None
    obligation: str | None = None
    state: str | None = None
    year: int | None = None
    month: dt.date | None = None  # the first of the month
    day: dt.date | None = None
    q: str = ""
    page: int = 1
    problems: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.agency or self.obligation or self.state or self.year or self.month or self.day or self.q)

    def query(self, lang: str | None = None, **changes) -> str:
        """This selection as a query string, with `changes` (None drops a parameter)."""
        values = {"agency": self.agency, "obligation": self.obligation, "state": self.state,
                  "year": self.year, "month": self.month.strftime("%Y-%m") if self.month else None,
                  "day": self.day.isoformat() if self.day else None, "q": self.q or None, "lang": lang}
        values.update(changes)
        pairs = [(k, str(v)) for k, v in values.items() if v not in (None, "")]
        return "?" + urlencode(pairs) if pairs else "?"


def read_filters(request: Request, plan, _) -> Filters:
    """The filters from the query string; what cannot be read is dropped and said (`problems`)."""
    params, found = request.query_params, Filters()
    agency = params.get("agency", "").strip()
    if agency:
        if plan.agency(agency):
            found.agency = agency
        else:
            found.problems.append(_("No such agency in the plan; the agency filter was left out."))
    obligation = params.get("obligation", "").strip()
    if obligation:
        if plan.obligation(obligation):
            found.obligation = obligation
        else:
            found.problems.append(_("No such item in the plan; the item filter was left out."))
    state = params.get("state", "").strip()
    if state:
        if state in STATES:
            found.state = state
        else:
            found.problems.append(_("Unknown state; the state filter was left out."))
    year = params.get("year", "").strip()
    if year:
        if re.fullmatch(r"\d{4}", year):
            found.year = int(year)
        else:
            found.problems.append(_("The year is written as four digits, such as 2022."))
    month = params.get("month", "").strip()
    if month:
        try:
            found.month = dt.date.fromisoformat(month + "-01") if re.fullmatch(r"\d{4}-\d{2}", month) else None
        except ValueError:
            found.month = None
        if found.month is None:
            found.problems.append(_("The month is written as year and month, such as 2022-12."))
    day = params.get("day", "").strip()
    if day:
        try:
            found.day = dt.date.fromisoformat(day)
        except ValueError:
            found.problems.append(_("The day is written as year, month and day, such as 2022-12-09."))
    # Within the dates the program takes (scheduler.bounds): the month shown and its neighbours are
    # worked out from the period, which overflows near 0001-01-01 and 9999-12-31.
    for name, given in (("year", found.year), ("month", found.month), ("day", found.day)):
        if given is not None and not bounds.FIRST.year <= getattr(given, "year", given) <= bounds.LAST.year:
            setattr(found, name, None)
            found.problems.append(_("%(value)s is outside the dates the dashboard shows, %(first)s to %(last)s; "
                                    "that filter was left out.") % {"value": params.get(name, "").strip(),
                                                                    "first": bounds.FIRST.isoformat(),
                                                                    "last": bounds.LAST.isoformat()})
    found.q = " ".join(params.get("q", "").split())[:200]
    found.page = bounds.number(params.get("page", ""), 1, 99_999) or 1  # ASCII digits: int('²') fails
    return found


def period_of(filters: Filters, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The due dates the list covers: the day, the month or the year asked for; with no period but
    another filter, the whole plan; with no filter at all, this month."""
    if filters.day:
        return filters.day, filters.day
    if filters.month:
        return filters.month, last_of_month(filters.month)
    if filters.year:
        return dt.date(filters.year, 1, 1), dt.date(filters.year, 12, 31)
    if filters.any:
        return None, None
    first = today.replace(day=1)
    return first, last_of_month(first)


def last_of_month(first: dt.date) -> dt.date:
    return first.replace(day=month_calendar.monthrange(first.year, first.month)[1])


def add_months(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Row:
    """A deadline as a line of the page: all in the page's language."""

    entry: Entry
    state: str
    agency_name: str
    title: str
    submitted_on: dt.date | None
    placeholder: bool = False
    """A party the plan names with no addressee: listed, not counted (no tally, not among the late)."""


class Words:
    """The plan's words in the page's language: agencies by name, items by title."""

    def __init__(self, plan, lang: str, today: dt.date, zone):
        self.plan, self.lang, self.today, self.zone = plan, lang, today, zone
        self.placeholders = plan.placeholders
        self.epochs = dashboard_queries.name_epochs(plan.file.agencies)
        self._names: dict[tuple[str, dt.date | None], str] = {}

    def agency(self, code: str, day: dt.date | None = None) -> str:
        """The body's name as it was on `day` (today when None)."""
        key = (code, self.named_on(code, day or self.today))
        found = self._names.get(key)
        if found is None:
            if code == "government" or self.plan.agency(code) or code in self.plan.file.offices:
                found = self.plan.display_name(code, day or self.today, self.lang)
            else:
                found = code
            self._names[key] = found
        return found

    def named_on(self, code: str, day: dt.date) -> dt.date | None:
        """The last day of the name the body carried on `day`; None for its present name."""
        return next((until for until in self.epochs.get(code, ()) if day <= until), None)

    def names(self, code: str) -> list[str]:
        """Every name the body has carried (the present one last)."""
        return [self.agency(code, until) for until in self.epochs.get(code, ())] + [self.agency(code, dt.date.max)]

    def title(self, obligation_id: str, fallback: str = "") -> str:
        obligation = self.plan.obligation(obligation_id)
        if obligation is None:
            return fallback
        return getattr(obligation, f"title_{self.lang}", None) or obligation.title_kk

    def form(self, obligation_id: str) -> str | None:
        obligation = self.plan.obligation(obligation_id)
        if obligation is None:
            return None
        return getattr(obligation, f"form_{self.lang}", None) or obligation.form_kk

    def date(self, day: dt.date | None) -> str:
        return _long_date(day, self.lang) if day else ""

    def month(self, first: dt.date) -> str:
        return _month(first, self.lang)

    def short_month(self, first: dt.date) -> str:
        return format_date(first, "LLL", locale=self.lang)

    def weekdays(self) -> list[str]:
        monday = dt.date(2024, 1, 1)
        return [format_date(monday + dt.timedelta(days=i), "EEE", locale=self.lang) for i in range(7)]

    def row(self, entry: Entry) -> Row:
        return Row(entry, state_of(entry, self.today), self.agency(entry.agency, entry.nominal_due),
                   self.title(entry.obligation, entry.title_kk),
                   entry.submitted_at.astimezone(self.zone).date() if entry.submitted_at else None,
                   entry.agency in self.placeholders)


@functools.lru_cache(maxsize=4096)
def _long_date(day: dt.date, lang: str) -> str:
    return long_date(day, lang)


@functools.lru_cache(maxsize=1024)
def _month(first: dt.date, lang: str) -> str:
    return format_date(first, "LLLL y", locale=lang)


def select_rows(rows: list[Row], filters: Filters) -> list[Row]:
    chosen = rows
    if filters.state:
        chosen = [r for r in chosen if r.state == filters.state]
    if filters.q:
        words = filters.q.casefold().split()
        chosen = [r for r in chosen
                  if all(w in f"{r.title} {r.agency_name} {r.entry.obligation} {r.entry.period}".casefold() for w in words)]
    return chosen


def grouped_by_agency(rows: list[Row]) -> list[tuple[str, str, list[Row]]]:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row.entry.agency].append(row)
    return sorted(((code, items[0].agency_name, items) for code, items in groups.items()),
                  key=lambda g: g[1].casefold())


@dataclass(frozen=True)
class Group:
    """A day's deadlines of one agency, as far as they are on this page."""

    code: str
    name: str
    rows: list[Row]
    total: int  # the agency's deadlines that day, on every page
    continued: bool  # its first ones are on the page before


@dataclass
class Listing:
    """One page of the list: its rows (or, for a day, its agencies' groups) and where it stands."""

    rows: list[Row]
    count: int  # the deadlines that match, on every page
    page: int
    pages: int
    first: int  # the number of the page's first deadline (1-based; 0 when none)
    last: int
    groups: list[Group] | None = None
    search: Search | None = None


def _page_of(count: int, asked: int, size: int) -> tuple[int, int, int]:
    """(page, pages, offset): the page asked for, or the last one when it asks beyond."""
    pages = max(1, -(-count // size))
    page = min(max(asked, 1), pages)
    return page, pages, (page - 1) * size


def listing(engine, words: Words, filters: Filters, first: dt.date | None, last: dt.date | None,
            today: dt.date) -> Listing:
    """The page of the list that `filters` asks for (`filters.page`): by due date, or for a day
    grouped by agency (agencies by name). The database counts and reads only that page; a search
    of words reads the narrowed rows' few columns and reads in full only the page's."""
    chosen = {"agency": filters.agency, "obligation": filters.obligation, "first": first, "last": last,
              "state": filters.state, "today": today}
    size = DAY_PAGE_SIZE if filters.day else PAGE_SIZE
    search = Search(filters.q, words) if filters.q else None
    if search is not None:
        found = search.rows(engine, **chosen)
        if filters.day:
            groups: dict[str, list[tuple]] = defaultdict(list)
            for row in found:
                groups[row[2]].append(row)
            named = sorted(((code, words.agency(code, rows[0][4]), rows) for code, rows in groups.items()),
                           key=lambda g: (g[1].casefold(), g[0]))
            found = [row for _, _, rows in named for row in rows]
            totals = {code: (name, len(rows)) for code, name, rows in named}
        page, pages, offset = _page_of(len(found), filters.page, size)
        ids = [row[0] for row in found[offset:offset + size]]
        by_id = {e.id: e for e in dashboard_queries.entries(engine, ids=ids)} if ids else {}
        rows = [words.row(by_id[i]) for i in ids if i in by_id]
        count = len(found)
    elif filters.day:
        agencies = dashboard_queries.agencies_of(engine, **chosen)
        named = sorted(((code, words.agency(code, earliest), n) for code, earliest, n in agencies),
                       key=lambda g: (g[1].casefold(), g[0]))
        totals = {code: (name, n) for code, name, n in named}
        count = sum(n for _, _, n in named)
        page, pages, offset = _page_of(count, filters.page, size)
        wanted, start, position = [], None, 0
        for code, _, n in named:  # the agencies this page shows, and where it starts in the first
            if position + n > offset and position < offset + size:
                wanted.append(code)
                start = offset - position if start is None else start
            position += n
        rows = []
        if wanted:
            from scheduler.store.tables import OccurrenceRow

            read = dashboard_queries.entries(engine, match=OccurrenceRow.__table__.c.agency.in_(wanted), **chosen)
            order = {code: n for n, code in enumerate(wanted)}
            read.sort(key=lambda e: order[e.agency])  # stable: by due date and id within an agency
            rows = [words.row(e) for e in read[start:start + size]]
    else:
        count = dashboard_queries.count(engine, **chosen)
        page, pages, offset = _page_of(count, filters.page, size)
        rows = [words.row(e) for e in dashboard_queries.entries(engine, limit=size, offset=offset, **chosen)] if count else []
    shown = Listing(rows, count, page, pages, offset + 1 if rows else 0, offset + len(rows), search=search)
    if filters.day:
        starts, position = {}, 0
        for code, (_, total) in totals.items():  # in the page's order of agencies
            starts[code], position = position, position + total
        shown.groups = []
        for row in rows:
            code = row.entry.agency
            if shown.groups and shown.groups[-1].code == code:
                shown.groups[-1].rows.append(row)
            else:
                name, total = totals[code]
                shown.groups.append(Group(code, name, [row], total, starts[code] < offset))
    return shown


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Search:
    """The words searched for (`q`), on the page's words: every word must be in the item's title or
    number, the body's name (as it was on the nominal date) or the period."""

    def __init__(self, q: str, words: Words):
        self.terms = q.casefold().split()
        self.words = words
        self._titles: dict[str, str] = {}
        self._names: dict[tuple[str, dt.date], str] = {}

    def narrowing(self):
        """An SQL condition that every match meets (the database's first cut; `matches` decides)."""
        from sqlalchemy import and_, func, or_

        from scheduler.store.tables import OccurrenceRow

        o, plan, words = OccurrenceRow.__table__.c, self.words.plan, self.words
        obligations = [ob.id for ob in plan.obligations]
        agencies = sorted(plan.file.agencies)
        found = []
        for term in self.terms:
            items = [i for i in obligations if term in f"{words.title(i)} {i}".casefold()]
            bodies = [code for code in agencies if any(term in name.casefold() for name in words.names(code))]
            found.append(or_(o.obligation.in_(items), o.agency.in_(bodies), func.lower(o.period).like(_like(term), escape="\\"),
                             o.obligation.not_in(obligations), o.agency.not_in(agencies)))
        return and_(*found)

    def rows(self, engine, **selection) -> list[tuple]:
        """The selection's rows that match, as `dashboard_queries.lean` gives them."""
        return [row for row in dashboard_queries.lean(engine, match=self.narrowing(), **selection)
                if self.matches(row[1], row[2], row[3], row[4], row[7])]

    def by_day(self, engine, today: dt.date, **selection) -> dict[dt.date, tuple[int, int, int]]:
        """As `dashboard_queries.by_day`, for the rows that match."""
        counts: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
        for _, _, agency, _, _, due, state, _ in self.rows(engine, today=today, **selection):
            cell = counts[due]
            cell[0] += 1
            cell[1] += state in dashboard_queries.OWED and due < today and agency not in self.words.placeholders
            cell[2] += state not in dashboard_queries.OWED
        return {day: (n, overdue, settled) for day, (n, overdue, settled) in counts.items()}

    def matches(self, obligation: str, agency: str, period: str, nominal: dt.date, title_kk: str = "") -> bool:
        title = self._titles.get(obligation)
        if title is None:
            title = self._titles[obligation] = self.words.title(obligation, title_kk).casefold()
        key = (agency, nominal)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = self.words.agency(agency, nominal).casefold()
        text = f"{title} {name} {obligation.casefold()} {period.casefold()}"
        return all(term in text for term in self.terms)


