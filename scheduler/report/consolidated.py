"""The consolidated implementation report that paragraphs 3.2 and 4 of the resolution ask for.

Per plan row, in the plan's order (sections, row 8 as a heading over 8.1–8.5, then the resolution's
own paragraphs), the row's activity, form of completion, responsible bodies and deadline as the plan
prints them, and for every body that owes it in the chosen span its state and its information: the
letter's registration number and date and the text. The layout is the plan's own table with an
"information on implementation" column.

A pure function of the loaded plan and one `Answer` per occurrence (an occurrence nobody answered
is an `Answer` in state `open`): it reads no database and no clock. Whatever keeps the answers
(the store) turns its rows into `Answer`s; `unanswered` makes them from the plan's expansion. The
result is plain strings in one language, ready for the DOCX and XLSX writers, which know nothing
of the plan.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from scheduler.i18n import long_date
from scheduler.plan.model import Plan, party_code
from scheduler.plan.schema import (
    GroupMember,
    Obligation,
)
from scheduler.report.consolidated_words import (
    approved_words,
    as_of_words,
    deadline_words,
    paragraph_words,
    period_words,
    resolution_paragraph,
    responsible_words,
    span_words,
    text_of,
)
from scheduler.templating import translations

LANGUAGES = ("kk", "ru")

STATES = ("open", "submitted", "accepted", "returned", "closed", "cancelled")
"""The states an answer can be in (the contract's). `cancelled` occurrences left the plan and are
not reported; `pending` is not a state but how an `open` one whose date has not come is shown."""

def _state_words(lang: str) -> dict[str, str]:
    """The states in words, as the report prints them (the report catalog, context "report state")."""
    t = translations(lang, "report")
    return {
        "open": t.pgettext("report state", "not submitted"),
        "pending": t.pgettext("report state", "not yet due"),
        "submitted": t.pgettext("report state", "submitted"),
        "accepted": t.pgettext("report state", "accepted"),
        "returned": t.pgettext("report state", "returned for revision"),
        "closed": t.pgettext("report state", "removed from control"),
        "unaddressed": t.pgettext("report state", "no addressee, not counted"),
    }


class _PerLanguage(Mapping):
    """{language: {key: words}}, each language's words read from the catalog when first asked for."""

    def __init__(self, build):
        self._build, self._built = build, {}

    def __getitem__(self, lang: str) -> dict[str, str]:
        if lang not in LANGUAGES:
            raise KeyError(lang)
        if lang not in self._built:
            self._built[lang] = self._build(lang)
        return self._built[lang]

    def __iter__(self):
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


STATE_WORDS = _PerLanguage(_state_words)

SHOWN_STATES = ("accepted", "submitted", "returned", "open", "pending", "closed")
"""The order in which the summary counts states."""

def _labels(lang: str) -> dict[str, str]:
    """The report's headings and labels (the report catalog, context "consolidated report")."""
    t = translations(lang, "report")
    return {
        "report": t.pgettext("consolidated report", "Consolidated information on the implementation of the Plan"),
        "number": t.pgettext("consolidated report", "No."),
        "activity": t.pgettext("consolidated report", "Activity"),
        "form": t.pgettext("consolidated report", "Form of completion"),
        "responsible": t.pgettext("consolidated report", "Responsible for implementation"),
        "deadline": t.pgettext("consolidated report", "Deadline"),
        "information": t.pgettext("consolidated report", "Information on implementation"),
        "agency": t.pgettext("consolidated report", "Body"),
        "period": t.pgettext("consolidated report", "Period"),
        "due": t.pgettext("consolidated report", "Due"),
        "state": t.pgettext("consolidated report", "State"),
        "letter": t.pgettext("consolidated report", "Letter No. and date"),
        "submitted": t.pgettext("consolidated report", "Date submitted"),
        "text": t.pgettext("consolidated report", "Information"),
        "due_inline": t.pgettext("consolidated report", "due"),
        "submitted_inline": t.pgettext("consolidated report", "submitted on"),
        "late": t.pgettext("consolidated report", "after the deadline"),
        "nothing_due": t.pgettext("consolidated report", "Nothing falls due in this period"),
        "resolution": t.pgettext("consolidated report", "Paragraphs of the resolution"),
        "total": t.pgettext("consolidated report", "Total"),
        "record": t.pgettext("consolidated report", "The record as this report was made: its hash chain ends at link "
                                                    "no. %(seq)s, SHA-256 %(hash)s"),
    }


LABELS = _PerLanguage(_labels)

# "2021 жылғы 24 ақпан" + the locative-attributive suffix ("24 ақпандағы", "9 желтоқсандағы"),
# chosen by each month name's last vowel and last sound.



@dataclass(frozen=True)
class Answer:
    """One occurrence and what became of it: the input, one per occurrence owed."""

    occurrence: str
    obligation: str
    agency: str
    period: str
    due: dt.date  # the effective due date (an extension's, if granted)
    state: str = "open"
    submitted_at: dt.datetime | dt.date | None = None  # when it came, as a local date or local datetime
    ref: str | None = None  # the outgoing letter's registration number
    ref_date: dt.date | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"{self.occurrence}: unknown state {self.state!r} (one of {', '.join(STATES)})")


