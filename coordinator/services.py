"""The coordinator's service container: one Database, the auth and audit services, and
whatever domain services the feature modules attach. Built by :func:`open_services`;
nothing here runs at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlite_utils.migrations import Migrations

from protocol import Topics

from . import audit, auth
from .audit import AuditService
from .auth import AuthService
from .db import Database
from .settings import Settings


def migration_sets() -> list[Migrations]:
    """Every domain's migrations, in dependency order (domains append theirs here)."""
    from .dispatch import store as dispatch_store
    from .geo import service as geo_service

    return [auth.migrations, audit.migrations, geo_service.migrations, dispatch_store.migrations]


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
    attach_dispatch(services)
    return services


def attach_dispatch(services: Services) -> None:
    """Geo layers and the dispatch service (issue 6); the MQTT link attaches its publisher."""
    from .dispatch.service import DispatchService
    from .geo.service import GeoService

    geo = services.extra["geo"] = GeoService(services.db)
    services.extra["dispatch"] = DispatchService(
        services.db, geo, extra=services.extra, topics=Topics(services.settings.topic_root)
    )
