"""Dates and weekday names in the three working languages, through Babel; which of them a browser asks for."""

from __future__ import annotations

import datetime as dt
import functools
import re

# Babel is imported when a date is first written, not with this module: the command line lists its
# languages (`--lang`) without loading Babel.

LANGUAGES = ("kk", "ru", "en")

# Kazakh official documents write "2022 жылғы 10 желтоқсан"; Babel's stock long format does not.
_LONG_PATTERNS = {"kk": "y 'жылғы' d MMMM", "ru": "d MMMM y 'г.'", "en": "d MMMM y"}


@functools.lru_cache(maxsize=8192)  # a feed or an email writes the same dates over and over
def long_date(day: dt.date, lang: str) -> str:
    from babel.dates import format_date

    return format_date(day, _LONG_PATTERNS[lang], locale=lang)


def weekday(day: dt.date, lang: str) -> str:
    return _weekday_name(day.weekday(), lang)


@functools.lru_cache(maxsize=None)
def _weekday_name(number: int, lang: str) -> str:
    from babel.dates import format_date

    return format_date(dt.date(2024, 1, 1) + dt.timedelta(days=number), "EEEE", locale=lang)  # 2024-01-01: a Monday


def period_words(label: str, lang: str, gettext) -> str:
    """An occurrence's period in words ("I квартал 2022 г.", "2022 жылғы I жартыжылдық"), through the
    catalog's `gettext`: a year, a half-year, a quarter, or a one-off's day."""
    import re

    if re.fullmatch(r"\d{4}", label):
        return gettext("year %(year)s") % {"year": label}
    if found := re.fullmatch(r"(\d{4})-H([12])", label):
        return gettext("half-year %(half)s of %(year)s") % {"half": "I" * int(found[2]), "year": found[1]}
    if found := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        return gettext("quarter %(quarter)s of %(year)s") % {"quarter": ("I", "II", "III", "IV")[int(found[2]) - 1],
                                                             "year": found[1]}
    try:
        return long_date(dt.date.fromisoformat(label), lang)
    except ValueError:
        return label


def accepted_languages(header: str) -> list[str]:
    """Our languages that an Accept-Language header names, most wanted first (q=0: not wanted)."""
    offered = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if found := re.search(r"q\s*=\s*([0-9.]+)", params):
            try:
                weight = float(found.group(1))
            except ValueError:
                weight = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and weight > 0:
            offered.append((-weight, position, language))
    return list(dict.fromkeys(language for _, _, language in sorted(offered)))