@dataclass(frozen=True)
class Entry:
    """One body's line under a plan row, in words of the report's language."""

    occurrence: str
    agency: str
    agency_name: str
    period: str  # the period in words where the due date alone does not say it, else ""
    due: dt.date
    due_text: str
    state: str  # a state of STATES, "pending", or "unaddressed" (a placeholder: listed, not counted)
    state_text: str
    submitted_on: dt.date | None
    submitted_text: str  # "2022 жылғы 12 желтоқсан (мерзімі өткеннен кейін)", or ""
    late: bool
    reference: str  # "№ 12-3/45, 2022 жылғы 8 желтоқсан", or ""
    text: str


@dataclass(frozen=True)
class Row:
    """A line of the report's table: a section or group heading spanning the table, a heading row
    (row 8) or an obligation."""

    kind: str  # "section", "heading" or "obligation"
    number: str  # as printed: "8.1"; "3.2" for the resolution's paragraph 3.2
    title: str
    form: str = ""
    responsible: str = ""
    deadline: str = ""
    under: str | None = None  # the heading row whose form and deadline this row shares
    entries: tuple[Entry, ...] = ()
    note: str = ""  # said in the information column when no entry falls in the span
    id: str = ""  # the obligation's or heading's id: "8.1", "res-3.2"


@dataclass(frozen=True)
class Consolidated:
    lang: str
    title: str  # the report's own title
    plan_title: str
    approved: str  # "approved by resolution … No. 94"
    span: str
    as_of: str
    year: int | None
    labels: dict[str, str]
    rows: tuple[Row, ...]
    counts: dict[str, int]
    left_out: tuple[str, ...] = field(default=())
    """Occurrences whose obligation the plan no longer has (they cannot be placed)."""
    record: str = ""
    """The record's hash chain head as the report was made, in words ("" when not read from a store)."""

    @property
    def summary(self) -> str:
        words = STATE_WORDS[self.lang]
        parts = [f"{words[s]} — {self.counts[s]}" for s in SHOWN_STATES if self.counts.get(s)]
        total = sum(self.counts.values())
        return f"{self.labels['total']}: {total}" + (f" ({', '.join(parts)})" if parts else "")


# --- building -------------------------------------------------------------------------------------


def unanswered(occurrences: Iterable) -> list[Answer]:
    """An open `Answer` for each occurrence of the plan's expansion (`scheduler.calendar.expand`)."""
    return [Answer(o.id, o.obligation, o.agency, o.period, o.due) for o in occurrences]


