"""Events, incidents and operator actions, threshold proposals, and /metrics."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..geo.centres import Scope
from ..http.deps import (
    DbDep,
    GeoDep,
    IncidentsDep,
    ScopeDep,
    ServicesDep,
    TuningDep,
    bearer_token,
    require,
)
from ..identity.auth import AuthError, Principal
from ..platform import metrics
from .api_models import (
    ConfigProposal,
    DispositionCode,
    DispositionCount,
    Event,
    FalseAlarmRate,
    Incident,
    IncidentDetail,
)
from .calls import Call
from .permissions import Perm
from .service import IncidentService

router = APIRouter(prefix="/api", tags=["incidents"])
Reader = Annotated[Principal, Depends(require(Perm.INCIDENTS_READ))]
Actor = Annotated[Principal, Depends(require(Perm.INCIDENTS_ACT))]
Approver = Annotated[Principal, Depends(require(Perm.CONFIG_APPROVE))]
Status = Literal[
    "new", "confirmed", "dismissed", "dispatched", "en_route", "on_scene", "resolved", "merged"
]


class NoteBody(BaseModel):
    """An optional note."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)


class DismissBody(BaseModel):
    """Why the incident is a false alarm."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=2000, description="why this is a false alarm")


class AnnotateBody(BaseModel):
    """An operator note."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)


class MergeBody(BaseModel):
    """Incidents to merge into this one."""

    model_config = ConfigDict(extra="forbid")
    sources: list[str] = Field(min_length=1, max_length=50)


class SplitBody(BaseModel):
    """What to split off into a new incident: some cameras' events, or some events."""

    model_config = ConfigDict(extra="forbid")
    device_ids: list[str] | None = Field(None, min_length=1, max_length=100)
    event_ids: list[str] | None = Field(None, min_length=1, max_length=1000)


class HandoverBody(BaseModel):
    """The centre to hand the incident to, and why."""

    model_config = ConfigDict(extra="forbid")
    centre: str = Field(min_length=1, max_length=64, description="the receiving centre")
    reason: str = Field(min_length=3, max_length=2000, description="why it moves")


class PhoneReport(BaseModel):
    """An incident reported by phone: what, and where — a point (picked on the map) or a
    patrol zone the caller can only name the area of. The caller's number is not taken."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=32, description="an incident kind the system knows")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    zone: str | None = Field(None, min_length=1, max_length=64, description="a patrol zone id")
    landmark: str | None = Field(None, max_length=200, description="what the caller named")
    note: str | None = Field(None, max_length=2000, description="what was said (no numbers)")
    priority: int | None = Field(None, ge=1, le=5, description="raise the model's priority")
    priority_reason: str | None = Field(None, min_length=3, max_length=500)
    request_id: str | None = Field(
        None,
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the client's id for this submission: a repeat returns the same incident",
    )

    @model_validator(mode="after")
    def _where(self) -> PhoneReport:
        point = (self.lat is not None, self.lon is not None)
        if point[0] != point[1]:
            raise ValueError("lat and lon go together")
        if point[0] == (self.zone is not None):
            raise ValueError("give either a point (lat and lon) or a zone, not both or neither")
        if self.priority is not None and not (self.priority_reason or "").strip():
            raise ValueError("raising the priority needs priority_reason")
        return self


def in_scope(incidents: IncidentService, incident_id: str, scope: Scope) -> dict[str, Any]:
    """The incident when the caller's centres cover it; 404 otherwise (nothing leaks)."""
    inc = incidents.get(incident_id)
    if inc is None or not scope.allows(inc.get("centre_id")):
        raise HTTPException(404, f"no incident {incident_id!r}")
    return inc


Code = Field(
    None,
    max_length=64,
    description="how the incident ended: a code of GET /api/dispositions (required to resolve)",
)
Narrative = Field(None, max_length=4000, description="what was found and done (resolving)")


class TransitionBody(BaseModel):
    """A lifecycle move; resolving names its disposition (422 without one)."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["confirmed", "dispatched", "en_route", "on_scene", "resolved"]
    note: str | None = Field(None, max_length=2000)
    disposition: str | None = Code
    narrative: str | None = Narrative


class DispositionBody(BaseModel):
    """The disposition of a resolved incident (recorded or corrected)."""

    model_config = ConfigDict(extra="forbid")
    disposition: str = Field(min_length=1, max_length=64, description="a code of the catalogue")
    narrative: str | None = Narrative


@router.get("/events", response_model=list[Event])
def list_events(
    db: DbDep,
    _who: Annotated[Principal, Depends(require(Perm.EVENTS_READ))],
    scope: ScopeDep,
    device: str | None = None,
    incident: str | None = None,
    since: Annotated[float | None, Query(description="arrival time, unix seconds")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    """Recent events of your centres' cameras (what, where, when — never who), newest first."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if not scope.city_wide:
        frag, args = scope.sql()
        where.append(f"dev in (select id from devices where {frag})")
        params += args
    for col, val in (("dev", device), ("incident_id", incident)):
        if val is not None:
            where.append(f"{col} = ?")
            params.append(val)
    if since is not None:
        where.append("recv >= ?")
        params.append(since)
    sql = f"select * from events where {' and '.join(where)} order by recv desc limit ?"
    return db.query(sql, [*params, limit])


