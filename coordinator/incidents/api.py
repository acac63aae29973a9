"""Events, incidents and operator actions, threshold proposals, and /metrics."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import DbDep, IncidentsDep, ServicesDep, TuningDep, bearer_token, require
from ..identity.auth import AuthError, Principal
from ..platform import metrics
from .api_models import ConfigProposal, Event, FalseAlarmRate, Incident, IncidentDetail
from .permissions import Perm

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


class TransitionBody(BaseModel):
    """A lifecycle move."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["confirmed", "dispatched", "en_route", "on_scene", "resolved"]
    note: str | None = Field(None, max_length=2000)


@router.get("/events", response_model=list[Event])
def list_events(
    db: DbDep,
    _who: Annotated[Principal, Depends(require(Perm.EVENTS_READ))],
    device: str | None = None,
    incident: str | None = None,
    since: Annotated[float | None, Query(description="arrival time, unix seconds")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    """Recent events (what, where, when — never who), newest first."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
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
    status: Annotated[list[Status] | None, Query()] = None,
    zone: str | None = None,
    since: float | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    """Incidents, most urgent first."""
    return incidents.search(status=status, zone=zone, since=since, limit=limit)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def get_incident(incident_id: str, incidents: IncidentsDep, _who: Reader) -> dict[str, Any]:
    """One incident with its events and its log of actions, merges and splits."""
    inc = incidents.get(incident_id)
    if inc is None:
        raise HTTPException(404, f"no incident {incident_id!r}")
    return {
        **inc,
        "events": incidents.events(incident_id),
        "history": incidents.history(incident_id),
    }


@router.post("/incidents/{incident_id}/confirm", response_model=Incident)
def confirm(
    incident_id: str, body: NoteBody, incidents: IncidentsDep, who: Actor
) -> dict[str, Any]:
    """Confirm an incident as real."""
    return incidents.confirm(incident_id, who.username, body.note)


@router.post("/incidents/{incident_id}/dismiss", response_model=Incident)
def dismiss(
    incident_id: str, body: DismissBody, incidents: IncidentsDep, who: Actor
) -> dict[str, Any]:
    """Dismiss as a false alarm, with a reason (feeds the camera's false-alarm rate)."""
    return incidents.dismiss(incident_id, who.username, body.reason)


@router.post("/incidents/{incident_id}/annotate", response_model=Incident)
def annotate(
    incident_id: str, body: AnnotateBody, incidents: IncidentsDep, who: Actor
) -> dict[str, Any]:
    """Add a note to the incident's log."""
    return incidents.annotate(incident_id, who.username, body.text)


@router.post("/incidents/{incident_id}/transition", response_model=Incident)
def transition(
    incident_id: str, body: TransitionBody, incidents: IncidentsDep, who: Actor
) -> dict[str, Any]:
    """Move the incident along its lifecycle (409 on an illegal move)."""
    return incidents.transition(incident_id, body.status, who.username, body.note)


@router.post("/incidents/{incident_id}/merge", response_model=Incident)
def merge(incident_id: str, body: MergeBody, incidents: IncidentsDep, who: Actor) -> dict[str, Any]:
    """Merge other incidents into this one (each can be restored with unmerge)."""
    return incidents.merge(incident_id, body.sources, who.username)


@router.post("/incidents/{incident_id}/unmerge", response_model=Incident)
def unmerge(incident_id: str, incidents: IncidentsDep, who: Actor) -> dict[str, Any]:
    """Undo the merge of this (merged) incident: it gets its events and status back."""
    return incidents.unmerge(incident_id, who.username)


@router.post("/incidents/{incident_id}/split", response_model=Incident)
def split(incident_id: str, body: SplitBody, incidents: IncidentsDep, who: Actor) -> dict[str, Any]:
    """Split some cameras' (or some events') events off into a new incident."""
    return incidents.split(
        incident_id, who.username, device_ids=body.device_ids, event_ids=body.event_ids
    )


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
