"""The coordinator's service container: one Database, the auth and audit services, and
whatever domain services the composition root (``bootstrap``) attaches. Nothing here runs
at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .identity.audit import AuditService
from .identity.auth import AuthService
from .platform.db import Database
from .settings import Settings


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
