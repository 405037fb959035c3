"""Run `scheduler` commands as forks of one process that has already imported the libraries.

Each command the acceptance tests run is a process of its own, with its own arguments,
environment, working directory, standard streams and exit status, as from `subprocess.run`. What
it skips is the interpreter's start and the import of SQLAlchemy, SQLModel, pydantic, Jinja2 and
the rest (about 0.4 s of a core each time, some 600 times a run): a server process imports them
once and forks a child for every command, which then imports the scheduler and runs its console
entry point as the installed script would. Nothing of the scheduler's own is imported before the
fork, so whatever a command reads as it starts (settings, environment) it reads afresh.

`SCHEDULER_TEST_EXEC=1` runs every command by executing the installed script instead.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import locale
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Libraries the commands import as they start; never alembic (a current database must not load
# it, and a test checks that) nor anything of the scheduler's own.
PRELOAD = (
    "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql",
    "sqlmodel", "pydantic", "click", "jinja2", "babel.dates", "babel.support", "dateutil.rrule",
    "holidays", "psycopg", "email.message", "email.policy", "asyncio", "aiosmtplib",
    "starlette.applications", "uvicorn", "icalendar", "openpyxl", "docx", "hmac", "zoneinfo",
)


def _serve(path: str) -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    # What is imported so far is kept out of the collector's sight: the children's collections,
    # the last one at exit above all, then never touch (and so never copy) the server's pages.
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the handlers
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    waiting = selectors.DefaultSelector()
    waiting.register(listener, selectors.EVENT_READ)
    waiting.register(sys.stdin, selectors.EVENT_READ)  # the test process holds the other end
    while True:
        if any(key.fileobj is sys.stdin for key, _ in waiting.select()):
            os._exit(0)  # the test process ended (or asked): so does the server
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            waiting.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _handle(connection)
        connection.close()


def _handle(connection: socket.socket) -> None:
    """In a child of the server: start the command in a grandchild, report its pid and status."""
    data, fds, _, _ = socket.recv_fds(connection, 1 << 16, 3)
    chunks = [data]
    while chunk := connection.recv(1 << 16):
        chunks.append(chunk)
    request = json.loads(b"".join(chunks))
    pid = os.fork()
    if pid == 0:
        connection.close()
        _command(request, fds)
    for fd in fds:
        os.close(fd)
    connection.sendall(f"{pid}\n".encode())
    _, status = os.waitpid(pid, 0)
    connection.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
    os._exit(0)


def _command(request: dict, fds: list[int]) -> None:
    """In the grandchild: become the command, as the console script would start it."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.setpgid(0, 0)
    if request["umask"] is not None:
        os.umask(request["umask"])
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    sys.argv = list(request["argv"])
    sys.path[0] = str(Path(request["argv"][0]).parent)
    # From here on the process is the command: its exit (SystemExit or an uncaught exception)
    # unwinds through the server's frames and ends the interpreter as the script's would, with
    # atexit, the closing of what is still open (SQLite checkpoints its log) and flushed streams.
    from scheduler.cli import main

    sys.exit(main())


class ForkServer:
    """One server per test process, started on first use and stopped with the session."""

    def __init__(self) -> None:
        self._folder = tempfile.mkdtemp(prefix="scheduler-fork-")
        self.path = os.path.join(self._folder, "socket")
        self._process = subprocess.Popen(
            [sys.executable, "-c", f"from tests.forkserver import _serve; _serve({self.path!r})"],
            cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout.readline() == "ready\n", "the fork server did not start"

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait()
        try:
            os.unlink(self.path)
            os.rmdir(self._folder)
        except OSError:
            pass

    def run(self, argv: list[str], *, env: dict, cwd: Path, timeout: float,
            umask: int | None = None) -> subprocess.CompletedProcess:
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        stdin = os.open(os.devnull, os.O_RDONLY)
        request = json.dumps({"argv": argv, "env": env, "cwd": str(cwd), "umask": umask}).encode()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(self.path)
            socket.send_fds(connection, [request], [stdin, out_write, err_write])
            connection.shutdown(socket.SHUT_WR)
        finally:
            for fd in (stdin, out_write, err_write):
                os.close(fd)
        return self._collect(argv, connection, out_read, err_read, timeout)

    def _collect(self, argv, connection, out_read, err_read, timeout) -> subprocess.CompletedProcess:
        outputs = {out_read: bytearray(), err_read: bytearray()}
        report = bytearray()
        selector = selectors.DefaultSelector()
        for fd in outputs:
            selector.register(fd, selectors.EVENT_READ)
        selector.register(connection, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        open_ends = 3
        try:
            while open_ends:
                left = deadline - time.monotonic()
                if left <= 0:
                    lines = report.decode().split()
                    if lines:
                        _kill(int(lines[0]))
                    raise subprocess.TimeoutExpired(argv, timeout)
                for key, _ in selector.select(left):
                    if key.fileobj is connection:
                        chunk = connection.recv(4096)
                        report += chunk
                    else:
                        chunk = os.read(key.fd, 1 << 16)
                        outputs[key.fd] += chunk
                    if not chunk:
                        selector.unregister(key.fileobj)
                        open_ends -= 1
        finally:
            selector.close()
            connection.close()
            os.close(out_read)
            os.close(err_read)
        pid, status = report.decode().split()
        return subprocess.CompletedProcess(argv, int(status), _text(outputs[out_read]), _text(outputs[err_read]))


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _text(data: bytes) -> str:
    """As `subprocess.run(text=True)` reads a stream: the locale's encoding, universal newlines."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


_server: ForkServer | None = None


def run(argv: list[str], *, env: dict, cwd: Path, timeout: float = 60,
        umask: int | None = None) -> subprocess.CompletedProcess:
    """`subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)`
    for a command whose argv[0] is the installed `scheduler` script, started with `umask` if given."""
    global _server
    if os.environ.get("SCHEDULER_TEST_EXEC") == "1":
        return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)
    if _server is None:
        _server = ForkServer()
        atexit.register(_server.close)
    return _server.run(argv, env=env, cwd=cwd, timeout=timeout, umask=umask)