def consolidate(plan: Plan, answers: Iterable[Answer], *, lang: str = "kk", year: int | None = None,
                today: dt.date | None = None, record=None) -> Consolidated:
    """The report over the answers due in `year` (every one when None), in `lang` (kk or ru).

    With `today`, an open answer whose due date is today or later is shown as not yet due. `record`:
    the head of the store's hash chain (its `seq` and `hash`), printed so that a later edit shows."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: the consolidated report is written in {' or '.join(LANGUAGES)}")
    labels = LABELS[lang]
    chosen = [a for a in answers if a.state != "cancelled" and (year is None or a.due.year == year)]
    by_obligation: dict[str, list[Answer]] = {}
    for answer in chosen:
        by_obligation.setdefault(answer.obligation, []).append(answer)
    left_out = tuple(sorted(a.occurrence for o, found in by_obligation.items() if plan.obligation(o) is None for a in found))

    counts: Counter[str] = Counter()
    rows: list[Row] = []
    section = None
    headings = {h.id: h for h in plan.file.headings}
    sections = {s.number: s for s in plan.file.sections}
    shown_headings: set[str] = set()
    resolution_shown = False
    for obligation in plan.obligations:
        paragraph = resolution_paragraph(obligation.id)
        if paragraph is not None and not resolution_shown:
            rows.append(Row("section", "", labels["resolution"]))
            resolution_shown, section = True, None
        elif paragraph is None and obligation.section is not None and obligation.section != section:
            section = obligation.section
            found = sections.get(section)
            title = text_of(found, "title", lang) if found else ""
            rows.append(Row("section", str(section), f"{section}. {title}" if title else str(section)))
        heading = headings.get(obligation.under or "")
        if heading is not None and heading.id not in shown_headings:
            shown_headings.add(heading.id)
            rows.append(Row("heading", heading.id, text_of(heading, "title", lang),
                            form=text_of(heading, "form", lang) or "", deadline=deadline_words(heading, lang), id=heading.id))
        entries = tuple(_entry(plan, a, lang, today) for a in _in_plan_order(plan, obligation, by_obligation.get(obligation.id, [])))
        counts.update(e.state for e in entries if e.state != "unaddressed")  # placeholders: listed, not counted
        title = text_of(obligation, "title", lang)
        if paragraph is not None:
            title = f"{paragraph_words(paragraph, lang)} {title}"
        rows.append(Row(
            "obligation",
            paragraph or obligation.id,
            title,
            form=text_of(obligation, "form", lang) or "",
            responsible=responsible_words(plan, obligation, lang),
            deadline=deadline_words(obligation, lang),
            under=heading.id if heading is not None else None,
            entries=entries,
            note="" if entries else labels["nothing_due"],
            id=obligation.id,
        ))

    meta = plan.file.plan
    return Consolidated(
        lang=lang,
        title=labels["report"],
        plan_title=text_of(meta, "title", lang),
        approved=approved_words(meta.number, meta.date, lang),
        span=span_words(plan, chosen, year, lang),
        as_of=as_of_words(today, lang) if today else "",
        year=year,
        labels=dict(labels),
        rows=tuple(rows),
        counts=dict(counts),
        left_out=left_out,
        record=labels["record"] % {"seq": record.seq, "hash": record.hash} if record is not None and record.seq else "",
    )


def _entry(plan: Plan, answer: Answer, lang: str, today: dt.date | None) -> Entry:
    state = answer.state
    if state == "open" and today is not None and answer.due >= today:
        state = "pending"
    if answer.agency in plan.placeholders and state in ("open", "pending"):
        state = "unaddressed"  # a party named with no addressee (placeholder = true): nobody was asked
    submitted = answer.submitted_at
    if isinstance(submitted, dt.datetime):
        submitted = submitted.date()  # the caller gives a local date or a local datetime
    late = submitted is not None and submitted > answer.due
    submitted_text = ""
    if submitted is not None:
        submitted_text = long_date(submitted, lang) + (f" ({LABELS[lang]['late']})" if late else "")
    reference = ""
    if answer.ref or answer.ref_date:
        reference = ", ".join(p for p in (f"№ {answer.ref}" if answer.ref else "",
                                          long_date(answer.ref_date, lang) if answer.ref_date else "") if p)
    return Entry(
        occurrence=answer.occurrence,
        agency=answer.agency,
        agency_name=plan.display_name(answer.agency, answer.due, lang, short=lang == "kk"),
        period="; ".join(w for w in (period_words(answer.period, answer.due, lang), _assumed_words(plan, answer, lang)) if w),
        due=answer.due,
        due_text=long_date(answer.due, lang),
        state=state,
        state_text=STATE_WORDS[lang][state],
        submitted_on=submitted,
        submitted_text=submitted_text,
        late=late,
        reference=reference,
        text=(answer.text or "").strip(),
    )


def _assumed_words(plan: Plan, answer: Answer, lang: str) -> str:
    """"допущение: …" where the deadline rests on a reading the source cannot settle
    (scheduler/plan/assumptions.py): an office's holder that year marked `assumed` in the plan (the
    2022 working body), or an amendment's unknown publication date (No. 236)."""
    from scheduler.calendar.expand import governing
    from scheduler.plan.assumptions import Office, assumptions

    obligation = plan.obligation(answer.obligation)
    found = governing(plan, obligation, answer.period) if obligation is not None and obligation.due is not None \
        and obligation.due.kind != "before" else None
    if not found:
        return ""
    nominal, said = found[1].date, []
    for assumed in assumptions(plan, answer.obligation, answer.agency, nominal):
        if isinstance(assumed, Office):
            office = plan.file.offices[assumed.office]
            holder = plan.display_name(assumed.holder, nominal, lang, short=lang == "kk")
            said.append(f"болжам: {office.name_kk} {assumed.year} жылы — {holder} (дереккөз мұны анық айтпайды)"
                        if lang == "kk" else
                        f"допущение: {office.name_ru or office.name_kk} в {assumed.year} году — {holder} "
                        "(источник этого не устанавливает)")
        else:
            latest = assumed.latest.strftime("%d.%m.%Y")
            said.append(f"болжам: № {assumed.number} қаулы қол қойылған күні жарияланды деп алынды; {latest} кейін "
                        "жарияланса, бұрынғы мәтін қолданылады" if lang == "kk" else
                        f"допущение: постановление № {assumed.number} считается опубликованным в день подписания; "
                        f"если опубликовано после {latest}, применяется прежний текст")
    return "; ".join(said)

