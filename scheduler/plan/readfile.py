"""Reading a plan or a contacts file from disk: only a regular UTF-8 text file of a sensible size,
with a message naming the file (and line) for anything else; and which files a `--plan` names."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from scheduler.errors import PlanError, Problem

MAX_BYTES = 4 << 20  # a plan or a contacts file of more than 4 MiB is not one a person keeps


def read_text(path: Path, problem_type=PlanError, hint: str = "") -> str:
    """The file's text, or `problem_type` naming the file (and line) and why it cannot be used.

    Only a regular file of at most MAX_BYTES is read: a device (/dev/zero), a FIFO or a huge file
    gets a message, never a hang. `hint` is added to the messages about the encoding.
    """
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise problem_type([Problem(path, "not a regular file (a device, a pipe or a socket)")])
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise problem_type([Problem(path, "no such file")]) from None
    except IsADirectoryError:
        raise problem_type([Problem(path, "is a directory, not a file")]) from None
    except OSError as error:
        raise problem_type([Problem(path, f"cannot be read: {error.strerror}")]) from None
    if len(data) > MAX_BYTES:
        raise problem_type([Problem(path, f"larger than {MAX_BYTES >> 20} MiB: not a file this program reads")])
    if not data.strip():
        raise problem_type([Problem(path, "the file is empty")])
    if b"\x00" in data:
        message = "this is a binary file, not UTF-8 text" + hint
        raise problem_type([Problem(path, message, line=data[: data.index(b"\x00")].count(b"\n") + 1)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{data[error.start]:02x})" + hint
        raise problem_type([Problem(path, message, line=line)]) from None
    return text.removeprefix("\ufeff")


def _open_nonblocking(path, flags: int) -> int:
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting; the file type
    # is then checked on the descriptor, so nothing is read from anything but a regular file.
    descriptor = os.open(path, flags | os.O_NONBLOCK)
    os.set_blocking(descriptor, True)
    return descriptor


def plan_files(paths) -> list[Path]:
    """The plan files that `paths` names: a file, or every `*.toml` of a directory (in name order);
    `paths` may be one path or several (`--plan` given more than once). A file named twice counts once."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: dict[Path, Path] = {}
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.toml") if p.is_file())
            if not inside:
                raise PlanError([Problem(path, "is a directory with no *.toml plan in it")])
        else:
            inside = [path]
        for file in inside:
            found.setdefault(file.resolve(), file)
    return list(found.values())
