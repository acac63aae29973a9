"""The coordinator's service container: one Database, the auth and audit services, and
whatever domain services the feature modules attach. Built by :func:`open_services`;
nothing here runs at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlite_utils.migrations import Migrations

from protocol import Channel, Topics

from . import audit, auth, enrolment, population, snapshots
from .audit import AuditService
from .auth import AuthService
from .db import Database
from .settings import Settings


def migration_sets() -> list[Migrations]:
    """Every domain's migrations, in dependency order (domains append theirs here)."""
    from . import fleet, incidents, ingest, tuning
    from .dispatch import store as dispatch_store
    from .fraud import schema as fraud_schema
    from .geo import service as geo_service

    return [
        auth.migrations,
        audit.migrations,
        fleet.migrations,
        ingest.migrations,
        incidents.migrations,
        tuning.migrations,
        population.migrations,
        fraud_schema.migrations,
        enrolment.migrations,
        geo_service.migrations,
        dispatch_store.migrations,
        snapshots.migrations,
    ]


@dataclass
class Services:
    """Long-lived objects shared by the API, ingest and background jobs."""

    settings: Settings
    db: Database
    auth: AuthService
    audit: AuditService
    extra: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Stop background work and close the database."""
        for svc in reversed(list(self.extra.values())):
            stop = getattr(svc, "close", None)
            if callable(stop):
                stop()
        self.db.close()


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
    from .core import attach_core
    from .fraud.service import FraudService

    attach_core(services)
    pop = population.PopulationService(db, services.audit, settings)
    pop.start(settings.population_retention_check_hours * 3600)
    services.extra["population"] = pop
    # Warnings go out on the centre's one MQTT link (retained board for market displays).
    services.extra["fraud"] = FraudService(
        db, services.audit, services.extra["mqtt"], sweep_interval_s=300
    )
    enrol = enrolment.open_enrolment(settings, db, services.audit, services.extra)
    if enrol is not None:
        services.extra["enrolment"] = enrol
        # An expired CRL would lock every board out: re-sign it well before it lapses.
        services.extra["jobs"].every("crl-refresh", 3600.0, enrol.refresh_crl_if_due)
    attach_dispatch(services)
    attach_snapshots(services)
    return services


def attach_snapshots(services: Services) -> None:
    """Snapshots on demand: requests out and answers in on the centre's MQTT link."""
    svc = snapshots.SnapshotService(
        services.db, services.audit, Topics(services.settings.topic_root)
    )
    link = services.extra.get("mqtt")
    if link is not None:
        svc.publisher = link
        link.add_handler(Channel.SNAPSHOT, svc.handle)
    services.extra["snapshots"] = svc


def attach_dispatch(services: Services) -> None:
    """Geo layers and the dispatch service (issue 6); the MQTT link attaches its publisher."""
    from .dispatch.service import DispatchService
    from .geo.service import GeoService

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
