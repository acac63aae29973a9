"""HTTP API of dispatch: units, recommendations, orders, the auto policy, KPIs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import DispatchDep, ScopeDep, require
from ..identity.auth import Principal
from .api_models import (
    Coverage,
    IncidentDispatch,
    KpiGroup,
    LinkStatus,
    Order,
    PendingQueue,
    Preemptions,
    Recommendation,
    Unit,
)
from .permissions import Perm
from .policy import AutoPolicy

router = APIRouter(prefix="/api/dispatch", tags=["dispatch"])


# units ------------------------------------------------------------------------------
class UnitIn(BaseModel):
    """A patrol unit's definition."""

    model_config = ConfigDict(extra="forbid")
    call_sign: str = Field(min_length=1, max_length=32, description="Radio call sign")
    mode: Literal["foot", "ebike", "car"] = Field(description="How the unit travels")
    home_zone: str | None = Field(default=None, description="Patrol zone the unit covers")
    shift: str | None = Field(default=None, description="Shift name (KPIs are grouped by it)")
    status: Literal["available", "busy", "off_duty"] = Field(
        default="off_duty", description="Initial status"
    )


class StatusIn(BaseModel):
    """A status set by a dispatcher."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["available", "busy", "off_duty"]


@router.get("/units", response_model=list[Unit])
def list_units(
    svc: DispatchDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> list[dict[str, Any]]:
    """Every unit with status, position, position age and staleness."""
    now = svc.now_ms()
    return [
        u.view(now, svc.settings.stale_after_s)
        for u in sorted(svc.units.units.values(), key=lambda u: u.id)
    ]


@router.put("/units/{unit_id}", response_model=Unit)
def put_unit(
    unit_id: str,
    body: UnitIn,
    svc: DispatchDep,
    _: Annotated[Principal, Depends(require(Perm.UNITS_WRITE))],
) -> dict[str, Any]:
    """Create or redefine a unit."""
    unit = svc.units.upsert({"id": unit_id, **body.model_dump()})
    return unit.view(svc.now_ms(), svc.settings.stale_after_s)


@router.put("/units/{unit_id}/status", response_model=Unit)
def put_unit_status(
    unit_id: str,
    body: StatusIn,
    svc: DispatchDep,
    who: Annotated[Principal, Depends(require(Perm.UNITS_WRITE))],
) -> dict[str, Any]:
    """Set available/busy/off_duty; off duty cancels and re-offers the unit's orders."""
    return svc.set_unit_status(unit_id, body.status, f"user:{who.username}")


