"""Where each table and key of a TOML file stands, so that messages can name a line.

`tomllib` returns plain values without positions; this reads the text once more, line by line, and
records the line of every table header (`[agency.labour]`, the n-th `[[obligation]]`) and every
`key =` under it, as paths like those pydantic reports: ("obligation", 3, "due").
"""

from __future__ import annotations

import re

_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART.findall(dotted))


class SourceMap:
    def __init__(self, text: str):
        self.lines: dict[tuple, int] = {}
        arrays: dict[tuple[str, ...], int] = {}
        current: tuple = ()
        in_multiline: str | None = None

        def concrete(names: tuple[str, ...]) -> tuple:
            path: list = []
            for k in range(len(names)):
                path.append(names[k])
                if names[: k + 1] in arrays:
                    path.append(arrays[names[: k + 1]])
            return tuple(path)

        for number, raw in enumerate(text.splitlines(), 1):
            if in_multiline:
                if raw.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            stripped = raw.strip()
            if stripped.startswith("[["):
                names = _parts(stripped[2 : stripped.find("]]")])
                for nested in [a for a in arrays if a[: len(names)] == names and len(a) > len(names)]:
                    del arrays[nested]
                arrays[names] = arrays.get(names, -1) + 1
                current = concrete(names)
                self.lines.setdefault(current, number)
            elif stripped.startswith("["):
                current = concrete(_parts(stripped[1 : stripped.find("]")]))
                self.lines.setdefault(current, number)
            else:
                match = _KEY.match(raw)
                if match:
                    self.lines.setdefault(current + _parts(match.group(1)), number)
            for quote in ('"""', "'''"):
                if raw.count(quote) % 2 == 1:
                    in_multiline = quote
                    break

    def line_of(self, path: tuple) -> int | None:
        """The line of the longest prefix of `path` that the file spells out."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None
