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
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from babel.dates import format_date

from scheduler.i18n import long_date
from scheduler.plan.model import Plan, party_code
from scheduler.plan.schema import (
    Annual,
    Dates,
    GroupMember,
    HalfYearly,
    Monthly,
    Obligation,
    Once,
    Quarterly,
    ScopedParty,
    Within,
    YearEnd,
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
_KK_OF_MONTH = {1: "дағы", 2: "дағы", 3: "дағы", 4: "дегі", 5: "дағы", 6: "дағы",
                7: "дегі", 8: "дағы", 9: "тегі", 10: "дағы", 11: "дағы", 12: "дағы"}

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


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
        paragraph = _resolution_paragraph(obligation.id)
        if paragraph is not None and not resolution_shown:
            rows.append(Row("section", "", labels["resolution"]))
            resolution_shown, section = True, None
        elif paragraph is None and obligation.section is not None and obligation.section != section:
            section = obligation.section
            found = sections.get(section)
            title = _text(found, "title", lang) if found else ""
            rows.append(Row("section", str(section), f"{section}. {title}" if title else str(section)))
        heading = headings.get(obligation.under or "")
        if heading is not None and heading.id not in shown_headings:
            shown_headings.add(heading.id)
            rows.append(Row("heading", heading.id, _text(heading, "title", lang),
                            form=_text(heading, "form", lang) or "", deadline=_deadline(heading, lang), id=heading.id))
        entries = tuple(_entry(plan, a, lang, today) for a in _in_plan_order(plan, obligation, by_obligation.get(obligation.id, [])))
        counts.update(e.state for e in entries if e.state != "unaddressed")  # placeholders: listed, not counted
        title = _text(obligation, "title", lang)
        if paragraph is not None:
            title = f"{_paragraph_words(paragraph, lang)} {title}"
        rows.append(Row(
            "obligation",
            paragraph or obligation.id,
            title,
            form=_text(obligation, "form", lang) or "",
            responsible=_responsible(plan, obligation, lang),
            deadline=_deadline(obligation, lang),
            under=heading.id if heading is not None else None,
            entries=entries,
            note="" if entries else labels["nothing_due"],
            id=obligation.id,
        ))

    meta = plan.file.plan
    return Consolidated(
        lang=lang,
        title=labels["report"],
        plan_title=_text(meta, "title", lang),
        approved=_approved(meta.number, meta.date, lang),
        span=_span(plan, chosen, year, lang),
        as_of=_as_of(today, lang) if today else "",
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
        period="; ".join(w for w in (_period_words(answer.period, answer.due, lang), _assumed_words(plan, answer, lang)) if w),
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
    """"допущение: …" where who owes or receives the deadline rests on a reading the source cannot
    settle (an office's holder that year marked `assumed` in the plan: the 2022 working body)."""
    from scheduler.calendar.expand import governing
    from scheduler.plan.dating import assumed_office

    obligation = plan.obligation(answer.obligation)
    found = governing(plan, obligation, answer.period) if obligation is not None and obligation.due is not None \
        and obligation.due.kind != "before" else None
    assumed = assumed_office(plan, answer.obligation, answer.agency, found[1].date) if found else None
    if assumed is None:
        return ""
    code, tenure = assumed
    office, holder = plan.file.offices[code], plan.display_name(tenure.agency, found[1].date, lang, short=lang == "kk")
    if lang == "kk":
        return f"болжам: {office.name_kk} {found[1].date.year} жылы — {holder} (дереккөз мұны анық айтпайды)"
    return f"допущение: {office.name_ru or office.name_kk} в {found[1].date.year} году — {holder} (источник этого не устанавливает)"


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


def _text(model, name: str, lang: str) -> str | None:
    """The model's `name_<lang>`, else its Kazakh text (the plan's own)."""
    return getattr(model, f"{name}_{lang}", None) or getattr(model, f"{name}_kk", None)


def _resolution_paragraph(obligation_id: str) -> str | None:
    """"3.2" for "res-3.2": the resolution's own paragraphs, listed after the plan's rows."""
    return obligation_id[4:] if obligation_id.startswith("res-") else None


def _paragraph_words(paragraph: str, lang: str) -> str:
    point, _, sub = paragraph.partition(".")
    if lang == "kk":
        return f"Қаулының {point}-тармағының {sub}) тармақшасы:" if sub else f"Қаулының {point}-тармағы:"
    return f"Подпункт {sub}) пункта {point} постановления:" if sub else f"Пункт {point} постановления:"


def kk_attributive(day: dt.date) -> str:
    """"2021 жылғы 24 ақпандағы": the date as Kazakh documents put it before a noun."""
    return long_date(day, "kk") + _KK_OF_MONTH[day.month]


def _approved(number: str, date: dt.date, lang: str) -> str:
    if lang == "kk":
        return f"Қазақстан Республикасы Үкіметінің {kk_attributive(date)} № {number} қаулысымен бекітілген"
    return f"Утвержден постановлением Правительства Республики Казахстан от {long_date(date, 'ru')} № {number}"


def _as_of(today: dt.date, lang: str) -> str:
    if lang == "kk":
        return f"{kk_attributive(today)} жағдай бойынша"
    return f"По состоянию на {long_date(today, 'ru')}"


def _span(plan: Plan, chosen: list[Answer], year: int | None, lang: str) -> str:
    if year is not None:
        return f"Кезең: {year} жыл" if lang == "kk" else f"Период: {year} год"
    years = sorted({a.due.year for a in chosen}) or list(plan.years)
    first, last = years[0], years[-1]
    if lang == "kk":
        return f"Кезең: Жоспардың барлық мерзімі ({first} – {last} жылдар)"
    return f"Период: весь срок действия Плана ({first} – {last} годы)"


def _period_words(period: str, due: dt.date, lang: str) -> str:
    """The period in words where the due date does not already say it: a half-year, a quarter, a
    month, or the year reported on when it is not the due date's year."""
    if match := re.fullmatch(r"(\d{4})-([HQ])(\d)", period):
        year, kind, number = match.group(1), match.group(2), _ROMAN[int(match.group(3))]
        if lang == "kk":
            return f"{year} жылғы {number} {'жартыжылдық' if kind == 'H' else 'тоқсан'}"
        return f"{number} {'полугодие' if kind == 'H' else 'квартал'} {year} г."
    if match := re.fullmatch(r"(\d{4})-(\d{2})", period):
        month = dt.date(int(match.group(1)), int(match.group(2)), 1)
        if lang == "kk":
            return f"{month.year} жылғы {format_date(month, 'LLLL', locale='kk')}"
        return f"{format_date(month, 'LLLL', locale='ru')} {month.year} г."
    if re.fullmatch(r"\d{4}", period) and int(period) != due.year:
        return f"{period} жыл үшін" if lang == "kk" else f"за {period} год"
    return ""


def _responsible(plan: Plan, obligation: Obligation, lang: str) -> str:
    """As the plan prints it (Kazakh); in Russian, `responsible_ru` when the plan has one, else the
    bodies' Russian names."""
    printed = getattr(obligation, f"responsible_{lang}", None)
    if printed:
        return printed
    if lang == "kk" and obligation.responsible_kk:
        return obligation.responsible_kk
    if obligation.responsible == "all":
        return {"kk": "Жоспарда аталған барлық органдар мен ұйымдар",
                "ru": "Все органы и организации, названные в Плане"}[lang]
    # A body named only for some of the text's own dates (paragraph 4: Еңбекмині in 2022, ІІМ in
    # 2023–2024) is said with those years.
    dated: dict[str, list[int]] = {}
    for instance in obligation.instances:
        for ref in instance.responsible or ():
            dated.setdefault(party_code(ref), []).append(instance.date.year)
    names = []
    for ref in obligation.responsible:
        code = party_code(ref)
        group = plan.file.groups.get(code)
        if group is not None:
            name = _text(group, "name", lang)
        elif code in plan.file.offices:  # held by year: each holder with its years
            held: dict[str, list[int]] = {}
            for tenure in plan.file.offices[code].held_by:
                held.setdefault(tenure.agency, []).extend(y for y in tenure.years if y in plan.years)
            name = ", ".join(f"{plan.display_name(a, plan.adopted, lang, short=lang == 'kk')} "
                             f"({_years_words(tuple(sorted(ys)), lang)})" for a, ys in held.items() if ys)
        else:
            agency = plan.agency(code)
            name = (plan.display_name(code, plan.adopted, lang, short=lang == "kk") if agency else code)
            if agency is not None and agency.by_agreement:
                name += " (келісу бойынша)" if lang == "kk" else " (по согласованию)"
        if isinstance(ref, ScopedParty):
            name += f" ({_years_words(ref.years, lang)})"
        elif code in dated:
            name += f" ({_years_words(tuple(sorted(set(dated[code]))), lang)})"
        names.append(name)
    text = ", ".join(names)
    return text[:1].upper() + text[1:]


def _years_words(years: tuple[int, ...], lang: str) -> str:
    if len(years) == 1:
        return f"{years[0]} жыл" if lang == "kk" else f"{years[0]} год"
    span = f"{years[0]} – {years[-1]}" if list(years) == list(range(years[0], years[-1] + 1)) else ", ".join(map(str, years))
    return f"{span} жылдар" if lang == "kk" else f"{span} годы"


def _deadline(row, lang: str) -> str:
    """As the plan prints it; in Russian, `deadline_ru` when the plan has one, else said from the rule."""
    printed = getattr(row, f"deadline_{lang}", None)
    if printed:
        return printed
    if lang == "kk" or row.due is None:
        return row.deadline_kk or ""
    return _rule_ru(row.due, getattr(row, "instances", ()))


def _rule_ru(rule, instances) -> str:
    if isinstance(rule, Once):
        return long_date(rule.date, "ru")
    if isinstance(rule, Annual):
        return f"ежегодно, до {format_date(dt.date(2000, rule.month, rule.day), 'd MMMM', locale='ru')}"
    if isinstance(rule, HalfYearly):
        return "ежегодно, раз в полугодие"
    if isinstance(rule, Quarterly):
        return "ежегодно, раз в квартал"
    if isinstance(rule, Monthly):
        return "ежемесячно"
    if isinstance(rule, YearEnd):
        return f"{rule.year} год"
    if isinstance(rule, Within):
        parts = []
        if rule.months:
            parts.append("одного месяца" if rule.months == 1 else f"{rule.months} {_plural_ru(rule.months, 'месяца', 'месяцев')}")
        if rule.days:
            parts.append("одного дня" if rule.days == 1 else f"{rule.days} {_plural_ru(rule.days, 'дня', 'дней')}")
        since = "" if rule.anchor == "adoption" else f" с {long_date(rule.anchor, 'ru')}"
        return f"в течение {' и '.join(parts)}{since}"
    if isinstance(rule, Dates):
        days = sorted(i.date for i in instances)
        if days and len({(d.month, d.day) for d in days}) == 1 and len(days) > 1:
            return (f"ежегодно, не позднее {format_date(days[0], 'd MMMM', locale='ru')} "
                    f"({days[0].year} – {days[-1].year} гг.)")
        return "не позднее " + ", ".join(long_date(d, "ru") for d in days)
    return ""


def _plural_ru(number: int, genitive_singular: str, genitive_plural: str) -> str:
    """After "в течение N": 1, 21, 31 … take the genitive singular, the rest the genitive plural."""
    return genitive_singular if number % 10 == 1 and number % 100 != 11 else genitive_plural
