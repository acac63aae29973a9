"""FastAPI dependencies: each service by its type, the authenticated principal, permission
checks, the stated purpose of a personal-data read.

Routes name the service they use (``fraud: FraudDep``), never the whole container."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..approvals.service import ApprovalsService
from ..camrules.service import CamRulesService
from ..container import Services
from ..dispatch.service import DispatchService
from ..enrolment.lifecycle import LifecycleService
from ..enrolment.service import EnrolmentService
from ..errors import Unavailable
from ..fleet.owners import OwnerService
from ..fleet.service import FleetService
from ..fleet.snapshots import SnapshotService
from ..fraud.service import FraudService
from ..geo.centres import Scope
from ..geo.service import GeoService
from ..hall.service import HallService
from ..hotline.service import HotlineService
from ..identity.audit import AuditService
from ..identity.auth import AuthError, AuthService, Principal
from ..identity.throttle import LoginThrottle
from ..identity.tickets import StreamTickets
from ..incidents.evidence import EvidenceExporter
from ..incidents.service import IncidentService
from ..incidents.tuning import TuningService
from ..ingest.service import IngestService
from ..platform.db import Database
from ..platform.hub import StreamHub
from ..platform.mqtt import MqttLink
from ..population.service import PopulationService
from ..settings import Settings
from ..staff.service import StaffService
from .guard import TOKEN_IN_URL

_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/auth/login")


def get_services(request: Request) -> Services:
    """The app's service container."""
    return request.app.state.services


def get_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer``; 401 when missing, forged or expired.

    A token in the query string is refused on every route (URLs are written to logs,
    browser history and Referer headers); the live stream takes a single-use ticket."""
    if "access_token" in request.query_params:
        raise HTTPException(401, TOKEN_IN_URL, headers={"WWW-Authenticate": "Bearer"})
    token = creds.credentials if creds else None
    if not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    try:
        return get_services(request).auth.verify(token)
    except AuthError as exc:
        # The bearer challenge header goes with the 401 (the auth guard is HTTP's own).
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


#: Permissions guarding personal data: a refusal of one of them is audited.
PERSONAL_DATA_DOMAINS = ("population", "fraud", "hall", "hotline")


def require(*perms: StrEnum) -> Callable[..., Principal]:
    """Dependency factory: the caller must hold every permission in ``perms`` (else 403;
    a refused personal-data permission is written to the audit log)."""

    def check(
        request: Request, principal: Annotated[Principal, Depends(get_principal)]
    ) -> Principal:
        missing = [p.value for p in perms if not principal.can(p)]
        if missing:
            if any(m.split(":")[0] in PERSONAL_DATA_DOMAINS for m in missing):
                get_services(request).audit.record(
                    principal, "denied", "route", f"{request.method} {request.url.path}",
                    request.headers.get("x-purpose"), {"missing": missing},
                )  # fmt: skip
            raise HTTPException(
                403, f"roles {', '.join(principal.role_names)} lack permission {', '.join(missing)}"
            )
        return principal

    check.required_perms = perms  # type: ignore[attr-defined]  # read by the role-matrix test
    return check


def header_text(value: str | None) -> str | None:
    """A free-text header as typed: HTTP headers carry Latin-1 only, so the dashboard sends
    UTF-8 percent-encoded (``居住核查`` → ``%E5%B1%85…``); plain ASCII passes unchanged."""
    return unquote(value) if value else value


def require_purpose(
    x_purpose: Annotated[
        str | None,
        Header(description="Why personal data is read (recorded in the audit log)", max_length=500),
    ] = None,
) -> str:
    """Personal-data routes need a stated purpose (``X-Purpose`` header); 422 without one."""
    purpose = header_text(x_purpose)
    if purpose is None or len(purpose.strip()) < 3:
        raise HTTPException(422, "state the purpose of this access in the X-Purpose header")
    return purpose.strip()


def get_settings(request: Request) -> Settings:
    """The coordinator's settings."""
    return get_services(request).settings


def get_db(request: Request) -> Database:
    """The database (reads; writes go through its one writer)."""
    return get_services(request).db


def get_auth(request: Request) -> AuthService:
    """Users, sessions, roles."""
    return get_services(request).auth


def get_audit(request: Request) -> AuditService:
    """The audit log."""
    return get_services(request).audit


def get_throttle(request: Request) -> LoginThrottle:
    """Login throttling by client address."""
    return get_services(request).throttle


def get_tickets(request: Request) -> StreamTickets:
    """The live stream's single-use tickets."""
    return get_services(request).tickets


def bearer_token(request: Request) -> str:
    """The bearer token of the request's ``Authorization`` header ('' without one)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def get_mqtt(request: Request) -> MqttLink:
    """The centre's one MQTT link."""
    return get_services(request).mqtt


def get_fleet(request: Request) -> FleetService:
    """The fleet registry."""
    return get_services(request).fleet


def get_incidents(request: Request) -> IncidentService:
    """The incident service."""
    return get_services(request).incidents


def get_tuning(request: Request) -> TuningService:
    """False-alarm tuning."""
    return get_services(request).tuning


