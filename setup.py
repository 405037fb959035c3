"""The build step that setuptools' declarative configuration cannot say: the wheel carries the
templates from the repository's `templates/` and the catalogs from `locale/`, compiled by Babel
into `.mo` files. Everything else is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithCatalogs(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads templates/ and locale/ from the checkout
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        package = Path(self.build_lib) / "scheduler"
        if (ROOT / "templates").is_dir():
            shutil.copytree(ROOT / "templates", package / "templates", dirs_exist_ok=True)
        for po in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
            language = po.parent.parent.name
            target = package / "locale" / language / "LC_MESSAGES" / f"{po.stem}.mo"
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source, locale=language, domain=po.stem)
            with target.open("wb") as compiled:
                write_mo(compiled, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogs})
