"""Every message a template or module marks for translation is translated in Kazakh and Russian,
in every domain (email, digest, web, dashboard, report): the ids are extracted with Babel exactly
as `make catalogs` does (each domain's `locale/<domain>.cfg`), then looked up in the catalog as the
program reads it (compiled by Babel, fuzzy entries left out). A string added to a template and not
translated, or left fuzzy after `make catalogs`, fails here; so does a translation that loses or
invents a placeholder, and a plural with fewer forms than its language has (Russian: three)."""

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

from scheduler import templating

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("kk", "ru")
PLURALS = {"kk": 2, "ru": 3, "en": 2}
KEYWORDS = {**DEFAULT_KEYWORDS, "_": None, "ngettext": (1, 2)}  # as the Makefile's `pybabel extract -k _ -k ngettext:1,2`
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
SEARCHED = ("scheduler", "templates")  # where the cfg patterns point; node_modules and .venv are never walked


def extracted(domain: str) -> dict:
    """{msgid or (singular, plural): [where, …]} for one domain, as `make catalogs` extracts it; a
    message with a context (pgettext) is keyed as the compiled catalog keys it, "context\x04msgid"."""
    with (ROOT / "locale" / f"{domain}.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=f"locale/{domain}.cfg")

    def descend(path: str) -> bool:
        relative = Path(path).resolve().relative_to(ROOT).parts
        return bool(relative) and relative[0] in SEARCHED and not any(p.startswith((".", "__")) for p in relative)

    found: dict = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=descend):
        key = message if isinstance(message, str) else tuple(message[:2]) if message[1] else message[0]
        if context:
            key = tuple(f"{context}\x04{m}" for m in key) if isinstance(key, tuple) else f"{context}\x04{key}"
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def compiled(domain: str, language: str, drop: frozenset = frozenset()) -> Translations:
    """The domain's catalog as the program reads it (templating.compile_po), less `drop`."""
    po = ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"
    if not drop:
        return Translations(io.BytesIO(templating.compile_po(po, language)), domain=domain)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    for message_id in drop:
        catalog.delete(message_id)  # (no context: the email domain's ids in the test below)
    from babel.messages.mofile import write_mo

    data = io.BytesIO()
    write_mo(data, catalog, use_fuzzy=False)
    return Translations(io.BytesIO(data.getvalue()), domain=domain)


def problems(ids: dict, catalog: Translations, language: str) -> list[str]:
    """What the catalog lacks or gets wrong for the extracted ids."""
    found = []
    table = catalog._catalog
    for key, where in sorted(ids.items(), key=lambda pair: str(pair[0])):
        if isinstance(key, tuple):
            singular, plural = key
            forms = [table.get((singular, n)) for n in range(PLURALS[language])]
            if not all(forms) or (singular, PLURALS[language]) in table:
                found.append(f"{language}: plural {singular!r} ({where[0]}): forms {forms}")
                continue
            wanted = set(PLACEHOLDER.findall(singular.split("\x04")[-1])) | set(PLACEHOLDER.findall(plural.split("\x04")[-1]))
            texts = forms
        else:
            text = table.get(key)
            if not text:
                found.append(f"{language}: {key!r} ({where[0]}): not translated")
                continue
            wanted, texts = set(PLACEHOLDER.findall(key.split("\x04")[-1])), [text]
        for text in texts:
            if set(PLACEHOLDER.findall(text)) != wanted:
                found.append(f"{language}: {key!r}: placeholders {sorted(set(PLACEHOLDER.findall(text)))}, "
                             f"not {sorted(wanted)}")
    return found


@pytest.mark.parametrize("domain", templating.DOMAINS)
def test_every_marked_string_is_translated_in_kazakh_and_russian(domain):
    ids = extracted(domain)
    found = [p for language in TRANSLATED for p in problems(ids, compiled(domain, language), language)]
    assert found == [], f"{domain}: run `make catalogs CATALOGS={domain}` and translate:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("domain", templating.DOMAINS)
def test_english_plurals_print_something(domain):
    """English may leave a msgstr empty (the id is printed), but an empty plural would print nothing."""
    ids = {k: v for k, v in extracted(domain).items() if isinstance(k, tuple)}
    table = compiled(domain, "en")._catalog
    empty = [k for k in ids if any((k[0], n) in table and not table[(k[0], n)] for n in range(2))]
    assert empty == []


def test_the_email_templates_mark_their_words_and_the_check_sees_a_missing_one():
    """The email domain has something to check (the templates and compose.py mark their words), and
    a catalog without one of them fails the check: the check is not vacuous."""
    ids = extracted("email")
    assert "Obligation" in ids and ("%(num)d obligation", "%(num)d obligations") in ids
    assert any(where.startswith("templates/email/escalation.j2") for places in ids.values() for where in places)
    assert any(where.startswith("scheduler/notify/compose.py") for places in ids.values() for where in places)
    for language in TRANSLATED:
        assert problems(ids, compiled("email", language), language) == []
        lacking = problems(ids, compiled("email", language, drop=frozenset({"Obligation"})), language)
        assert lacking and "'Obligation'" in lacking[0]
        lacking = problems(ids, compiled("email", language, drop=frozenset({"%(num)d obligation"})), language)
        assert lacking and "plural" in lacking[0]


def test_russian_counts_take_three_forms():
    russian = compiled("email", "ru")
    forms = [russian.ngettext("%(num)d obligation", "%(num)d obligations", n) % {"num": n} for n in (1, 2, 5, 11, 21, 22, 25)]
    assert forms == ["1 мероприятие", "2 мероприятия", "5 мероприятий", "11 мероприятий", "21 мероприятие",
                     "22 мероприятия", "25 мероприятий"]
    kazakh = compiled("email", "kk")
    assert [kazakh.ngettext("%(num)d obligation", "%(num)d obligations", n) % {"num": n} for n in (1, 5)] == \
        ["1 іс-шара", "5 іс-шара"]
