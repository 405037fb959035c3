"""`scheduler run`: APScheduler drives the ticks — one every minute, one at the digest's hour — and
never holds a job per reminder: what is due is always decided from the database.

SIGTERM and SIGINT stop it cleanly (a tick under way finishes); SIGHUP reloads the plan and
contacts, validated first: on any error the old plan keeps running.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import time
from collections.abc import Callable

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler import metrics
from scheduler.errors import SchedulerError
from scheduler.service import Service

log = logging.getLogger("scheduler")


def one_line(error: BaseException) -> str:
    """Log lines stay one line each, whatever the message."""
    return " | ".join(part.strip() for part in str(error).splitlines() if part.strip())


class Daemon:
    def __init__(self, service: Service, reload: Callable[[], Service], clock: Callable[[], dt.datetime]):
        self.service = service
        self._reload = reload
        self._clock = clock
        self._stop = threading.Event()
        self._reload_requested = threading.Event()
        self._lock = threading.Lock()
        self.reload_problem: str | None = None  # why the last reload was refused, for /healthz

    def measure(self, now: dt.datetime) -> None:
        """The overdue gauge, measured here once per tick rather than on every scrape of /metrics."""
        try:
            rows = self.service.status(now)
        except Exception as error:  # noqa: BLE001 - the gauge keeps its last value; the tick's own error is logged
            log.warning("overdue gauge not measured now=%s error=%s", now.isoformat(), one_line(error))
            return
        metrics.set_overdue({agency: late for agency, late, *_ in rows})

    def tick(self) -> None:
        now = self._clock()  # the one read of the clock for this pass
        with self._lock:
            try:
                self.service.tick(now)
            except SchedulerError as error:
                log.error("tick failed now=%s error=%s", now.isoformat(), one_line(error))
            except Exception:  # a bug must not kill the daemon; it is logged with its traceback
                log.exception("tick crashed now=%s", now.isoformat())
            self.measure(now)

    def reload(self) -> None:
        with self._lock:
            try:
                self.service = self._reload()
            except Exception as error:  # noqa: BLE001 - whatever the cause, the running plan stays
                if not isinstance(error, SchedulerError):
                    log.exception("reload crashed")
                log.error("reload refused, keeping the running plan: %s", one_line(error))
                self.reload_problem = f"refused: {one_line(error)}"[:500]
                metrics.reload_failures.inc()
                metrics.last_reload_ok.set(0)
                return
            log.info("reloaded plan=%s", self.service.plan.source)
            self.reload_problem = None
            metrics.last_reload_ok.set(1)

    def serve_http(self, host: str, port: int, credential=None) -> tuple[uvicorn.Server, threading.Thread]:
        """uvicorn in a thread of this process; access logs off, since feed URLs carry tokens."""
        from scheduler.feeds.tokens import load_or_create_key
        from scheduler.web.app import create_app

        # The dashboard's form key derives from the deployment's key: the same in every instance.
        secret_key = load_or_create_key(self.service.settings.secret_key_file) if credential else None
        app = create_app(lambda: self.service, self._clock, credential, secret_key=secret_key,
                         reload_problem=lambda: self.reload_problem)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="http", daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise SchedulerError(f"cannot serve HTTP on {host}:{port} (address in use, or not allowed)")
            time.sleep(0.05)
        log.info("serving http://%s:%s", host, port)
        return server, thread

    def run(self, http: tuple[str, int, tuple[str, str] | None] | None = None) -> None:
        policy = self.service.plan.policy
        zone = self.service.timing.zone
        scheduler = BackgroundScheduler(timezone=zone)
        scheduler.add_job(self.tick, IntervalTrigger(minutes=1, timezone=zone), id="tick", max_instances=1,
                          coalesce=True, next_run_time=dt.datetime.now(zone))
        scheduler.add_job(self.tick, CronTrigger(day_of_week=policy.digest_weekday[:3], hour=policy.send_time.hour,
                                                 minute=policy.send_time.minute, timezone=zone),
                          id="digest", max_instances=1, coalesce=True)
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        signal.signal(signal.SIGHUP, lambda *_: self._reload_requested.set())
        server = thread = None
        self.measure(self._clock())  # the overdue gauge is there from the first scrape
        if http is not None:
            server, thread = self.serve_http(*http)
        scheduler.start()
        log.info("started plan=%s database=%s transport=%s", self.service.plan.source,
                 self.service.engine.url.render_as_string(hide_password=True), self.service.transport.name)
        try:
            while not self._stop.is_set():
                if self._reload_requested.wait(timeout=0.5):
                    self._reload_requested.clear()
                    self.reload()
        finally:
            scheduler.shutdown(wait=True)
            if server is not None:
                server.should_exit = True
                thread.join(timeout=10)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("stopped")
