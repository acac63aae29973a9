"""The population service: one object giving the API and CLI every population domain."""

from __future__ import annotations

import logging

from ..approvals.service import ApprovalsService, Kind
from ..identity.audit import AuditService
from ..platform.db import Database
from ..settings import Settings
from .common import Access, Ctx
from .crypto import Keyring
from .dates import TrustedDates
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
from .uploads import Uploads
from .visitors import Visitors

log = logging.getLogger(__name__)


class PopulationService:
    """Records, housing, visitors, permits, requests, duplicates, search, privacy jobs."""

    def __init__(
        self, db: Database, audit: AuditService, settings: Settings,
        retired_keys: list[str] | None = None, approvals: ApprovalsService | None = None,
    ) -> None:  # fmt: skip
        self.ctx = Ctx(db=db, keyring=Keyring(settings.data_key, retired_keys), audit=audit)
        self.access = Access(self.ctx, approvals)
        self.dates = TrustedDates(self.ctx, approvals)
        self.records = Records(self.ctx, self.access, self.dates)
        self.housing = Housing(self.ctx, self.access)
        self.visitors = Visitors(self.ctx, self.access)
        self.permits = Permits(self.ctx, self.access)
        self.requests = Requests(self.ctx, self.access)
        self.duplicates = Duplicates(self.ctx, self.access)
        self.search = Search(self.ctx, self.access)
        self.stats = Stats(self.ctx)
        self.importer = Importer(self.ctx, self.access, chunk=settings.import_chunk_rows,
                                 duplicate_limit=settings.import_duplicate_limit,
                                 duty=settings.import_duty_cycle)  # fmt: skip
        self.export = Export(self.ctx, self.access)
        self.uploads = Uploads(settings.data_dir / "imports", self.importer,
                               settings.import_upload_max_bytes)  # fmt: skip
        self.retention = Retention(self.ctx, self.access, settings.population_retention_days)

    def approval_kinds(self) -> list[Kind]:
        """The kinds population files with the approvals service: break-the-glass access,
        a backdated registration, the historical dates of an import batch."""
        return [*self.access.kinds(), *self.dates.kinds()]

    def run_scheduled(self) -> dict[str, object]:
        """The daily privacy job (on the one scheduler): registrations past valid_to expire,
        then records closed longer than the retention period are anonymised."""
        done = {"expired": self.records.expire_due(), "retention": self.retention.run_once()}
        log.info("population scheduled job: %s", done)
        return done
