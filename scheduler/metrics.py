"""Prometheus metrics of this process: emails by step and outcome, ticks and their duration, the
overdue occurrences by agency, and how the last reload went.

The overdue counts are measured once per tick by the daemon (a full status query: seconds on a
large store), not when scraped: a scrape only serialises this registry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

registry = CollectorRegistry()
emails_sent = Counter("scheduler_emails_sent", "Emails accepted by the transport, by step", ["step"], registry=registry)
emails_failed = Counter(
    "scheduler_emails_failed", "Emails the transport did not deliver, by step and kind", ["step", "kind"], registry=registry
)
ticks = Counter("scheduler_ticks", "Ticks run, by outcome", ["outcome"], registry=registry)
webhook_attempts = Counter("scheduler_webhook_attempts",
                           "Webhook messages tried, by outcome: sent, retry, failed (for good), gone (410)",
                           ["outcome"], registry=registry)
tick_seconds = Histogram(
    "scheduler_tick_duration_seconds", "Time one tick takes", registry=registry,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
reload_failures = Counter("scheduler_reload_failures", "Reloads (SIGHUP) refused: the running plan was kept",
                          registry=registry)
last_reload_ok = Gauge("scheduler_last_reload_ok", "1 when the last reload (or the start) loaded the plan, 0 when refused",
                       registry=registry)
last_reload_ok.set(1)


class _Overdue(Collector):
    """The last measured counts, replaced whole: a scrape sees one measurement, never half of two."""

    def __init__(self) -> None:
        self.by_agency: Mapping[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("scheduler_overdue_occurrences", "Open occurrences past their due date, by agency",
                                   labels=["agency"])
        for agency, count in sorted(self.by_agency.items()):
            family.add_metric([agency], count)
        yield family


overdue = _Overdue()
registry.register(overdue)


def set_overdue(by_agency: Mapping[str, int]) -> None:
    overdue.by_agency = dict(by_agency)
