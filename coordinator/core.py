"""Wires the coordinator core onto a :class:`Services`: fleet, incidents, tuning, ingest,
the MQTT link and the periodic jobs. ``attach_core`` builds them (nothing connects yet,
so other domains can register MQTT handlers); ``start_core`` connects and starts jobs.
"""

from __future__ import annotations

import time

from protocol import Topics

from . import retention
from .fleet import FleetService
from .incidents import IncidentService
from .ingest import IngestService
from .merge import rules_from
from .mqtt import MqttLink
from .services import Services
from .tuning import TuningService


def attach_core(services: Services) -> None:
    """Create the core services in ``services.extra`` (fleet, incidents, tuning, ingest, mqtt)."""
    s = services.settings
    db = services.db
    topics = Topics(s.topic_root)
    link = MqttLink(s, topics)
    fleet = FleetService(db, health_stale_s=s.health_stale_s, cert_warn_days=s.cert_warn_days)
    incidents = IncidentService(
        db, fleet, rules=rules_from(s.incident_rules), zone_boost=dict(s.zone_priority)
    )
    tuning = TuningService(
        db,
        topics,
        min_dismissals=s.false_alarm_min_dismissals,
        rate=s.false_alarm_rate,
        publisher=link,
    )
    incidents.tuning = tuning
    ingest = IngestService(s, db, fleet, incidents, link).start()
    jobs = retention.Jobs()
    jobs.every("fleet-stale", min(15.0, s.health_stale_s / 4), fleet.check_stale)
    jobs.every(
        "purge-raw-events",
        600.0,
        lambda: retention.purge_raw_events(db, time.time() - s.raw_event_retention_days * 86400),
    )
    jobs.every(
        "expire-snapshots",
        600.0,
        lambda: retention.expire_snapshots(db, time.time() - s.snapshot_retention_hours * 3600),
    )
    jobs.every("trim-dead-letters", 600.0, ingest.trim_dead_letters)
    jobs.every("purge-sessions", 3600.0, services.auth.purge_expired)
    # Insertion order matters: Services.close() closes extras in reverse, so the link
    # stops first (no new messages), then jobs, ingest (drains), and the notifiers.
    services.extra.update(
        fleet=fleet, incidents=incidents, tuning=tuning, ingest=ingest, jobs=jobs, mqtt=link
    )


def start_core(services: Services) -> None:
    """Connect the MQTT link (retrying in the background) and start the periodic jobs."""
    services.extra["mqtt"].start()
    services.extra["jobs"].start()
