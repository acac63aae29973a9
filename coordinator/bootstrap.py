"""The composition root: opens the database, builds every service onto a :class:`Services`,
wires MQTT handlers and periodic jobs, and starts them. ``open_services`` builds (nothing
connects yet, so every domain can register its MQTT handlers first); ``start_core``
connects the link and starts the jobs; ``Services.close`` stops them in reverse.
"""

from __future__ import annotations

import time

from sqlite_utils.migrations import Migrations

from protocol import Channel, Topics

from . import population
from .dispatch import schema as dispatch_schema
from .dispatch.service import DispatchService
from .enrolment import schema as enrolment_schema
from .enrolment.lifecycle import open_enrolment
from .fleet import schema as fleet_schema
from .fleet import snapshots
from .fleet.service import FleetService
from .fraud import schema as fraud_schema
from .fraud.service import FraudService
from .geo import service as geo_service
from .geo.service import GeoService
from .identity import audit, auth
from .identity.audit import AuditService
from .identity.auth import AuthService
from .incidents import schema as incidents_schema
from .incidents.evidence import EvidenceExporter
from .incidents.merge import rules_from
from .incidents.service import IncidentService
from .incidents.tuning import TuningService
from .ingest import schema as ingest_schema
from .ingest.service import IngestService, purge_raw_events
from .platform.db import Database
from .platform.jobs import Jobs
from .platform.mqtt import MqttLink
from .services import Services
from .settings import Settings


def migration_sets() -> list[Migrations]:
    """Every domain's migrations, in dependency order (domains append theirs here)."""
    return [
        auth.migrations,
        audit.migrations,
        fleet_schema.fleet,
        ingest_schema.migrations,
        incidents_schema.incidents,
        incidents_schema.tuning,
        population.migrations,
        fraud_schema.migrations,
        enrolment_schema.migrations,
        geo_service.migrations,
        dispatch_schema.migrations,
        fleet_schema.snapshots,
    ]


def open_services(settings: Settings) -> Services:
    """Open the database, apply migrations, and build the services."""
    db = Database(settings.db_path).open()
    try:
        db.migrate(*migration_sets())
    except Exception:
        db.close()
        raise
    services = Services(
        settings=settings,
        db=db,
        auth=AuthService(
            db,
            settings.secret_key,
            settings.token_ttl_s,
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
        ),
        audit=AuditService(db),
    )
    attach_core(services)
    pop = population.PopulationService(db, services.audit, settings)
    pop.start(settings.population_retention_check_hours * 3600)
    services.extra["population"] = pop
    # Warnings go out on the centre's one MQTT link (retained board for market displays).
    services.extra["fraud"] = FraudService(
        db, services.audit, services.extra["mqtt"], sweep_interval_s=300
    )
    enrol = open_enrolment(settings, db, services.audit, services.extra)
    if enrol is not None:
        services.extra["enrolment"] = enrol
        # An expired CRL would lock every board out: re-sign it well before it lapses.
        services.extra["jobs"].every("crl-refresh", 3600.0, enrol.refresh_crl_if_due)
    attach_dispatch(services)
    attach_snapshots(services)
    return services


def attach_snapshots(services: Services) -> None:
    """Snapshots on demand: requests out and answers in on the centre's MQTT link, retried
    by the one scheduler; incidents exported as evidence from them."""
    s = services.settings
    svc = snapshots.SnapshotService(
        services.db,
        services.audit,
        Topics(s.topic_root),
        timeout_s=s.snapshot_timeout_s,
        attempts=s.snapshot_attempts,
        max_frames=s.evidence_max_frames,
    )
    link = services.extra.get("mqtt")
    if link is not None:
        svc.publisher = link
        link.add_handler(Channel.SNAPSHOT, svc.handle)
    services.extra["jobs"].every(
        "retry-snapshots", min(1.0, s.snapshot_timeout_s / 2), svc.retry_due
    )
    services.extra["snapshots"] = svc
    services.extra["evidence"] = EvidenceExporter(services.db, services.audit)


def attach_dispatch(services: Services) -> None:
    """Geo layers and the dispatch service; the MQTT link attaches its publisher."""
    geo = services.extra["geo"] = GeoService(services.db)
    services.extra["dispatch"] = DispatchService(
        services.db, geo, extra=services.extra, topics=Topics(services.settings.topic_root)
    )
    link = services.extra.get("mqtt")
    if link is not None:
        # Orders go out, and positions/acks come in, on the centre's one MQTT link.
        services.extra["dispatch"].attach_publisher(link)
        for channel, handler in services.extra["dispatch"].handlers().items():
            link.add_handler(channel, handler)


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
    jobs = Jobs()
    jobs.every("fleet-stale", min(15.0, s.health_stale_s / 4), fleet.check_stale)
    jobs.every(
        "purge-raw-events",
        600.0,
        lambda: purge_raw_events(db, time.time() - s.raw_event_retention_days * 86400),
    )
    jobs.every(
        "expire-snapshots",
        600.0,
        lambda: snapshots.expire_snapshots(db, time.time() - s.snapshot_retention_hours * 3600),
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
