"""HTTP API of dispatch: units, recommendations, orders, the auto policy, KPIs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from ..http.deps import ServicesDep, require
from ..identity.auth import Perm, Principal
from ..services import Services
from .api_models import IncidentDispatch, KpiGroup, LinkStatus, Order, Recommendation, Unit
from .policy import AutoPolicy
from .service import DispatchError, DispatchService
from .units import UnitError

router = APIRouter(prefix="/api/dispatch", tags=["dispatch"])


def _svc(services: Services) -> DispatchService:
    svc = services.extra.get("dispatch")
    if svc is None:
        raise HTTPException(503, "dispatch service not running")
    return svc  # type: ignore[no-any-return,unused-ignore]


def _fail(exc: UnitError | DispatchError) -> HTTPException:
    return HTTPException(getattr(exc, "status", 422), str(exc))


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
    services: ServicesDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> list[dict[str, Any]]:
    """Every unit with status, position, position age and staleness."""
    svc = _svc(services)
    now = svc.now_ms()
    return [
        u.view(now, svc.settings.stale_after_s)
        for u in sorted(svc.units.units.values(), key=lambda u: u.id)
    ]


@router.put("/units/{unit_id}", response_model=Unit)
def put_unit(
    unit_id: str,
    body: UnitIn,
    services: ServicesDep,
    _: Annotated[Principal, Depends(require(Perm.UNITS_WRITE))],
) -> dict[str, Any]:
    """Create or redefine a unit."""
    svc = _svc(services)
    try:
        unit = svc.units.upsert({"id": unit_id, **body.model_dump()})
    except UnitError as exc:
        raise _fail(exc) from None
    return unit.view(svc.now_ms(), svc.settings.stale_after_s)


@router.put("/units/{unit_id}/status", response_model=Unit)
def put_unit_status(
    unit_id: str,
    body: StatusIn,
    services: ServicesDep,
    who: Annotated[Principal, Depends(require(Perm.UNITS_WRITE))],
) -> dict[str, Any]:
    """Set available/busy/off_duty; off duty cancels and re-offers the unit's orders."""
    try:
        return _svc(services).set_unit_status(unit_id, body.status, f"user:{who.username}")
    except DispatchError as exc:
        raise _fail(exc) from None


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
    services: ServicesDep,
    _: Annotated[Principal, Depends(require(Perm.UNITS_READ, Perm.INCIDENTS_READ))],
) -> dict[str, Any]:
    """Top-k available units by travel time, with ETA, distance, zone and position age."""
    svc = _svc(services)
    if body.incident_id is not None:
        incident = svc.incidents.get(body.incident_id)
        if incident is None:
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
    body: OrderIn, services: ServicesDep, who: Annotated[Principal, Depends(require(Perm.DISPATCH))]
) -> dict[str, Any]:
    """Send the order over MQTT (QoS 1); no ack within the timeout re-offers the next unit."""
    try:
        return _svc(services).dispatch(
            body.incident_id, body.unit_id, actor=f"user:{who.username}", backup=body.backup
        )
    except DispatchError as exc:
        raise _fail(exc) from None


@router.get("/incidents/{incident_id}", response_model=IncidentDispatch)
def incident_dispatch(
    incident_id: str,
    services: ServicesDep,
    _: Annotated[Principal, Depends(require(Perm.INCIDENTS_READ))],
) -> dict[str, Any]:
    """Orders of an incident and its timestamped dispatch history (acks, time-outs)."""
    svc = _svc(services)
    return {"orders": svc.orders_for(incident_id), "events": svc.events_for(incident_id)}


@router.get("/policy", response_model=AutoPolicy)
def get_policy(
    services: ServicesDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """The auto-dispatch policy."""
    return _svc(services).policy.model_dump()


@router.put("/policy", response_model=AutoPolicy)
def put_policy(
    body: AutoPolicy,
    services: ServicesDep,
    who: Annotated[Principal, Depends(require(Perm.DISPATCH))],
) -> dict[str, Any]:
    """Replace the auto-dispatch policy (kinds and minimum confidence)."""
    return _svc(services).set_policy(body, who.username).model_dump()


@router.get("/kpis", response_model=list[KpiGroup])
def get_kpis(
    services: ServicesDep,
    _: Annotated[Principal, Depends(require(Perm.KPI_READ))],
    since_ms: Annotated[int | None, Query(ge=0)] = None,
    until_ms: Annotated[int | None, Query(ge=0)] = None,
    group_by: Annotated[Literal["zone,shift", "zone", "shift", "all"], Query()] = "zone,shift",
) -> list[dict[str, Any]]:
    """detection→dispatch, dispatch→ack, dispatch→on scene (p50/p90) per zone and shift."""
    keys = () if group_by == "all" else tuple(group_by.split(","))
    return _svc(services).kpis(since_ms, until_ms, keys)


@router.get("/status", response_model=LinkStatus)
def link_status(
    services: ServicesDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """Message counters and the last refused messages with their reasons."""
    svc = _svc(services)
    return {
        "counters": svc.counters,
        "rejected": list(svc.rejected)[-50:],
        "mqtt_link": svc.publisher is not None,
    }
