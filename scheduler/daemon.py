"""`scheduler run`: APScheduler drives the ticks — one every minute, one at the digest's hour — and
never holds a job per reminder: what is due is always decided from the database.

SIGTERM and SIGINT stop it within systemd's stop timeout (TimeoutStopSec=30s in
deploy/scheduler.ctx): the HTTP server stops accepting and gives requests in flight a few
seconds, the delivery under way claims no further batch and finishes the one in hand, and whatever
still runs after STOP_DEADLINE is left behind. SIGHUP reloads the plan and contacts, validated
first: on any error the old plan keeps running, and /healthz and the metrics say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import os
import resource
import signal
import threading
import time
from collections.abc import Callable

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler import metrics
from scheduler.clocks import clock as wall_clock
from scheduler.errors import SchedulerError
from scheduler.app.context import Context
from scheduler.store.ledger import lapse_of_claims
from scheduler.app import standing
from scheduler.app.tick import tick

log = logging.getLogger("scheduler")

# Stopping, in seconds after SIGTERM; systemd kills the process at TimeoutStopSec=30s.
TICK_GRACE = 20.0  # for the tick under way: it claims no new batch, but one in hand is sent and marked
HTTP_GRACE = 5  # for HTTP requests in flight (uvicorn's timeout_graceful_shutdown); then they are cancelled
WEBHOOKS_EVERY = 5  # seconds between passes over the webhooks' outbox (a message waits at most this long)
STOP_DEADLINE = 25.0  # after this the process exits whatever still runs (a thread stuck in a network call)


def one_line(error: BaseException) -> str:
    """Log lines stay one line each, whatever the message."""
    return " | ".join(part.strip() for part in str(error).splitlines() if part.strip())


def _cancelled_in_one_line(record: logging.LogRecord) -> bool:
    """A request cancelled because the server stops is an event of the stop, not a crash: one line
    instead of uvicorn's traceback."""
    if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
        record.msg, record.args = "a request still in flight at the stop was cancelled", ()
        record.exc_info = record.exc_text = None
    return True


class _OutOfDescriptors(logging.Filter):
    """asyncio logs a traceback for every accept() that finds no free file descriptor (thousands a
    second when clients flood in): one line every ten seconds says it instead."""

    def __init__(self) -> None:
        super().__init__()
        self._last = -math.inf

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("socket.accept() out of system resource"):
            return True
        now = time.monotonic()
        if now - self._last < 10:
            return False
        self._last = now
        error = record.exc_info[1] if record.exc_info else None
        record.msg, record.args = "http: no file descriptor left for new connections (%s); accepting again shortly", (
            getattr(error, "strerror", None) or error,)
        record.exc_info = record.exc_text = None
        return True


