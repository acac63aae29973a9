"""The population service: one object giving the API and CLI every population domain."""

from __future__ import annotations

from ..identity.audit import AuditService
from ..platform.db import Database
from ..settings import Settings
from .common import Access, Ctx
from .crypto import Keyring
from .duplicates import Duplicates
from .export import Export
from .housing import Housing
from .importer import Importer
from .permits import Permits
from .records import Records
from .requests import Requests
from .retention import Retention
from .search import Search
from .stats import Stats
from .visitors import Visitors


class PopulationService:
    """Records, housing, visitors, permits, requests, duplicates, search, privacy jobs."""

    def __init__(
        self, db: Database, audit: AuditService, settings: Settings,
        retired_keys: list[str] | None = None,
    ) -> None:  # fmt: skip
        self.ctx = Ctx(db=db, keyring=Keyring(settings.data_key, retired_keys), audit=audit)
        self.access = Access(self.ctx)
        self.records = Records(self.ctx, self.access)
        self.housing = Housing(self.ctx, self.access)
        self.visitors = Visitors(self.ctx, self.access)
        self.permits = Permits(self.ctx, self.access)
        self.requests = Requests(self.ctx, self.access)
        self.duplicates = Duplicates(self.ctx, self.access)
        self.search = Search(self.ctx, self.access)
        self.stats = Stats(self.ctx)
        self.importer = Importer(self.ctx, self.access)
        self.export = Export(self.ctx, self.access)
        self.retention = Retention(self.ctx, self.access, settings.population_retention_days)

    def start(self, interval_s: float) -> None:
        """Start the scheduled jobs: registrations past valid_to expire, then retention."""
        self.retention.start(interval_s, also=[self.records.expire_due])

    def close(self) -> None:
        """Stop background jobs."""
        self.retention.close()
