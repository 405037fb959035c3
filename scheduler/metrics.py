"""Prometheus metrics of this process: emails by step and outcome, ticks and their duration.

Overdue occurrences by agency are read from the database when scraped (see web/app.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

registry = CollectorRegistry()
emails_sent = Counter("scheduler_emails_sent", "Emails accepted by the transport, by step", ["step"], registry=registry)
emails_failed = Counter(
    "scheduler_emails_failed", "Emails the transport did not deliver, by step and kind", ["step", "kind"], registry=registry
)
ticks = Counter("scheduler_ticks", "Ticks run, by outcome", ["outcome"], registry=registry)
tick_seconds = Histogram(
    "scheduler_tick_duration_seconds", "Time one tick takes", registry=registry,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
