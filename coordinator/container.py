"""The coordinator's service container: one typed field per long-lived service.

Built, wired and closed by the composition root (``bootstrap.open_services``); read by the
routes through the typed dependencies of ``http/deps.py`` and by commands, tests and tools
by attribute (``services.fleet``). Nothing here runs at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from .approvals.service import ApprovalsService
from .camrules.service import CamRulesService
from .dispatch.service import DispatchService
from .enrolment.lifecycle import LifecycleService
from .enrolment.service import EnrolmentService
from .fleet.owners import OwnerService
from .fleet.service import FleetService
from .fleet.snapshots import SnapshotService
from .fraud.service import FraudService
from .geo.service import GeoService
from .hall.service import HallService
from .hotline.service import HotlineService
from .identity.audit import AuditService
from .identity.auth import AuthService
from .identity.throttle import LoginThrottle
from .identity.tickets import StreamTickets
from .incidents.evidence import EvidenceExporter
from .incidents.service import IncidentService
from .incidents.tuning import TuningService
from .ingest.service import IngestService
from .platform.db import Database
from .platform.hub import StreamHub
from .platform.jobs import Jobs
from .platform.mqtt import MqttLink
from .population.service import PopulationService
from .settings import Settings
from .staff.service import StaffService

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Long-lived objects shared by the API, ingest, the MQTT handlers and the jobs."""

    settings: Settings
    db: Database
    auth: AuthService
    audit: AuditService
    mqtt: MqttLink
    jobs: Jobs
    fleet: FleetService
    incidents: IncidentService
    tuning: TuningService
    ingest: IngestService
    stream: StreamHub
    population: PopulationService
    fraud: FraudService
    hall: HallService
    hotline: HotlineService
    geo: GeoService
    dispatch: DispatchService
    snapshots: SnapshotService
    owners: OwnerService
    camrules: CamRulesService
    evidence: EvidenceExporter
    throttle: LoginThrottle
    """Login attempts counted by client address (shared through the database)."""
    tickets: StreamTickets
    """Single-use live-stream tickets."""
    approvals: ApprovalsService
    """Requests that need a second person (kinds registered by the domains)."""
    staff: StaffService
    """Accounts, their access and life cycle."""
    enrolment: EnrolmentService | None = None
    """Present when ``<data_dir>/enrolment.yaml`` exists (``provision broker-config``)."""
    lifecycle: LifecycleService | None = None
    """Revocation, rotation and the CRL; present with ``enrolment``."""
    closers: list[tuple[str, Callable[[], object]]] = field(default_factory=list, repr=False)
    """What the composition root opened or subscribed, in order; closed in reverse."""

    def close(self) -> None:
        """Stop and close everything, in the reverse of the order it was opened."""
        self.close_all(self.closers)

    @staticmethod
    def close_all(closers: list[tuple[str, Callable[[], object]]]) -> None:
        """Run and drop ``closers`` last first; one failing step does not keep the rest open."""
        while closers:
            name, fn = closers.pop()
            try:
                fn()
            except Exception:  # noqa: BLE001 - logged; the remaining steps still run
                log.exception("closing %s failed", name)