@router.get("/incidents", response_model=list[Incident])
def list_incidents(
    incidents: IncidentsDep,
    _who: Reader,
    scope: ScopeDep,
    status: Annotated[list[Status] | None, Query()] = None,
    zone: str | None = None,
    centre: str | None = None,
    since: float | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    """Your centres' incidents, most urgent first."""
    return incidents.search(
        status=status, zone=zone, centre=centre, since=since, limit=limit, scope=scope
    )


@router.post("/incidents", response_model=Incident, status_code=201)
def take_call(
    body: PhoneReport, incidents: IncidentsDep, geo: GeoDep, who: Actor, response: Response
) -> dict[str, Any]:
    """Record an incident reported by phone (201): confirmed at once, acknowledged by you,
    its priority from the model with "reported by phone" (you may raise it with a reason).
    It belongs to the centre of its location, whichever centre you work for. The same
    ``request_id`` again returns the incident it made (200), never a second one."""
    kinds = sorted(k for k, r in incidents.rules.items() if r.creates)
    if body.kind not in kinds:
        raise HTTPException(422, f"kind: unknown kind {body.kind!r}; kinds are {kinds}")
    zones = geo.zones
    zone = body.zone
    if zone is not None:
        spot = zones.centroid(zone) if zones is not None and zone in zones.patrol_zones() else None
        if spot is None:
            raise HTTPException(422, f"zone: no patrol zone {zone!r}")
        lat, lon = spot
    else:
        assert body.lat is not None and body.lon is not None
        lat, lon = body.lat, body.lon
        zone = zones.zone_of(lat, lon) if zones is not None else None
    centre = geo.centre_for(lat, lon, zone)
    if zones is not None and centre is None:
        raise HTTPException(422, "lat/lon: the point lies outside every monitoring centre's area")
    call = Call(
        kind=body.kind,
        lat=lat,
        lon=lon,
        zone=zone,
        centre_id=centre,
        address=incidents.address_of(lat, lon, zone),
        note=(body.note or "").strip() or None,
        priority=body.priority,
        priority_reason=(body.priority_reason or "").strip() or None,
        request_id=body.request_id,
        landmark=(body.landmark or "").strip() or None,
    )
    row, created = incidents.take_call(call, who.username)
    if not created:
        response.status_code = 200
    return row


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def get_incident(
    incident_id: str, incidents: IncidentsDep, _who: Reader, scope: ScopeDep
) -> dict[str, Any]:
    """One incident of your centres with its events and its log of actions, merges and splits."""
    inc = in_scope(incidents, incident_id, scope)
    return {
        **inc,
        "events": incidents.events(incident_id),
        "history": incidents.history(incident_id),
    }


@router.post("/incidents/{incident_id}/confirm", response_model=Incident)
def confirm(
    incident_id: str, body: NoteBody, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Confirm an incident as real."""
    in_scope(incidents, incident_id, scope)
    return incidents.confirm(incident_id, who.username, body.note)


@router.post("/incidents/{incident_id}/dismiss", response_model=Incident)
def dismiss(
    incident_id: str, body: DismissBody, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Dismiss as a false alarm, with a reason (feeds the camera's false-alarm rate)."""
    in_scope(incidents, incident_id, scope)
    return incidents.dismiss(incident_id, who.username, body.reason)


@router.post("/incidents/{incident_id}/annotate", response_model=Incident)
def annotate(
    incident_id: str, body: AnnotateBody, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Add a note to the incident's log."""
    in_scope(incidents, incident_id, scope)
    return incidents.annotate(incident_id, who.username, body.text)


@router.post("/incidents/{incident_id}/transition", response_model=Incident)
def transition(
    incident_id: str, body: TransitionBody, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Move the incident along its lifecycle (409 on an illegal move; resolving needs a
    disposition code of the catalogue and takes a narrative, 422 without a code)."""
    in_scope(incidents, incident_id, scope)
    return incidents.transition(
        incident_id,
        body.status,
        who.username,
        body.note,
        disposition=body.disposition,
        narrative=body.narrative,
        by_operator=True,
    )


@router.post("/incidents/{incident_id}/disposition", response_model=Incident)
def set_disposition(
    incident_id: str, body: DispositionBody, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Record or correct how a resolved incident ended (e.g. after a unit cleared it without
    a code); logged with the previous code."""
    in_scope(incidents, incident_id, scope)
    return incidents.set_disposition(incident_id, body.disposition, body.narrative, who.username)


@router.get("/dispositions", response_model=list[DispositionCode])
def list_dispositions(incidents: IncidentsDep, _who: Reader) -> list[dict[str, Any]]:
    """The catalogue of disposition codes (``operator``: an operator may choose it)."""
    return [
        {"code": d.code, "operator": d.operator, "label": d.label}
        for d in incidents.dispositions.values()
    ]


@router.get("/dispositions/counts", response_model=list[DispositionCount])
def disposition_counts(
    incidents: IncidentsDep,
    _who: Reader,
    scope: ScopeDep,
    since: Annotated[float | None, Query(description="resolved at or after, unix s")] = None,
    until: Annotated[float | None, Query(description="resolved before, unix s")] = None,
) -> list[dict[str, Any]]:
    """Resolutions of your centres' incidents by disposition (every code, zeros included)."""
    return incidents.disposition_counts(since=since, until=until, scope=scope)


@router.post("/incidents/{incident_id}/merge", response_model=Incident)
def merge(
    incident_id: str, body: MergeBody, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Merge other incidents of your centres into this one (each can be restored with
    unmerge)."""
    for iid in (incident_id, *body.sources):
        in_scope(incidents, iid, scope)
    return incidents.merge(incident_id, body.sources, who.username)


@router.post("/incidents/{incident_id}/unmerge", response_model=Incident)
def unmerge(
    incident_id: str, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Undo the merge of this (merged) incident: it gets its events and status back."""
    in_scope(incidents, incident_id, scope)
    return incidents.unmerge(incident_id, who.username)


@router.post("/incidents/{incident_id}/split", response_model=Incident)
def split(
    incident_id: str, body: SplitBody, incidents: IncidentsDep, who: Actor, scope: ScopeDep
) -> dict[str, Any]:
    """Split some cameras' (or some events') events off into a new incident."""
    in_scope(incidents, incident_id, scope)
    return incidents.split(
        incident_id, who.username, device_ids=body.device_ids, event_ids=body.event_ids
    )


@router.post("/incidents/{incident_id}/handover", response_model=Incident)
def handover(
    incident_id: str,
    body: HandoverBody,
    incidents: IncidentsDep,
    geo: GeoDep,
    who: Actor,
    scope: ScopeDep,
) -> dict[str, Any]:
    """Hand an open incident of your centres to another centre (logged): it leaves your
    queue and appears in theirs."""
    in_scope(incidents, incident_id, scope)
    return incidents.handover(incident_id, body.centre, who.username, body.reason, geo.centre_ids())


@router.get("/tuning/rates", response_model=list[FalseAlarmRate])
def false_alarm_rates(
    tuning: TuningDep, _who: Reader, device: str | None = None
) -> list[dict[str, Any]]:
    """False-alarm rate per camera and rule over the last week."""
    return tuning.rates(device)


@router.get("/tuning/proposals", response_model=list[ConfigProposal])
def proposals(
    tuning: TuningDep,
    _who: Reader,
    status: Literal["pending", "approved", "rejected"] | None = "pending",
) -> list[dict[str, Any]]:
    """Threshold-change proposals for noisy cameras."""
    return tuning.proposals(status)


@router.post("/tuning/proposals/{proposal_id}/approve", response_model=ConfigProposal)
def approve(proposal_id: int, tuning: TuningDep, who: Approver) -> dict[str, Any]:
    """Approve: the new threshold is pushed to the board as retained config."""
    return tuning.decide(proposal_id, True, who.username)


@router.post("/tuning/proposals/{proposal_id}/reject", response_model=ConfigProposal)
def reject(proposal_id: int, tuning: TuningDep, who: Approver) -> dict[str, Any]:
    """Reject a proposal."""
    return tuning.decide(proposal_id, False, who.username)


metrics_router = APIRouter(tags=["meta"])


@metrics_router.get("/metrics", response_class=Response)
def prometheus(request: Request, services: ServicesDep) -> Response:
    """Prometheus metrics, for a user who may read events or a scraper with the configured
    ``metrics_token`` (``Authorization: Bearer``); open to anyone only with ``metrics_open``."""
    settings = services.settings
    if not settings.metrics_open:
        given = bearer_token(request)
        token = settings.metrics_token
        if not (token and hmac.compare_digest(given.encode(), token.encode())):
            try:
                who = services.auth.verify(given) if given else None
            except AuthError:
                who = None
            if who is None:
                raise HTTPException(
                    401,
                    "metrics need the scrape token or a user's token",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if not who.can(Perm.EVENTS_READ):
                raise HTTPException(
                    403, f"roles {', '.join(who.role_names)} lack permission events:read"
                )
    return Response(metrics.render(services), media_type="text/plain; version=0.0.4")
