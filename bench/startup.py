"""Start-up time of the command line: `scheduler --help` and `scheduler validate` on the shipped plan,
each beside a bare interpreter started the same way (`python -c "import click"` for --help, which
needs click and nothing else; `python -c "pass"` for validate).

Every command is run as a fresh process, the project's and the baseline's interleaved so that the
machine's speed changes touch both alike; the figure is the median of the runs, in milliseconds.
Targets (the performance issue): --help at most 150 ms, validate at most 300 ms.

Run: `make bench` or `.venv/bin/python bench/startup.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table  # noqa: E402

HELP_TARGET_MS = 150
VALIDATE_TARGET_MS = 300


def _scheduler() -> list[str]:
    """The installed console script beside this interpreter, as a user runs it (else -m)."""
    script = Path(sys.executable).with_name("scheduler")
    return [str(script)] if script.exists() else [sys.executable, "-m", "scheduler"]


def _run_ms(command: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}  # the shipped defaults
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
    elapsed = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.decode(errors='replace')}")
    return elapsed


def medians(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    for command in commands.values():  # once first: the file cache warm for all alike
        _run_ms(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_run_ms(command))
    return {name: statistics.median(values) for name, values in times.items()}


def measure(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    scheduler = _scheduler()
    figures = medians(
        {
            "pass": [sys.executable, "-c", "pass"],
            "click": [sys.executable, "-c", "import click"],
            "help": [*scheduler, "--help"],
            "validate": [*scheduler, "validate", "--plan", str(ROOT / "obligations.toml")],
        },
        args.runs,
    )
    help_ms, validate_ms = figures["help"], figures["validate"]
    return [
        Row("startup: `scheduler --help`, ms (baseline: python -c 'import click')", f"{help_ms:.0f}",
            f"{figures['click']:.0f}", f"{help_ms / figures['click']:.2f}x", f"<= {HELP_TARGET_MS} ms",
            help_ms <= HELP_TARGET_MS),
        Row("startup: `scheduler validate`, shipped plan, ms (baseline: python -c 'pass')", f"{validate_ms:.0f}",
            f"{figures['pass']:.0f}", f"{validate_ms / figures['pass']:.1f}x", f"<= {VALIDATE_TARGET_MS} ms",
            validate_ms <= VALIDATE_TARGET_MS),
    ]


def main() -> None:
    print_table("start-up benchmark (median of fresh processes, interleaved)", measure())


if __name__ == "__main__":
    main()
