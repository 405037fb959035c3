"""Templates and their translations: one template per email kind, page and report, translated
through gettext catalogs (Jinja2's i18n extension), not one copy per language.

Where they are read from, first found first:
1. the directory named by SCHEDULER_TEMPLATES_DIR, where a site may override any template (the
   same relative path: `email/reminder.j2`, `web/my.html.j2`…);
2. the templates shipped in the wheel (`scheduler/templates`, copied there by the build);
3. in a source checkout, `templates/` at the repository's root.

The catalogs are `locale/<lang>/LC_MESSAGES/<domain>.po` (domains: `email`, `digest`, `web`, `dashboard`, `report`), English
message ids, kk, ru and en (the `.cfg` beside them says which files each domain is drawn from). The build compiles them with Babel into `.mo` files inside the wheel; in a
source checkout the `.po` files are compiled by Babel in memory when first needed. Plural forms
are each language's own (Russian has three), from the catalog's header.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, Undefined

LANGUAGES = ("kk", "ru", "en")
DOMAINS = ("email", "digest", "web", "dashboard", "report")
PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent  # the repository's root, in a source checkout


def _first_dir(*candidates: Path) -> Path | None:
    return next((c for c in candidates if c.is_dir()), None)


def templates_dir() -> Path:
    """The shipped templates: in the wheel, or at the checkout's root."""
    found = _first_dir(PACKAGE / "templates", CHECKOUT / "templates")
    if found is None:
        raise FileNotFoundError("no templates directory: neither the package's nor the checkout's")
    return found


_site: list[str | None] = [None]  # SCHEDULER_TEMPLATES_DIR, set once the settings are read


def configure(override: str | Path | None) -> None:
    """The site's template directory (SCHEDULER_TEMPLATES_DIR), consulted before the shipped ones."""
    _site[0] = str(override) if override else None


def overridden() -> bool:
    """Whether a site template directory (SCHEDULER_TEMPLATES_DIR) is in use."""
    return _site[0] is not None


def site_dir() -> str | None:
    return _site[0]


def _shipped_uptodate() -> bool:
    return True


class SiteLoader(BaseLoader):
    """The site's directory first (when configured), then the shipped templates."""

    def get_source(self, environment, template):
        if _site[0]:
            try:  # a site's template is read again when its file changes
                return FileSystemLoader(_site[0]).get_source(environment, template)
            except TemplateNotFound:
                pass
        # The shipped ones do not change under a running process: no stat of the file at each use
        # (an email's includes were 1,100 stats a 2,000-email tick).
        source, filename, _ = FileSystemLoader(str(templates_dir())).get_source(environment, template)
        return source, filename, _shipped_uptodate


def locale_dir() -> Path | None:
    return _first_dir(PACKAGE / "locale", CHECKOUT / "locale")


def compile_po(po: Path, language: str) -> bytes:
    """A `.po` catalog compiled by Babel into `.mo` bytes (fuzzy entries left out, as msgfmt does)."""
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=po.stem)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    return compiled.getvalue()


@functools.cache
def translations(language: str, domain: str | None = None) -> NullTranslations:
    """Every domain's catalog for `language`, merged; the message ids themselves where none is.
    With `domain`, that domain's translations win where two domains translate the same id
    differently (an email's "Received" is not a page's)."""
    base = locale_dir()
    merged: Translations | None = None
    for domain in [d for d in DOMAINS if d != domain] + ([domain] if domain in DOMAINS else []):
        folder = base / language / "LC_MESSAGES" if base else None
        if folder is None:
            continue
        mo, po = folder / f"{domain}.mo", folder / f"{domain}.po"
        if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
            data = mo.read_bytes()
        elif po.is_file():
            data = compile_po(po, language)
        else:
            continue
        found = Translations(io.BytesIO(data), domain=domain)
        if merged is None:
            merged = found
        else:
            merged.merge(found)
    return merged if merged is not None else NullTranslations()


@functools.cache
def environment(language: str, *, strict: bool = False, domain: str | None = None) -> Environment:
    """The templates in `language`. HTML is escaped everywhere but in plain-text templates
    (`*.txt.j2`); `strict`: an undefined name is an error (emails), not an empty string; `domain`:
    whose translations win where domains differ (see `translations`)."""
    env = Environment(
        loader=SiteLoader(),
        autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
        undefined=StrictUndefined if strict else Undefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    said = translations(language, domain)
    env.install_gettext_translations(said, newstyle=True)

    def row_number(number: str) -> str:
        """A row's number as people read it ("8.1"); a paragraph of the resolution by its name
        ("п. 3.2 постановления"), never its code (`res-3.2`)."""
        if not number.startswith("res-"):
            return number
        from scheduler.notify.compose import row_name

        return row_name(number, said.gettext)

    def period(label: str) -> str:
        """An occurrence's period in words ("I квартал 2022 г."), never its label (`2022-Q1`)."""
        from scheduler.i18n import period_words

        return period_words(label, language, said.gettext)

    def row_title(number: str, title: str) -> str:
        """A row's number and title: "8.1. Title"; "П. 3.2 постановления: title" (its words go on)."""
        return f"{row_number(number)}: {title}" if number.startswith("res-") else f"{number}. {title}"

    env.globals.update(lang=language, row_number=row_number, row_title=row_title, period=period)
    return env