def raise_open_files_limit() -> None:
    """The soft limit on open files up to the hard one, as systemd advises daemons to do (its
    default soft limit, 1024, is kept low for programs that use select()); this one uses epoll."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Daemon:
    def __init__(self, ctx: Context, reload: Callable[[], Context], clock: Callable[[], dt.datetime],
                 tick_every: dt.timedelta = dt.timedelta(minutes=1), replay: bool = False):
        """`tick_every`: the wall-clock interval between ticks; `replay`: `clock` runs through a past
        stretch at speed, so ticks are driven by the interval only (the digest's hour is reached by
        the replayed clock, not by the wall clock's Monday)."""
        self.ctx = ctx
        self._reload = reload
        self._clock = clock
        self._tick_every = tick_every
        self._replay = replay
        self._stop = threading.Event()
        self._reload_requested = threading.Event()
        self._lock = threading.Lock()
        self.reload_problem: str | None = None  # why the last reload was refused, for /healthz
        self._scheduler: BackgroundScheduler | None = None

    def measure(self, now: dt.datetime) -> None:
        """The overdue gauge, measured here once per tick rather than on every scrape of /metrics."""
        try:
            rows = standing.by_agency(self.ctx, now)
        except Exception as error:  # noqa: BLE001 - the gauge keeps its last value; the tick's own error is logged
            log.warning("overdue gauge not measured now=%s error=%s", now.isoformat(), one_line(error))
            return
        metrics.set_overdue({agency: late for agency, late, *_ in rows})

    def tick(self) -> None:
        now = self._clock()  # the one read of the clock for this pass
        with self._lock:
            try:
                tick(self.ctx, now)
            except SchedulerError as error:
                log.error("tick failed now=%s error=%s", now.isoformat(), one_line(error))
            except Exception:  # a bug must not kill the daemon; it is logged with its traceback
                log.exception("tick crashed now=%s", now.isoformat())
            self.measure(now)
            self._tick_when_claims_lapse()

    def send_webhooks(self) -> None:
        """The webhooks' own job, beside the tick (never under its lock, so neither waits for the
        other): send what the outbox holds (scheduler/app/hooks_deliver.py)."""
        from scheduler.app.hooks_deliver import deliver as send

        try:
            send(self.ctx.engine, self._clock(), self.ctx.lease_clock, self._stopping())
        except SchedulerError as error:
            log.error("webhooks not sent: %s", one_line(error))
        except Exception:  # a bug must not kill the daemon; it is logged with its traceback
            log.exception("webhook delivery crashed")

    def _tick_when_claims_lapse(self) -> None:
        """Claims still held after this tick are another process's, or a dead one's (killed mid-tick,
        before this one started): tick again as soon as they lapse, rather than at the next minute."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        try:
            lapse = lapse_of_claims(self.ctx.engine)
        except SchedulerError as error:
            log.warning("claims' leases not read: %s", one_line(error))
            return
        wall = self.ctx.lease_clock()
        if lapse is None or lapse <= wall:
            return
        at = lapse + dt.timedelta(seconds=1)
        log.info("notifications claimed by another process; ticking again when the claims lapse at %s", at.isoformat())
        with contextlib.suppress(Exception):  # the scheduler may be shutting down
            scheduler.add_job(self.tick, DateTrigger(run_date=at), id="lapsed", replace_existing=True,
                              max_instances=1, coalesce=True, misfire_grace_time=None)

    def reload(self) -> None:
        while not self._lock.acquire(timeout=0.5):  # a long tick holds it; SIGTERM must not wait for that
            if self._stop.is_set():
                return
        with self._lock_held():
            try:
                self.ctx = self._reload()
            except Exception as error:  # noqa: BLE001 - whatever the cause, the running plan stays
                if not isinstance(error, SchedulerError):
                    log.exception("reload crashed")
                # What /healthz and /metrics say is set before the log line that announces it.
                self.reload_problem = f"refused: {one_line(error)}"[:500]
                metrics.reload_failures.inc()
                metrics.last_reload_ok.set(0)
                log.error("reload refused, keeping the running plan: %s", one_line(error))
                return
            self.reload_problem = None
            metrics.last_reload_ok.set(1)
            log.info("reloaded plan=%s", self.ctx.plan.source)

    @contextlib.contextmanager
    def _lock_held(self):
        try:
            yield
        finally:
            self._lock.release()

    def _stopping(self) -> threading.Event:
        """The context's signal to its delivery loop: claim no further batch."""
        event = getattr(self.ctx, "stopping", None)
        if event is None:
            event = self.ctx.stopping = threading.Event()
        return event

    def serve_http(self, host: str, port: int, credential=None) -> tuple[uvicorn.Server, threading.Thread]:
        """uvicorn in a thread of this process; access logs off, since feed URLs carry tokens."""
        from scheduler.feeds.tokens import load_or_create_key
        from scheduler.web.app import create_app
        from scheduler.web.protocol import LOOP, guarded_h11

        # The form key derives from the deployment's key: the same in every instance. Personal links
        # need the key whether or not there is an admin credential.
        secret_key = load_or_create_key(self.ctx.settings.secret_key_file)
        # Sessions and sign-in links expire by the real time, also while the clock replays the past.
        app = create_app(lambda: self.ctx, self._clock, credential, secret_key=secret_key,
                         reload_problem=lambda: self.reload_problem, replay=self._replay,
                         wall=wall_clock)
        # Slow or stalled clients must not starve /healthz or the process's file descriptors:
        # - a request's head must arrive within 10 s, and the longest-waiting of too many such
        #   connections is dropped first (web/protocol.py; uvicorn alone waits forever for it);
        # - an idle keep-alive connection is closed after 5 s (uvicorn's default, stated here);
        # - h11 buffers at most 16 KiB of an incomplete head, so a slow head cannot grow memory;
        # - no limit_concurrency: past it uvicorn answers 503 to everyone, /healthz included,
        #   which is what a flood of stalled connections would then achieve;
        # - on stopping, requests in flight get HTTP_GRACE seconds, then are cancelled.
        # - asyncio's loop, with its retry after running out of descriptors kept off a closed socket
        #   (web/protocol.py's EventLoop).
        # The dashboard reads a form's body under its own deadline (web/dashboard.py).
        # X-Forwarded-For/-Proto are believed only from SCHEDULER_TRUSTED_PROXIES (uvicorn's proxy
        # headers middleware); none named, none believed, whatever uvicorn's FORWARDED_ALLOW_IPS says:
        # the login and sign-in throttles count the address a request really comes from.
        # log_config=None: uvicorn's warnings go through this process's handler, one line each.
        proxies = self.ctx.settings.proxies()
        if os.environ.get("FORWARDED_ALLOW_IPS"):  # as an older README advised
            log.warning("FORWARDED_ALLOW_IPS is not read: name the reverse proxies in SCHEDULER_TRUSTED_PROXIES")
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                                log_config=None, http=guarded_h11(), loop=LOOP, timeout_keep_alive=5,
                                h11_max_incomplete_event_size=16 * 1024, timeout_graceful_shutdown=HTTP_GRACE,
                                proxy_headers=bool(proxies), forwarded_allow_ips=proxies)
        logging.getLogger("uvicorn.error").addFilter(_cancelled_in_one_line)
        logging.getLogger("asyncio").addFilter(_OutOfDescriptors())
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="http", daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise SchedulerError(f"cannot serve HTTP on {host}:{port} (address in use, or not allowed)")
            time.sleep(0.05)
        log.info("serving http://%s:%s", host, port)
        return server, thread

    def run(self, http: tuple[str, int, tuple[str, str] | None] | None = None, *, owns_process: bool = False) -> None:
        """Until SIGTERM or SIGINT. `owns_process` (the `run` command): stopping may end the process
        when something overruns its deadline, rather than let systemd kill it mid-write."""
        policy = self.ctx.plan.policy
        zone = self.ctx.timing.zone
        scheduler = self._scheduler = BackgroundScheduler(timezone=zone)
        scheduler.add_job(self.tick, IntervalTrigger(seconds=self._tick_every.total_seconds(), timezone=zone),
                          id="tick", max_instances=1, coalesce=True, next_run_time=wall_clock().astimezone(zone))
        scheduler.add_job(self.send_webhooks, IntervalTrigger(seconds=WEBHOOKS_EVERY, timezone=zone), id="webhooks",
                          max_instances=1, coalesce=True, next_run_time=wall_clock().astimezone(zone))
        if not self._replay:
            scheduler.add_job(self.tick, CronTrigger(day_of_week=policy.digest_weekday[:3], hour=policy.send_time.hour,
                                                     minute=policy.send_time.minute, timezone=zone),
                              id="digest", max_instances=1, coalesce=True)
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        signal.signal(signal.SIGHUP, lambda *_: self._reload_requested.set())
        server = thread = None
        raise_open_files_limit()
        self.measure(self._clock())  # the overdue gauge is there from the first scrape
        if http is not None:
            server, thread = self.serve_http(*http)
        scheduler.start()
        log.info("started plan=%s database=%s transport=%s", self.ctx.plan.source,
                 self.ctx.engine.url.render_as_string(hide_password=True), self.ctx.transport.name)
        try:
            while not self._stop.is_set():
                if self._reload_requested.wait(timeout=0.5):
                    self._reload_requested.clear()
                    self.reload()
        finally:
            self._shut_down(scheduler, server, thread, owns_process)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("stopped")

    def _shut_down(self, scheduler: BackgroundScheduler, server: uvicorn.Server | None,
                   thread: threading.Thread | None, owns_process: bool) -> None:
        """Everything stops at once and is waited for within the deadlines above."""
        begun = time.monotonic()
        abandon = self._abandon if owns_process else lambda why: log.warning("stopping without waiting: %s", why)
        if owns_process:
            # The last resort: leaving Python waits for every thread, and one stuck in a network
            # call would wait until systemd's SIGKILL. This timer ends the process before that.
            watchdog = threading.Timer(STOP_DEADLINE, abandon, args=(f"still stopping {STOP_DEADLINE:.0f} s after the signal",))
            watchdog.daemon = True
            watchdog.start()
        self._stopping().set()
        if server is not None:
            server.should_exit = True  # stops accepting; connections without a request in flight close now
        scheduler.shutdown(wait=False)  # no new tick; the one under way is waited for below, within bounds
        if self._lock.acquire(timeout=TICK_GRACE):
            self._lock.release()
        else:
            abandon(f"the tick under way did not finish within {TICK_GRACE:.0f} s; "
                    "the notifications it had claimed wait for their lease to run out")
        if thread is not None:
            thread.join(timeout=max(0.0, STOP_DEADLINE - 1 - (time.monotonic() - begun)))
            if thread.is_alive():
                log.warning("the HTTP server had not stopped; leaving it")

    @staticmethod
    def _abandon(why: str) -> None:
        log.error("stopping without waiting: %s", why)
        logging.shutdown()
        os._exit(1)
