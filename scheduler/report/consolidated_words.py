"""The consolidated report's words: dates as Kazakh and Russian documents write them, the
resolution's paragraphs, the span and periods, the responsible bodies and the deadlines in words of
one language (the rules' own text where the plan gives none)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from babel.dates import format_date

from scheduler.i18n import long_date
from scheduler.plan.model import Plan, party_code
from scheduler.plan.schema import (
    Annual,
    Dates,
    HalfYearly,
    Monthly,
    Obligation,
    Once,
    Quarterly,
    ScopedParty,
    Within,
    YearEnd,
)

if TYPE_CHECKING:
    from scheduler.report.consolidated import Answer

_KK_OF_MONTH = {1: "дағы", 2: "дағы", 3: "дағы", 4: "дегі", 5: "дағы", 6: "дағы",
                7: "дегі", 8: "дағы", 9: "тегі", 10: "дағы", 11: "дағы", 12: "дағы"}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def text_of(model, name: str, lang: str) -> str | None:
    """The model's `name_<lang>`, else its Kazakh text (the plan's own)."""
    return getattr(model, f"{name}_{lang}", None) or getattr(model, f"{name}_kk", None)


def resolution_paragraph(obligation_id: str) -> str | None:
    """"3.2" for "res-3.2": the resolution's own paragraphs, listed after the plan's rows."""
    return obligation_id[4:] if obligation_id.startswith("res-") else None


def paragraph_words(paragraph: str, lang: str) -> str:
    point, _, sub = paragraph.partition(".")
    if lang == "kk":
        return f"Қаулының {point}-тармағының {sub}) тармақшасы:" if sub else f"Қаулының {point}-тармағы:"
    return f"Подпункт {sub}) пункта {point} постановления:" if sub else f"Пункт {point} постановления:"


def kk_attributive(day: dt.date) -> str:
    """"2021 жылғы 24 ақпандағы": the date as Kazakh documents put it before a noun."""
    return long_date(day, "kk") + _KK_OF_MONTH[day.month]


def approved_words(number: str, date: dt.date, lang: str) -> str:
    if lang == "kk":
        return f"Қазақстан Республикасы Үкіметінің {kk_attributive(date)} № {number} қаулысымен бекітілген"
    return f"Утвержден постановлением Правительства Республики Казахстан от {long_date(date, 'ru')} № {number}"


def as_of_words(today: dt.date, lang: str) -> str:
    if lang == "kk":
        return f"{kk_attributive(today)} жағдай бойынша"
    return f"По состоянию на {long_date(today, 'ru')}"


def span_words(plan: Plan, chosen: list[Answer], year: int | None, lang: str) -> str:
    if year is not None:
        return f"Кезең: {year} жыл" if lang == "kk" else f"Период: {year} год"
    years = sorted({a.due.year for a in chosen}) or list(plan.years)
    first, last = years[0], years[-1]
    if lang == "kk":
        return f"Кезең: Жоспардың барлық мерзімі ({first} – {last} жылдар)"
    return f"Период: весь срок действия Плана ({first} – {last} годы)"


def period_words(period: str, due: dt.date, lang: str) -> str:
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


def responsible_words(plan: Plan, obligation: Obligation, lang: str) -> str:
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
            name = text_of(group, "name", lang)
        elif code in plan.file.offices:  # held by year: each holder with its years
            held: dict[str, list[int]] = {}
            for tenure in plan.file.offices[code].held_by:
                held.setdefault(tenure.agency, []).extend(y for y in tenure.years if y in plan.years)
            name = ", ".join(f"{plan.display_name(a, plan.adopted, lang, short=lang == 'kk')} "
                             f"({years_words(tuple(sorted(ys)), lang)})" for a, ys in held.items() if ys)
        else:
            agency = plan.agency(code)
            name = (plan.display_name(code, plan.adopted, lang, short=lang == "kk") if agency else code)
            if agency is not None and agency.by_agreement:
                name += " (келісу бойынша)" if lang == "kk" else " (по согласованию)"
        if isinstance(ref, ScopedParty):
            name += f" ({years_words(ref.years, lang)})"
        elif code in dated:
            name += f" ({years_words(tuple(sorted(set(dated[code]))), lang)})"
        names.append(name)
    text = ", ".join(names)
    return text[:1].upper() + text[1:]


def years_words(years: tuple[int, ...], lang: str) -> str:
    if len(years) == 1:
        return f"{years[0]} жыл" if lang == "kk" else f"{years[0]} год"
    span = f"{years[0]} – {years[-1]}" if list(years) == list(range(years[0], years[-1] + 1)) else ", ".join(map(str, years))
    return f"{span} жылдар" if lang == "kk" else f"{span} годы"


def deadline_words(row, lang: str) -> str:
    """As the plan prints it; in Russian, `deadline_ru` when the plan has one, else said from the rule."""
    printed = getattr(row, f"deadline_{lang}", None)
    if printed:
        return printed
    if lang == "kk" or row.due is None:
        return row.deadline_kk or ""
    return rule_ru(row.due, getattr(row, "instances", ()))


def rule_ru(rule, instances) -> str:
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
            parts.append("одного месяца" if rule.months == 1 else f"{rule.months} {plural_ru(rule.months, 'месяца', 'месяцев')}")
        if rule.days:
            parts.append("одного дня" if rule.days == 1 else f"{rule.days} {plural_ru(rule.days, 'дня', 'дней')}")
        since = "" if rule.anchor == "adoption" else f" с {long_date(rule.anchor, 'ru')}"
        return f"в течение {' и '.join(parts)}{since}"
    if isinstance(rule, Dates):
        days = sorted(i.date for i in instances)
        if days and len({(d.month, d.day) for d in days}) == 1 and len(days) > 1:
            return (f"ежегодно, не позднее {format_date(days[0], 'd MMMM', locale='ru')} "
                    f"({days[0].year} – {days[-1].year} гг.)")
        return "не позднее " + ", ".join(long_date(d, "ru") for d in days)
    return ""


def plural_ru(number: int, genitive_singular: str, genitive_plural: str) -> str:
    """After "в течение N": 1, 21, 31 … take the genitive singular, the rest the genitive plural."""
    return genitive_singular if number % 10 == 1 and number % 100 != 11 else genitive_plural
