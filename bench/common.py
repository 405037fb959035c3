"""What every benchmark returns and how the figures are printed side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    figure: str
    project: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None  # None: a figure with no target


def print_table(title: str, rows: Sequence[Row]) -> None:
    headers = ("figure", "project", "baseline", "ratio", "target", "met")
    cells = [(r.figure, r.project, r.baseline, r.ratio, r.target, "" if r.met is None else ("yes" if r.met else "NO"))
             for r in rows]
    widths = [max(len(c[i]) for c in (*cells, headers)) for i in range(len(headers))]
    print(title)
    for line in (headers, *cells):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
    targets = [r.met for r in rows if r.met is not None]
    print(f"targets met: {sum(targets)} of {len(targets)}")
