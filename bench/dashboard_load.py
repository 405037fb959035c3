"""The dashboard under load beside the health check: a plan of 100,000 deadlines, 50 clients loading
the dashboard at once over loopback, `/healthz` and `/metrics` timed beside them; and the focal
point's page `/my` of the secretariat (every body's deadlines) on that plan, its size and time.

The store: bench/expand.py's synthetic national plan (annual and quarterly rows, each owed by 20 of
200 bodies, 2021–2030), sized to about 100,000 occurrences, synced as `scheduler sync` does; of the
deadlines before "today" (16 June 2025) most are answered (on time or late, some accepted, a few
closed or returned), the others overdue, each answer with its submission and event as the web
form writes them. The server is the daemon's own HTTP app (`Daemon.serve_http`: uvicorn on
127.0.0.1, with the daemon's settings) in a process of its own, with the admin credential set; the
clients (one asyncio loop, a fresh connection per request, taking gzip as browsers do) live in this
process.

Figures: the dashboard's p50 and p95 under 50 concurrent clients (each loads `/` a fixed number of
times, starting right after an answer changed the data, so that the first fifty wait for one fresh
computation); the longest `/healthz` and `/metrics` while they do (each probed every 0.2 s); `/my`'s
size and time, alone. Baseline: the same requests with nothing else running (the dashboard with its
page kept, and with its data just changed). Targets: dashboard p95 ≤ 300 ms, `/healthz` ≤ 1 s,
`/metrics` ≤ 2 s under that load. And uploads, on the focal point's form: the server's memory
growth (VmHWM) while it takes one answer with ten 20 MB PDFs, and `/healthz` while three answers at
once each bring ten ZIPs of 218,000 parts (refused). Bounded: every request has a 60 s timeout and
the load ends after its count.

Run: `make bench` or `.venv/bin/python bench/dashboard_load.py [--obligations N] [--clients N]
[--requests N] [--backend sqlite|postgresql]`. PostgreSQL when SCHEDULER_TEST_DATABASE_URL names a
server (a scratch database is made and dropped), SQLite otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, print_table  # noqa: E402

NOW = dt.datetime(2025, 6, 16, 4, 0, tzinfo=dt.timezone.utc)  # 10:00 in Almaty, a Monday
CREDENTIAL = ("admin", "bench-password")
DEFAULT_OBLIGATIONS = 180  # x 20 bodies over ten years: about 100,000 occurrences
DASHBOARD_P95_MS, HEALTHZ_S, METRICS_S = 300, 1.0, 2.0
TIMEOUT = 60.0
FOCAL, FOCAL_AGENCY = "focal@example.kz", "body-001"
UPLOAD_FILES, UPLOAD_MB = 10, 20  # the web form's most documents, of the default largest size
ZIP_ENTRIES, ZIP_REQUESTS = 218_000, 3


def _plan(obligations: int, scratch: Path):
    from bench.expand import synthetic_plan
    from scheduler.plan.model import Plan

    plan = synthetic_plan(obligations, 20)
    source = scratch / "national.txt"
    source.write_text(f"synthetic national plan: {obligations} obligations x 20 bodies\n")
    return Plan.build(plan.file, source)


def build_store(url: str, obligations: int, scratch: Path) -> int:
    """The synced store with its answers; returns how many occurrences it holds."""
    from sqlalchemy import bindparam, insert, select, text, update

    from scheduler.store.db import connect, migrate
    from scheduler.store.sync import sync
    from scheduler.store.tables import ContactRow, EventRow, OccurrenceRow, SubmissionRow

    plan = _plan(obligations, scratch)
    engine = connect(url)
    migrate(engine)
    sync(engine, plan, None, NOW)
    rng = random.Random(94)
    today = dt.date(2025, 6, 16)
    o = OccurrenceRow.__table__
    with engine.begin() as connection:
        rows = connection.execute(select(o.c.id, o.c.due).where(o.c.due < today).order_by(o.c.id)).all()
        count = connection.execute(select(text("count(*)")).select_from(o)).scalar()
        answers, events, states = [], [], []
        for oid, due in rows:
            luck = rng.random()
            if luck < 0.25:
                continue  # overdue, never answered
            state = "closed" if luck < 0.28 else "returned" if luck < 0.31 else "accepted" if luck < 0.6 else "submitted"
            late = rng.choice((-5, -2, -1, 0, 0, 0, 1, 3, 12))
            at = dt.datetime.combine(due + dt.timedelta(days=late), dt.time(5, 0), dt.timezone.utc)
            answers.append({"occurrence_id": oid, "submitted_at": at, "recorded_at": at, "ref": f"{rng.randrange(99)}-{rng.randrange(999)}",
                            "ref_date": at.date(), "text": "ақпарат", "by": "focal@example.kz"})
            states.append((oid, state))
            events.append({"occurrence_id": oid, "at": at, "actor": "focal@example.kz", "action": "submit",
                           "from_state": "open", "to_state": "submitted", "details": json.dumps({"ref": "1"}),
                           "client": None})
        for first in range(0, len(answers), 5000):
            connection.execute(insert(SubmissionRow.__table__), answers[first:first + 5000])
            connection.execute(insert(EventRow.__table__), events[first:first + 5000])
        s = SubmissionRow.__table__
        ids = dict(connection.execute(select(s.c.occurrence_id, s.c.id)).all())
        statement = update(o).where(o.c.id == bindparam("_id")).values(state=bindparam("_state"),
                                                                     submission_id=bindparam("_submission"))
        changes = [{"_id": oid, "_state": state, "_submission": ids[oid]} for oid, state in states]
        for first in range(0, len(changes), 5000):
            connection.execute(statement, changes[first:first + 5000])
        connection.execute(insert(ContactRow.__table__).values(agency=FOCAL_AGENCY, name="Focal", email=FOCAL,
                                                               role="focal", language="en"))
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return count


def serve(url: str, obligations: int, port: int) -> None:
    """The server process: the daemon's HTTP app on the store, until stdin closes or SIGTERM."""
    from scheduler.daemon import Daemon
    from scheduler.app.context import Context
    from scheduler.settings import Settings
    from scheduler.store.db import connect
    from scheduler.transport import MaildirTransport

    with tempfile.TemporaryDirectory() as scratch:
        plan = _plan(obligations, Path(scratch))
        settings = Settings(database_url=url, secret_key_file=str(Path(scratch) / "secret.key"),
                            http_host="127.0.0.1", http_port=port)
        service = Context(settings, plan, connect(url), MaildirTransport(str(Path(scratch) / "mail")))
        daemon = Daemon(service, lambda: service, lambda: NOW)
        server, thread = daemon.serve_http("127.0.0.1", port, CREDENTIAL)
        print("ready", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.stdin.close())
        try:
            sys.stdin.read()
        except (ValueError, OSError):
            pass
        server.should_exit = True
        thread.join(timeout=10)


