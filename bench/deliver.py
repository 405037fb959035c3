"""Delivery rate: a whole tick's delivery beside bare aiosmtplib sending the same bytes.

aiosmtpd runs in its own process (a Sink that accepts everything). The figure with a target is the
whole path of a tick on SQLite and on PostgreSQL (SCHEDULER_TEST_DATABASE_URL): 2,000 focal points
of the plan's bodies (kk, ru, en), one pending reminder each; the tick claims the ledger rows,
composes every email (templates, personal link, feed link, .ics), sends them and marks them sent.
Its baseline is aiosmtplib alone sending the very bytes that tick sends (captured from an
identical tick beforehand) over as many reused connections, and nothing else. Target: the tick's
rate >= 0.8 of the baseline's. For context, the SMTP transport alone beside aiosmtplib's
`send_message` over 10,000 prepared messages.

Run: `make bench` or `.venv/bin/python bench/deliver.py [--messages N] [--tick-emails N] [--only-tick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table  # noqa: E402
from scheduler.app.context import Context  # noqa: E402
from scheduler.app.tick import TickReport  # noqa: E402
from scheduler.app.tick import deliver  # noqa: E402
from scheduler.notify import compose  # noqa: E402
from scheduler.notify.ladder import Planned  # noqa: E402
from scheduler.plan import load_plan  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from scheduler.store.db import connect, migrate, session  # noqa: E402
from scheduler.store.ledger import record  # noqa: E402
from scheduler.store.sync import sync  # noqa: E402
from scheduler.store.tables import NotificationRow, OccurrenceRow  # noqa: E402
from scheduler.transport import SmtpTransport  # noqa: E402
from scheduler.transport.smtp import CONCURRENCY  # noqa: E402

NOW = dt.datetime(2022, 11, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=6)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("aiosmtpd did not start")


def messages(count: int) -> list:
    letterhead = compose.Letterhead("scheduler@ministry.example.kz", "Жоспар", "http://127.0.0.1:8080")
    item = compose.Item("7:finance:2022", "7", "Қаржымині", "Талдау нәтижелері", "талдау", dt.date(2022, 12, 9), None)
    return [
        compose.reminder(compose.Recipient(f"focal{n}@example.kz", f"Focal {n}", "kk"), "reminder-14d", [item], letterhead, NOW)
        for n in range(count)
    ]


async def bare_loop(port: int, batch: list) -> None:
    queue = list(range(len(batch)))

    async def worker():
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        while queue:
            await client.send_message(batch[queue.pop()])
        await client.quit()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


class Capture:
    """A transport that keeps what a tick hands over, as the bytes that go on the wire."""

    name = "capture"

    def __init__(self):
        self.sent: list[tuple[str, list[str], bytes]] = []

    async def deliver(self, messages):
        from aiosmtplib.email import extract_recipients, extract_sender, flatten_message

        from scheduler.transport import Delivery

        for message in messages:
            if isinstance(message, EmailMessage):
                self.sent.append((str(extract_sender(message)), extract_recipients(message), flatten_message(message)))
            else:
                self.sent.append((message.sender, list(message.recipients), message.data))
        return [Delivery(m) for m in messages]


def tick_contacts(agencies: list[str], count: int):
    """`count` focal points spread over these bodies, in kk, ru and en by turns."""
    from scheduler.plan.contacts import Contact

    languages = ("kk", "ru", "en")
    return tuple(
        Contact(agencies[n % len(agencies)], (f"Фокал {n}" if languages[n % 3] != "en" else f"Focal {n}"),
                f"focal{n}@{agencies[n % len(agencies)]}.example.kz", "focal", languages[n % 3])
        for n in range(count)
    )


def prepare(url: str, plan, count: int) -> tuple[Engine, tuple]:
    """A synced store with `count` focal points of the bodies that have a deadline to come (not the
    plan's placeholders, to which nothing is mailed)."""
    engine = connect(url)
    migrate(engine)
    sync(engine, plan, (), NOW)
    with session(engine) as db:
        found = set(db.exec(select(OccurrenceRow.agency).where(OccurrenceRow.status == "active",
                                                               OccurrenceRow.due >= NOW.date()).distinct()).all())
    contacts = tick_contacts([code for code in plan.file.agencies if code in found and code not in plan.placeholders], count)
    sync(engine, plan, contacts, NOW)
    return engine, contacts


def plant(engine: Engine, contacts) -> None:
    """Pending reminders, one per contact, for its body's first active deadline after NOW."""
    with session(engine) as db:
        db.exec(delete(NotificationRow))
        first = {}
        for oid, agency, due in db.exec(select(OccurrenceRow.id, OccurrenceRow.agency, OccurrenceRow.due)
                                        .where(OccurrenceRow.status == "active", OccurrenceRow.due >= NOW.date())
                                        .order_by(OccurrenceRow.due, OccurrenceRow.id)):
            first.setdefault(agency, (oid, due))
        record(db, [
            Planned(first[c.agency][0], "reminder-14d", c.email, c.name, c.language, c.agency, first[c.agency][1], NOW, True)
            for c in contacts if c.agency in first
        ])


def whole_tick(url: str, port: int, count: int, runs: int = 5) -> tuple[float, float, int]:
    """A tick's delivery of `count` pending reminders (claim, compose, send, mark) beside bare
    aiosmtplib sending the bytes that tick sent, over as many reused connections; best of `runs`,
    alternating (the machine's speed varies from second to second). Returns (tick seconds, bare
    seconds, emails)."""
    plan = load_plan(ROOT / "obligations.toml")
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(database_url=url, mail_from="scheduler@ministry.example.kz",
                            secret_key_file=Path(scratch) / "secret.key", reply_to="secretariat@ministry.example.kz")
        engine, contacts = prepare(url, plan, count)
        try:
            plant(engine, contacts)
            capture = Capture()
            report = TickReport()
            deliver(Context(settings, plan, engine, capture), NOW, report)
            emails = len(capture.sent)
            assert report.emails_sent == emails and not report.errors, report
            tick = bare = float("inf")
            for _ in range(runs):
                started = time.perf_counter()
                asyncio.run(bare_bytes(port, capture.sent))
                bare = min(bare, time.perf_counter() - started)
                plant(engine, contacts)
                service = Context(settings, plan, engine, SmtpTransport("127.0.0.1", port, tls="none"))
                report = TickReport()
                started = time.perf_counter()
                deliver(service, NOW, report)
                tick = min(tick, time.perf_counter() - started)
                assert report.emails_sent == emails and not report.errors, report
        finally:
            engine.dispose()
    return tick, bare, emails


async def bare_bytes(port: int, sent: list) -> None:
    queue = list(reversed(sent))

    async def worker():
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        while queue:
            sender, recipients, data = queue.pop()
            await client.sendmail(sender, recipients, data)
        await client.quit()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


@contextlib.contextmanager
def postgres_database():
    """A fresh database on SCHEDULER_TEST_DATABASE_URL's server, dropped afterwards; None without one."""
    admin_url = os.environ.get("SCHEDULER_TEST_DATABASE_URL")
    if not admin_url:
        yield None
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"scheduler_bench_deliver_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="for the transport's figure")
    parser.add_argument("--tick-emails", type=int, default=2_000, help="for the whole tick's figures")
    parser.add_argument("--only-tick", action="store_true", help="the whole tick's figures alone")
    args = parser.parse_args(argv)
    port = free_port()
    server = start_server(port)
    rows = []
    try:
        if not args.only_tick:
            batch = messages(args.messages)
            transport = SmtpTransport("127.0.0.1", port, tls="none")
            # The first pass over a fresh server is slower whoever makes it: alternate, keep the best.
            project = bare = float("inf")
            for _ in range(2):
                started = time.perf_counter()
                results = asyncio.run(transport.deliver(batch))
                project = min(project, time.perf_counter() - started)
                assert all(r.error is None for r in results), [r.error for r in results if r.error][:3]
                started = time.perf_counter()
                asyncio.run(bare_loop(port, batch))
                bare = min(bare, time.perf_counter() - started)
            ratio = (args.messages / project) / (args.messages / bare)
            rows.append(Row(f"deliver: {args.messages:,} reminders, SMTP transport alone, messages/s",
                            f"{args.messages / project:,.0f}", f"{args.messages / bare:,.0f}", f"{ratio:.2f}"))
        with tempfile.TemporaryDirectory() as scratch, postgres_database() as pg_url:
            for label, url in (("SQLite", f"sqlite:///{scratch}/deliver.db"), ("PostgreSQL", pg_url)):
                if url is None:
                    continue
                tick, bare, emails = whole_tick(url, port, args.tick_emails)
                ratio = bare / tick
                rows.append(Row(f"deliver: whole tick (claim, compose, send, mark), {emails:,} emails, {label}, emails/s",
                                f"{emails / tick:,.0f}", f"{emails / bare:,.0f} (aiosmtplib, same bytes)",
                                f"{ratio:.2f}", ">= 0.8", ratio >= 0.8))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return rows


def main() -> None:
    print_table(f"delivery benchmark (baseline: bare aiosmtplib, {CONCURRENCY} connections, aiosmtpd Sink)", measure())


if __name__ == "__main__":
    main()