def _in_plan_order(plan: Plan, obligation: Obligation, answers: list[Answer]) -> list[Answer]:
    """Bodies in the order the plan names them, each body's deadlines in date order."""
    rank = _party_rank(plan, obligation)
    return sorted(answers, key=lambda a: (rank.get(a.agency, len(rank)), a.agency, a.due, a.period))


def _party_rank(plan: Plan, obligation: Obligation) -> dict[str, int]:
    if obligation.responsible == "all":
        refs = [r for o in plan.obligations if o.responsible != "all" for r in _all_refs(o)]
    else:
        refs = _all_refs(obligation)
    rank: dict[str, int] = {}
    for ref in refs:
        code = party_code(ref)
        group = plan.file.groups.get(code)
        members = [m.agency if isinstance(m, GroupMember) else m for m in group.members] if group else [code]
        if code in plan.file.offices:
            members = [t.agency for t in plan.file.offices[code].held_by]
        for member in members:
            rank.setdefault(member, len(rank))
    # A body that answered before its successor existed (БҒМ before ОМ) stands where the successor does.
    for code, agency in plan.file.agencies.items():
        if agency.predecessor and code in rank:
            rank.setdefault(agency.predecessor, rank[code])
    return rank


def _all_refs(obligation: Obligation) -> list:
    refs = list(obligation.responsible) if obligation.responsible != "all" else []
    for instance in obligation.instances:
        refs += list(instance.responsible or ())
    return refs


# --- words -----------------------------------------------------------------------------------------
