"""Feed rendering: a 10,000-event feed, cold, beside bare icalendar serialisation of the same events;
and the warm path — the cached rendering, and a 304 answer over HTTP.

The database (SQLite) holds 10,000 occurrences of one agency, built from the shipped plan's
obligations. "Cold" is the whole `Service.feed`: token lookup, version query, reading the rows,
composing each event's text and serialising. The baseline builds the same VEVENTs (same property
values, without the project's VALARMs) with icalendar and serialises them, nothing else. Targets:
cold ≤ 1.0x the baseline, warm ≤ 5 ms.

Run: `make bench` or `.venv/bin/python bench/feed.py [--events N]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from icalendar import Calendar, Event
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from bench.common import Row, print_table  # noqa: E402
from scheduler.app.context import Context  # noqa: E402
from scheduler.feeds import serve  # noqa: E402
from scheduler.feeds import tokens  # noqa: E402
from scheduler.plan import load_plan  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from scheduler.store.db import connect, migrate  # noqa: E402
from scheduler.store.tables import OccurrenceRow  # noqa: E402
from scheduler.transport import MaildirTransport  # noqa: E402
from scheduler.web.app import create_app  # noqa: E402

NOW = dt.datetime(2022, 12, 1, 4, 0, tzinfo=dt.timezone.utc)


def fill(engine, plan, count: int) -> None:
    obligations = [o for o in plan.obligations if o.id[0].isdigit()]
    start = dt.date(2021, 3, 1)
    rows = []
    for n in range(count):
        obligation = obligations[n % len(obligations)]
        due = start + dt.timedelta(days=n % 3000)
        rows.append({
            "id": f"{obligation.id}:finance:s{n}", "obligation": obligation.id, "agency": "finance", "period": f"s{n}",
            "nominal_due": due, "due": due, "recipient": None, "title_kk": obligation.title_kk, "status": "active",
            "sequence": 0, "created_at": NOW, "updated_at": NOW, "next_step_at": None,
        })
    with engine.begin() as connection:
        connection.execute(insert(OccurrenceRow), rows)


def bare(events: list) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//bench//EN")
    calendar.add("version", "2.0")
    for props in events:
        event = Event()
        for name, value in props:
            event.add(name, value)
        calendar.add_component(event)
    return calendar.to_ical()


def event_properties(data: bytes) -> list:
    """The events' property values as the project wrote them, to rebuild them bare."""
    names = ("uid", "dtstamp", "last-modified", "dtstart", "dtend", "summary", "description", "sequence", "status", "transp")
    return [[(n, e.decoded(n)) for n in names] for e in Calendar.from_ical(data).walk("VEVENT")]


def timed(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def measure(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args(argv)
    plan = load_plan(ROOT / "obligations.toml")
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/feed.db"
        engine = connect(url)
        migrate(engine)
        fill(engine, plan, args.events)
        token = tokens.issue(engine, NOW, agency="finance")

        def cold():
            service = Context(Settings(database_url=url), plan, engine, MaildirTransport(scratch))
            return serve.feed(service, token, NOW)

        body = cold().body
        cold_seconds = timed(cold)
        props = event_properties(body)
        assert len(props) == args.events
        bare_seconds = timed(lambda: bare(props))

        service = Context(Settings(database_url=url), plan, engine, MaildirTransport(scratch))
        serve.feed(service, token, NOW)
        warm = [timed(lambda: serve.feed(service, token, NOW), repeat=1) for _ in range(50)]

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(lambda: service, lambda: NOW), host="127.0.0.1", port=port,
                                               log_level="warning", access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        feed_url = f"http://127.0.0.1:{port}/feeds/{token}.ics"
        with urllib.request.urlopen(feed_url) as response:
            etag = response.headers["ETag"]
        latencies = []
        for _ in range(100):
            request = urllib.request.Request(feed_url, headers={"If-None-Match": etag})
            started = time.perf_counter()
            try:
                urllib.request.urlopen(request)
            except urllib.error.HTTPError as answer:
                assert answer.code == 304
            latencies.append(time.perf_counter() - started)
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()

    warm_ms, http_ms = statistics.median(warm) * 1000, statistics.median(latencies) * 1000
    return [
        Row(f"feed: cold render of {args.events:,} events, s", f"{cold_seconds:.2f}", f"{bare_seconds:.2f}",
            f"{cold_seconds / bare_seconds:.2f}x", "<= 1.0x", cold_seconds <= bare_seconds),
        Row("feed: warm, cached rendering in process, ms (median)", f"{warm_ms:.1f}", "", "", "<= 5 ms", warm_ms <= 5),
        Row("feed: warm, 304 on If-None-Match over HTTP, ms (median)", f"{http_ms:.1f}", "", "", "<= 5 ms", http_ms <= 5),
        Row("feed: size, bytes", f"{len(body):,}"),
    ]


def main() -> None:
    print_table("feed benchmark (baseline: bare icalendar serialisation of the same events)", measure())


if __name__ == "__main__":
    main()
