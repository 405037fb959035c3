"""Who holds a claim: a claim's token names the process that made it (this machine and process
namespace, its pid and its start), so that a process started after a crash on the same machine
recognises the claims of a dead one and takes them at once, rather than after their lease. A
token from another machine, or one this machine cannot read (not Linux), is judged by its lease
alone."""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import socket
from pathlib import Path

PROC = Path("/proc")


def _start_of(pid: int) -> str | None:
    """The process's start (clock ticks after boot, /proc/<pid>/stat field 22); None when there is
    no such process."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


@functools.cache
def machine() -> str | None:
    """This machine and pid namespace, as 10 hex digits; None where /proc cannot tell."""
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat(PROC / "self/ns/pid").st_ino
    except OSError:
        return None
    return hashlib.sha256(f"{socket.gethostname()}|{boot}|{namespace}".encode()).hexdigest()[:10]


def token() -> str:
    """A new claim token: `<machine>.<pid>.<start>.<random>`, or the random part alone."""
    here, start = machine(), _start_of(os.getpid())
    random = secrets.token_hex(8)
    return f"{here}.{os.getpid()}.{start}.{random}" if here and start else secrets.token_hex(16)


def is_dead(claim_token: str) -> bool:
    """True when the token names a process of this machine that is no longer running (its pid gone,
    or taken by another process since); False when it runs or cannot be judged from here."""
    parts = claim_token.split(".")
    if len(parts) != 4 or machine() is None or parts[0] != machine() or not parts[1].isdigit():
        return False
    return _start_of(int(parts[1])) != parts[2]
