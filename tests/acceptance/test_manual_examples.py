"""Every console example in the manual (docs/**/*.md) and the README runs and prints what it shows,
unless it is marked as an illustration (`<!-- illustration: why -->` on the line before its block).

A block's `$ command` lines run in order, in a scratch directory holding the plan, the example
contacts (as `contacts.csv`) and whatever the page's earlier blocks made, with the shell (pipes,
redirections, continuation lines). The lines under a command are its expected output: each must
appear, in order, in what it printed (stdout and stderr); a line ending in `…` matches any line that
starts with the rest, a line of `…` alone any number of lines. A `# comment` after a command is not
run."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance

BLOCK = re.compile(r"(?:^(<!-- illustration[^\n]*-->)\n)?^```console\n(.*?)^```", re.M | re.S)
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])


def blocks(page: Path) -> list[tuple[int, str, bool]]:
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(2), bool(m.group(1))) for m in BLOCK.finditer(text)]


def commands(block: str) -> list[tuple[str, list[str]]]:
    """(command, expected lines) pairs; continuation lines joined."""
    found: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            found.append((command, []))
        elif found:
            found[-1][1].append(line)
        i += 1
    return found


def matches(expected: list[str], printed: list[str]) -> str | None:
    """None when `expected` appears in `printed` as the module says; else the first line not found."""
    at = 0
    expected = [line for line in expected if line.strip()]
    skipping = False
    for want in expected:
        if want.strip() == "…":
            skipping = True
            continue
        prefix = want[:-1].rstrip() if want.endswith("…") else None
        while at < len(printed):
            got = printed[at]
            at += 1
            if (prefix is not None and got.rstrip().startswith(prefix)) or got.rstrip() == want.rstrip():
                break
            if not skipping and got.strip():
                return want
        else:
            return want
        skipping = False
    return None


EXAMPLES = [(page, line, block) for page in PAGES for line, block, illustration in blocks(page) if not illustration]


def test_the_manual_has_examples_that_run():
    assert len(EXAMPLES) >= 5
    assert {p.relative_to(ROOT).as_posix() for p, _, _ in EXAMPLES} >= {"README.md", "docs/manual/command-line.md"}


@pytest.mark.parametrize("page", sorted({p for p, _, _ in EXAMPLES}), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_console_example_prints_what_it_shows(page, tmp_path):
    shutil.copy(ROOT / "obligations.toml", tmp_path / "obligations.toml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    bin_dir = Path(sys.executable).parent
    (tmp_path / ".venv").symlink_to(bin_dir.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "100"
    wrong = []
    for line, block, _ in [(ln, b, i) for p, ln, b in EXAMPLES if p == page for i in [False]]:
        for command, expected in commands(block):
            run = command.split(" # ")[0].rstrip() if " # " in command else command
            done = subprocess.run(["bash", "-c", run], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            printed = (done.stdout + done.stderr).splitlines()
            missing = matches(expected, printed)
            refused = done.returncode != 0 and not any(line.startswith("scheduler: error") for line in expected)
            if refused:
                wrong.append(f"{page.relative_to(ROOT)}:{line}: `{command}` exited {done.returncode}:\n"
                             + "\n".join(printed[-20:]))
            elif missing is not None:
                wrong.append(f"{page.relative_to(ROOT)}:{line}: `{command}` did not print {missing!r}; it printed:\n"
                             + "\n".join(printed[:40]))
    assert wrong == [], "\n\n".join(wrong)
