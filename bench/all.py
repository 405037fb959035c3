"""Every benchmark, one table: figure, project, baseline, ratio, target, and whether it is met.

Run: `make bench` (PostgreSQL figures when SCHEDULER_TEST_DATABASE_URL names a server)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dashboard_load, deliver, expand, feed, startup, sync, tick, xlsx  # noqa: E402
from bench.common import print_table  # noqa: E402


def main() -> None:
    rows = []
    for module in (startup, expand, deliver, tick, sync, feed, xlsx, dashboard_load):
        print(f"running bench/{Path(module.__file__).name} …", file=sys.stderr, flush=True)
        rows += module.measure([])
    print_table("all benchmarks", rows)


if __name__ == "__main__":
    main()
