"""Prometheus exposition: ingest rate, lag, dead letters, devices online, incidents open.

A collector reads the live counters at scrape time; nothing is registered globally, so
several coordinators (tests) in one process do not collide.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .db import Database


class IngestFigures(Protocol):
    """What the collector reads of ingest: its counters and queue depth."""

    stats: Any
    queued: int


class LinkFigures(Protocol):
    """What the collector reads of the MQTT link."""

    acked: int
    connected: threading.Event


class MetricsSource(Protocol):
    """What the collector reads: the database, ingest and the link (the service container)."""

    db: Database
    ingest: Any  # IngestFigures (Any: read-only protocol members vs. the concrete classes)
    mqtt: Any  # LinkFigures


class CoreCollector:
    """Reads ingest, MQTT, fleet and incident figures from the services."""

    def __init__(self, services: MetricsSource) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families."""
        s = self.services
        ing: IngestFigures = s.ingest
        st = ing.stats
        link: LinkFigures = s.mqtt

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            return CounterMetricFamily(name, doc, value=value)

        yield counter("citywatch_ingest_messages", "Messages committed by ingest", st.received)
        yield counter("citywatch_events_stored", "Events stored (new ids)", st.stored)
        yield counter("citywatch_events_duplicate", "Redelivered events absorbed", st.duplicates)
        yield counter("citywatch_events_lost", "Events missing by sequence gap", st.lost)
        yield counter("citywatch_events_skewed", "Events with a skewed clock", st.skewed)
        yield counter("citywatch_mqtt_acked", "Messages acknowledged after commit", link.acked)
        dl = CounterMetricFamily(
            "citywatch_dead_letters", "Dead letters by reason", labels=["reason"]
        )
        for reason, n in sorted(st.dead_letters.items()):
            dl.add_metric([reason], n)
        yield dl
        yield GaugeMetricFamily(
            "citywatch_ingest_lag_seconds",
            "Arrival-to-commit time of the last batch",
            value=st.lag_s,
        )
        yield GaugeMetricFamily(
            "citywatch_ingest_queue_depth", "Messages waiting for the writer", value=ing.queued
        )
        yield GaugeMetricFamily(
            "citywatch_mqtt_connected",
            "1 when the MQTT link is up",
            value=float(link.connected.is_set()),
        )
        dev = GaugeMetricFamily(
            "citywatch_devices", "Devices by reported status", labels=["status"]
        )
        for row in s.db.query(
            "select coalesce(status, 'unknown') as st, count(*) as n from devices group by 1"
        ):
            dev.add_metric([row["st"]], row["n"])
        yield dev
        inc = GaugeMetricFamily(
            "citywatch_incidents_open", "Open incidents by status", labels=["status"]
        )
        for row in s.db.query(
            "select status, count(*) as n from incidents where status not in "
            "('resolved', 'dismissed', 'merged') group by status"
        ):
            inc.add_metric([row["status"]], row["n"])
        yield inc


def render(services: MetricsSource) -> bytes:
    """The Prometheus text exposition of the core metrics."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(CoreCollector(services))
    return generate_latest(reg)