def get_ingest(request: Request) -> IngestService:
    """Ingest (counters, sequence gaps)."""
    return get_services(request).ingest


def get_stream(request: Request) -> StreamHub:
    """The live stream's hub."""
    return get_services(request).stream


def get_population(request: Request) -> PopulationService:
    """The population records service."""
    return get_services(request).population


def get_hall(request: Request) -> HallService:
    """The foreigners' service hall."""
    return get_services(request).hall


def get_hotline(request: Request) -> HotlineService:
    """The service hotline."""
    return get_services(request).hotline


def get_fraud(request: Request) -> FraudService:
    """The fraud early-warning service."""
    return get_services(request).fraud


def get_geo(request: Request) -> GeoService:
    """Zones and the road network."""
    return get_services(request).geo


def get_dispatch(request: Request) -> DispatchService:
    """Dispatch of patrol units."""
    return get_services(request).dispatch


def get_owners(request: Request) -> OwnerService:
    """Owner organisations and their sharing agreements."""
    return get_services(request).owners


def get_snapshots(request: Request) -> SnapshotService:
    """Snapshots on demand."""
    return get_services(request).snapshots


def get_camrules(request: Request) -> CamRulesService:
    """Camera rules: revisions, publishing, drift."""
    return get_services(request).camrules


def get_evidence(request: Request) -> EvidenceExporter:
    """Evidence export of incidents."""
    return get_services(request).evidence


def get_approvals(request: Request) -> ApprovalsService:
    """Requests that need a second person."""
    return get_services(request).approvals


def get_staff(request: Request) -> StaffService:
    """Staff administration."""
    return get_services(request).staff


NO_ENROLMENT = (
    "enrolment is not configured on this coordinator: run `provision broker-config "
    "--coordinator-dir DATA_DIR` (writes enrolment.yaml) and restart"
)


def get_enrolment(request: Request) -> EnrolmentService:
    """Enrolment of boards; 503 when this coordinator has no enrolment configured."""
    svc = get_services(request).enrolment
    if svc is None:
        raise Unavailable(NO_ENROLMENT)
    return svc


def get_lifecycle(request: Request) -> LifecycleService:
    """Revocation and rotation of boards; 503 when enrolment is not configured."""
    svc = get_services(request).lifecycle
    if svc is None:
        raise Unavailable(NO_ENROLMENT)
    return svc


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
AuthDep = Annotated[AuthService, Depends(get_auth)]
AuditDep = Annotated[AuditService, Depends(get_audit)]
ThrottleDep = Annotated[LoginThrottle, Depends(get_throttle)]
TicketsDep = Annotated[StreamTickets, Depends(get_tickets)]
MqttDep = Annotated[MqttLink, Depends(get_mqtt)]
FleetDep = Annotated[FleetService, Depends(get_fleet)]
IncidentsDep = Annotated[IncidentService, Depends(get_incidents)]
TuningDep = Annotated[TuningService, Depends(get_tuning)]
IngestDep = Annotated[IngestService, Depends(get_ingest)]
StreamHubDep = Annotated[StreamHub, Depends(get_stream)]
PopulationDep = Annotated[PopulationService, Depends(get_population)]
FraudDep = Annotated[FraudService, Depends(get_fraud)]
HallDep = Annotated[HallService, Depends(get_hall)]
HotlineDep = Annotated[HotlineService, Depends(get_hotline)]
GeoDep = Annotated[GeoService, Depends(get_geo)]
DispatchDep = Annotated[DispatchService, Depends(get_dispatch)]
SnapshotsDep = Annotated[SnapshotService, Depends(get_snapshots)]
OwnersDep = Annotated[OwnerService, Depends(get_owners)]
CamRulesDep = Annotated[CamRulesService, Depends(get_camrules)]
EvidenceDep = Annotated[EvidenceExporter, Depends(get_evidence)]
EnrolmentDep = Annotated[EnrolmentService, Depends(get_enrolment)]
LifecycleDep = Annotated[LifecycleService, Depends(get_lifecycle)]
ApprovalsDep = Annotated[ApprovalsService, Depends(get_approvals)]
StaffDep = Annotated[StaffService, Depends(get_staff)]


def get_scope(request: Request, who: Annotated[Principal, Depends(get_principal)]) -> Scope:
    """The centres whose incidents and cameras the caller sees (``geo.centres`` decides)."""
    return get_services(request).geo.centres.scope_of(who)


ScopeDep = Annotated[Scope, Depends(get_scope)]


def incident_in_scope(incident_id: str, request: Request, scope: ScopeDep) -> None:
    """404 for an incident outside the caller's centres (route dependency of the incident
    routes that live in lower domains: snapshots, evidence)."""
    inc = get_services(request).incidents.get(incident_id)
    if inc is not None and not scope.allows(inc.get("centre_id")):
        raise HTTPException(404, f"no incident {incident_id!r}")


#: Add to a route with an ``{incident_id}`` path: ``dependencies=[IncidentInScope]``.
IncidentInScope = Depends(incident_in_scope)