# recommendation and orders -----------------------------------------------------------
class RecommendIn(BaseModel):
    """An incident by id, or an ad-hoc location (before the incident exists)."""

    model_config = ConfigDict(extra="forbid")
    incident_id: str | None = Field(default=None, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    k: int | None = Field(default=None, ge=1, le=50, description="How many units to return")


@router.post("/recommend", response_model=Recommendation)
def recommend(
    body: RecommendIn,
    svc: DispatchDep,
    _: Annotated[Principal, Depends(require(Perm.UNITS_READ, Perm.INCIDENTS_READ))],
    scope: ScopeDep,
) -> dict[str, Any]:
    """Top-k available units by travel time (of any centre: mutual aid), with ETA,
    distance, zone and position age."""
    if body.incident_id is not None:
        incident = svc.incidents.get(body.incident_id)
        if incident is None or not scope.allows(incident.get("centre_id")):
            raise HTTPException(404, f"no incident {body.incident_id}")
    elif body.lat is not None and body.lon is not None:
        incident = {"id": None, "lat": body.lat, "lon": body.lon}
    else:
        raise HTTPException(422, "give incident_id, or lat and lon")
    return svc.recommend(incident, body.k)


class OrderIn(BaseModel):
    """Accept a recommendation: dispatch a unit (default: the top-ranked) to an incident."""

    model_config = ConfigDict(extra="forbid")
    incident_id: str = Field(min_length=1, max_length=64)
    unit_id: str | None = Field(default=None, description="Unit to send; omit for the top-ranked")
    backup: bool = Field(default=False, description="Send even though another order is active")


@router.post("/orders", response_model=Order, status_code=201)
def create_order(
    body: OrderIn,
    svc: DispatchDep,
    who: Annotated[Principal, Depends(require(Perm.DISPATCH))],
    scope: ScopeDep,
) -> dict[str, Any]:
    """Send the order over MQTT (QoS 1) for an incident of your centres; no ack within the
    timeout re-offers the next unit. A unit of another centre may be sent (mutual aid): the
    incident's log records it as a handover entry."""
    incident = svc.incidents.get(body.incident_id)
    if incident is None or not scope.allows(incident.get("centre_id")):
        raise HTTPException(404, f"no incident {body.incident_id}")
    return svc.dispatch(
        body.incident_id, body.unit_id, actor=f"user:{who.username}", backup=body.backup
    )


@router.get("/pending", response_model=PendingQueue)
def pending_queue(
    svc: DispatchDep,
    scope: ScopeDep,
    _: Annotated[Principal, Depends(require(Perm.UNITS_READ, Perm.INCIDENTS_READ))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Incidents of your centres that need a unit and have none, with why they wait; most
    urgent first."""
    return svc.pending(limit, allows=scope.allows)


@router.get("/pending/{incident_id}/preemption", response_model=Preemptions)
def preemption(
    incident_id: str,
    svc: DispatchDep,
    _: Annotated[Principal, Depends(require(Perm.UNITS_READ, Perm.INCIDENTS_READ))],
) -> dict[str, Any]:
    """Units on lower-priority work that could be diverted here, with the cost of each."""
    return svc.preemption(incident_id)


class DivertIn(BaseModel):
    """Divert a unit from its lower-priority order to this incident."""

    model_config = ConfigDict(extra="forbid")
    incident_id: str = Field(min_length=1, max_length=64)
    unit_id: str = Field(min_length=1, max_length=64)


@router.post("/divert", response_model=Order, status_code=201)
def divert(
    body: DivertIn, svc: DispatchDep, who: Annotated[Principal, Depends(require(Perm.DISPATCH))]
) -> dict[str, Any]:
    """Cancel the unit's lower-priority order (that incident returns to the queue), offer this one."""
    return svc.divert(body.incident_id, body.unit_id, actor=f"user:{who.username}")


@router.get("/coverage", response_model=Coverage)
def coverage(
    svc: DispatchDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """Patrol zones left without an available unit, each with a move-up proposal."""
    return svc.coverage()


@router.get("/incidents/{incident_id}", response_model=IncidentDispatch)
def incident_dispatch(
    incident_id: str,
    svc: DispatchDep,
    _: Annotated[Principal, Depends(require(Perm.INCIDENTS_READ))],
    scope: ScopeDep,
) -> dict[str, Any]:
    """Orders of an incident and its timestamped dispatch history (acks, time-outs)."""
    incident = svc.incidents.get(incident_id)
    if incident is not None and not scope.allows(incident.get("centre_id")):
        raise HTTPException(404, f"no incident {incident_id}")
    return {"orders": svc.orders_for(incident_id), "events": svc.events_for(incident_id)}


@router.get("/policy", response_model=AutoPolicy)
def get_policy(
    svc: DispatchDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """The auto-dispatch policy."""
    return svc.policy.model_dump()


@router.put("/policy", response_model=AutoPolicy)
def put_policy(
    body: AutoPolicy,
    svc: DispatchDep,
    who: Annotated[Principal, Depends(require(Perm.DISPATCH))],
) -> dict[str, Any]:
    """Replace the auto-dispatch policy (kinds and minimum confidence)."""
    return svc.set_policy(body, who.username).model_dump()


@router.get("/kpis", response_model=list[KpiGroup])
def get_kpis(
    svc: DispatchDep,
    _: Annotated[Principal, Depends(require(Perm.KPI_READ))],
    since_ms: Annotated[int | None, Query(ge=0)] = None,
    until_ms: Annotated[int | None, Query(ge=0)] = None,
    group_by: Annotated[Literal["zone,shift", "zone", "shift", "all"], Query()] = "zone,shift",
) -> list[dict[str, Any]]:
    """detection→dispatch, dispatch→ack, dispatch→on scene (p50/p90) per zone and shift."""
    keys = () if group_by == "all" else tuple(group_by.split(","))
    return svc.kpis(since_ms, until_ms, keys)


@router.get("/status", response_model=LinkStatus)
def link_status(
    svc: DispatchDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """Message counters and the last refused messages with their reasons."""
    return {
        "counters": svc.counters,
        "rejected": list(svc.rejected)[-50:],
        "mqtt_link": svc.publisher is not None,
    }
