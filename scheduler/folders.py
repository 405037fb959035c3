"""Folders the program writes into: it never makes one the user named that does not exist.

A typo in a setting (SCHEDULER_MAIL_DIR=/srv/mial/out) would otherwise scatter files over the
disk. What may be made: the defaults' own `var/` (and what is inside it), and a Maildir itself —
like a file, inside an existing folder — with the `tmp/`, `new/`, `cur/` its format needs. Anything
else missing is refused with exit 2, naming the folder that is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from scheduler.errors import BadInput

DEFAULT_DIRECTORY = Path("var")


def under_default(folder: Path) -> bool:
    """`var/` of the current directory, or a folder inside it, however the path writes it."""
    default = os.path.abspath(DEFAULT_DIRECTORY)
    path = os.path.abspath(folder)
    return path == default or path.startswith(default + os.sep)


def missing_part(folder: Path) -> Path:
    """The first folder of `folder`'s path that does not exist."""
    missing = Path(folder)
    while not missing.parent.is_dir() and missing.parent != missing:
        missing = missing.parent
    return missing


def require_folder(folder: Path, setting: str, what: str) -> None:
    """BadInput (exit 2) unless `folder` is an existing folder, or one under the default `var/`."""
    folder = Path(folder)
    if folder.is_dir() or (under_default(folder) and not folder.exists()):
        return
    if folder.exists():
        raise BadInput(f"{setting}: {folder} is not a directory: {what} goes in an existing directory")
    raise BadInput(f"{setting}: the directory {folder} does not exist ({missing_part(folder)} is missing): create it "
                   f"first (mkdir -p {folder}) or name {what} in an existing directory; the scheduler never creates "
                   "a directory it was given")