async def fetch(port: int, path: str, auth: bool = True, *, cookie: str | None = None, body: bytes | None = None,
                content_type: str = "", keep: list | None = None) -> tuple[int, int, float]:
    """(status, body bytes, seconds) of one GET (or POST of `body`) on a fresh connection; `keep`
    receives the answer's body."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        method = "GET" if body is None else "POST"
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept-Language: en\r\n"
                "Accept-Encoding: gzip, deflate, br\r\n")  # as a browser asks
        if cookie:
            head += f"Cookie: scheduler_session={cookie}\r\n"
        elif auth:
            head += "Authorization: Basic " + base64.b64encode(":".join(CREDENTIAL).encode()).decode() + "\r\n"
        if body is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        writer.write((head + "\r\n").encode())
        if body is not None:
            view = memoryview(body)
            for first in range(0, len(body), 1 << 20):
                writer.write(view[first:first + (1 << 20)])
                await writer.drain()
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    start = data.find(b"\r\n\r\n") + 4
    if keep is not None:
        keep.append(data[start:])
    return status, len(data) - start, time.perf_counter() - started


async def timed(port: int, path: str, **given) -> tuple[int, int, float]:
    try:
        return await asyncio.wait_for(fetch(port, path, **given), TIMEOUT)
    except (TimeoutError, OSError):
        return 0, 0, TIMEOUT


async def load(port: int, clients: int, requests: int, paths: list[str]) -> dict:
    """`clients` tasks each loading the dashboard `requests` times; /healthz and /metrics probed beside."""
    done = asyncio.Event()
    dashboard: list[float] = []
    failures: list[int] = []
    probes: dict[str, list[float]] = {"/healthz": [], "/metrics": []}

    async def client(n: int) -> None:
        for i in range(requests):
            status, _, seconds = await timed(port, paths[(n + i) % len(paths)])
            dashboard.append(seconds)
            if status != 200:
                failures.append(status)

    async def probe(path: str) -> None:
        while not done.is_set():
            status, _, seconds = await timed(port, path)
            probes[path].append(seconds if status == 200 else TIMEOUT)
            await asyncio.sleep(0.2)

    watchers = [asyncio.create_task(probe(p)) for p in probes]
    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    done.set()
    await asyncio.gather(*watchers)
    ordered = sorted(dashboard)
    return {"p50": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))], "max": ordered[-1],
            "count": len(ordered), "failures": failures, "seconds": elapsed,
            "healthz": max(probes["/healthz"]), "metrics": max(probes["/metrics"]),
            "probes": (len(probes["/healthz"]), len(probes["/metrics"]))}


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields]
    for filename, content in files:
        parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
                  f"Content-Type: application/octet-stream\r\n\r\n".encode(), content, b"\r\n"]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def many_entries(count: int) -> bytes:
    """A ZIP named .docx holding `count` empty parts (and none of a DOCX's): what an upload check
    must refuse without reading them all."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for n in range(count):
            archive.writestr(f"p/{n:06x}", b"")
    return buffer.getvalue()


def memory_mib(pid: int) -> dict[str, float]:
    """The process's resident memory now and its high-water mark, MiB."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found


async def uploads(port: int, url: str, pid: int) -> dict:
    """The server's memory while it takes one answer with UPLOAD_FILES documents of UPLOAD_MB each;
    then /healthz while ZIP_REQUESTS answers at once each bring UPLOAD_FILES ZIPs of ZIP_ENTRIES parts."""
    import re

    from scheduler.app import sessions
    from scheduler.clocks import clock as wall_clock
    from scheduler.store.db import connect

    engine = connect(url)
    # Sessions expire by the wall clock (the plan's clock is NOW): opened now, as a sign-in would.
    cookie = sessions.open_session(engine, FOCAL, wall_clock(), dt.timedelta(hours=8), None)
    engine.dispose()
    page: list[bytes] = []
    await timed(port, "/my", cookie=cookie, keep=page)
    text = page[0].decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', text.split('id="answer-form"')[1]).group(1)
    owed = re.findall(r'name="occurrence" value="([^"]+)"', text)
    size = (UPLOAD_MB << 20) - 4096
    pdf = b"%PDF-1.4\n" + b"0" * (size - 9)
    body, kind = multipart([("csrf", csrf), ("occurrence", owed[0]), ("ref", "1-2/3")],
                           [(f"document-{n}.pdf", pdf) for n in range(UPLOAD_FILES)])
    before = memory_mib(pid)
    status, _, seconds = await timed(port, "/my/answer", cookie=cookie, body=body, content_type=kind)
    after = memory_mib(pid)
    del body, pdf
    zipped = many_entries(ZIP_ENTRIES)
    body, kind = multipart([("csrf", csrf), ("occurrence", owed[1]), ("ref", "1-2/4")],
                           [(f"document-{n}.docx", zipped) for n in range(UPLOAD_FILES)])
    done = asyncio.Event()
    probes: list[float] = []

    async def probe() -> None:
        while not done.is_set():
            answer, _, took = await timed(port, "/healthz")
            probes.append(took if answer == 200 else TIMEOUT)
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(probe())
    refusals: list[bytes] = []
    results = await asyncio.gather(*(timed(port, "/my/answer", cookie=cookie, body=body, content_type=kind, keep=refusals)
                                     for _ in range(ZIP_REQUESTS)))
    done.set()
    await watcher
    said = re.search(rb'id="problem"[^>]*>.*?<br>(.*?)</div>', refusals[0], re.S) if refusals else None
    return {"status": status, "seconds": seconds, "grew": after["VmHWM"] - before["VmRSS"],
            "zip_status": sorted({r[0] for r in results}), "zip_seconds": max(r[2] for r in results),
            "zip_healthz": max(probes, default=0.0), "zip_said": said.group(1).decode()[:160] if said else "",
            "zip_mib": len(zipped) / 2**20}


def touch(url: str) -> None:
    """A new answer: the dashboard's cached figures are stale, the next request computes afresh."""
    from sqlalchemy import insert

    from scheduler.store.db import connect
    from scheduler.store.tables import EventRow

    engine = connect(url)
    with engine.begin() as connection:
        connection.execute(insert(EventRow.__table__).values(
            occurrence_id=connection.exec_driver_sql("SELECT min(id) FROM occurrence").scalar(), at=NOW,
            actor="bench", action="note", from_state="open", to_state="open", details="{}"))
    engine.dispose()


def measure_backend(url: str, obligations: int, clients: int, requests: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        count = build_store(url, obligations, Path(scratch))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEDULER_")}
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--url", url, "--obligations", str(obligations),
                               "--port", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            raise SystemExit("bench/dashboard_load.py: the server did not start")

        async def run() -> dict:
            figures = {"upload": await uploads(port, url, server.pid)}
            await timed(port, "/")  # the first request: templates compiled, catalogs read
            touch(url)
            figures["cold"] = (await timed(port, "/"))[2]
            figures["warm"] = statistics.median([(await timed(port, "/"))[2] for _ in range(5)])
            figures["healthz_idle"] = max([(await timed(port, "/healthz"))[2] for _ in range(5)])
            figures["metrics_idle"] = max([(await timed(port, "/metrics"))[2] for _ in range(5)])
            status, size, seconds = await timed(port, "/my")
            figures["my"] = {"status": status, "bytes": size, "seconds": seconds}
            touch(url)
            figures["load"] = await load(port, clients, requests, ["/"])
            return figures

        figures = asyncio.run(run())
        figures["occurrences"] = count
        return figures
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _postgresql_database(admin_url: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"scheduler_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def measure(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--obligations", type=int, default=DEFAULT_OBLIGATIONS)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=10, help="dashboard loads per client")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"))
    args = parser.parse_args(argv)
    admin_url = os.environ.get("SCHEDULER_TEST_DATABASE_URL")
    backend = args.backend or ("postgresql" if admin_url else "sqlite")
    if backend == "postgresql":
        if not admin_url:
            raise SystemExit("bench/dashboard_load.py: --backend postgresql needs SCHEDULER_TEST_DATABASE_URL")
        url, drop = _postgresql_database(admin_url)
        try:
            f = measure_backend(url, args.obligations, args.clients, args.requests)
        finally:
            drop()
        name = "PostgreSQL"
    else:
        with tempfile.TemporaryDirectory() as scratch:
            f = measure_backend(f"sqlite:///{scratch}/dashboard.db", args.obligations, args.clients, args.requests)
        name = "SQLite"
    load_figures, my = f["load"], f["my"]
    where = f"{f['occurrences']:,} deadlines, {name}"
    if load_figures["failures"]:
        print(f"dashboard_load: {len(load_figures['failures'])} requests failed: {sorted(set(load_figures['failures']))}",
              file=sys.stderr)
    p95, healthz, metrics_s = load_figures["p95"] * 1000, load_figures["healthz"], load_figures["metrics"]
    up = f["upload"]
    print(f"dashboard_load: the ZIPs of {ZIP_ENTRIES:,} parts: {up['zip_status']}, {up['zip_said']!r}", file=sys.stderr)
    return [
        Row(f"dashboard: {args.clients} clients x {args.requests}, {where}, p95 ms (baseline: one client alone, "
            "fresh data)", f"{p95:.0f}", f"{f['cold'] * 1000:.0f}", f"{p95 / (f['cold'] * 1000):.1f}x",
            f"<= {DASHBOARD_P95_MS} ms", p95 <= DASHBOARD_P95_MS and not load_figures["failures"]),
        Row(f"dashboard: {args.clients} clients, p50 ms (baseline: one client alone, page kept)",
            f"{load_figures['p50'] * 1000:.0f}", f"{f['warm'] * 1000:.0f}"),
        Row(f"dashboard: {args.clients} clients, pages per second", f"{load_figures['count'] / load_figures['seconds']:.0f}"),
        Row(f"healthz under load, max s (baseline: idle; {load_figures['probes'][0]} probes)", f"{healthz:.2f}",
            f"{f['healthz_idle']:.3f}", "", f"<= {HEALTHZ_S:g} s", healthz <= HEALTHZ_S),
        Row(f"metrics under load, max s (baseline: idle; {load_figures['probes'][1]} probes)", f"{metrics_s:.2f}",
            f"{f['metrics_idle']:.3f}", "", f"<= {METRICS_S:g} s", metrics_s <= METRICS_S),
        Row(f"/my of the secretariat, {where}, KiB (status {my['status']})", f"{my['bytes'] / 1024:,.0f}"),
        Row("/my of the secretariat, ms", f"{my['seconds'] * 1000:.0f}"),
        Row(f"upload: one answer with {UPLOAD_FILES} x {UPLOAD_MB} MB documents, server memory growth, MiB "
            f"(status {up['status']}, {up['seconds']:.1f} s)", f"{up['grew']:.0f}",
            f"{UPLOAD_FILES * UPLOAD_MB}", "", "< the documents' size", up["grew"] < UPLOAD_FILES * UPLOAD_MB),
        Row(f"upload: {ZIP_REQUESTS} answers at once, {UPLOAD_FILES} ZIPs of {ZIP_ENTRIES:,} parts each "
            f"({up['zip_mib']:.0f} MB), slowest answer, s", f"{up['zip_seconds']:.2f}"),
        Row("healthz meanwhile, max s", f"{up['zip_healthz']:.2f}", "", "", f"<= {HEALTHZ_S:g} s",
            up["zip_healthz"] <= HEALTHZ_S),
    ]


def main() -> None:
    if "--serve" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--serve", action="store_true")
        parser.add_argument("--url", required=True)
        parser.add_argument("--obligations", type=int, required=True)
        parser.add_argument("--port", type=int, required=True)
        args = parser.parse_args()
        serve(args.url, args.obligations, args.port)
        return
    print_table("dashboard under load (the daemon's HTTP app on loopback)", measure(sys.argv[1:]))


if __name__ == "__main__":
    main()
