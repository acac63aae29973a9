"""HTTP API of a patrol unit's own client (the phone page at ``/ui/unit.html``).

A unit signs in with its own account (role ``patrol_unit``, linked to one unit) and may
only read and answer *its* orders, report *its* position and set *its* status
(``units:self``). Acknowledgements and positions take the same path as those that arrive
over MQTT from a vehicle terminal, so the order state machine, the incident lifecycle and
the dispatch history do not care which client a unit uses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator

from protocol import Ack, UnitPosition

from ..errors import Forbidden
from ..http.deps import DispatchDep, require
from ..identity.auth import Principal
from .api_models import UnitSelf
from .permissions import Perm
from .service import DispatchService

router = APIRouter(prefix="/api/unit", tags=["patrol unit"])
ACTIVE = ("offered", "accepted", "en_route", "on_scene")


def own_unit(svc: DispatchService, who: Principal) -> str:
    """The unit the caller's account is linked to (Forbidden when none or unknown)."""
    if not who.unit_id or svc.units.get(who.unit_id) is None:
        raise Forbidden("this account is not linked to a patrol unit")
    return who.unit_id


def unit_orders(svc: DispatchService, unit_id: str) -> list[dict[str, Any]]:
    """The unit's active orders, newest first, with the incident's place and kind."""
    rows = svc.db.query(
        f"select * from dispatch_orders where unit_id = ? and status in "
        f"({','.join('?' for _ in ACTIVE)}) order by sent_ms desc limit 20",
        [unit_id, *ACTIVE],
    )
    out = []
    for o in rows:
        inc = svc.incidents.get(o["incident_id"]) or {}
        reasons = [e for e in svc.events_for(o["incident_id"]) if e["order_id"] == o["id"]]
        out.append(
            {
                "id": o["id"],
                "incident_id": o["incident_id"],
                "status": o["status"],
                "kind": o.get("kind") or inc.get("kind"),
                "priority": o.get("priority") or inc.get("priority"),
                "lat": inc.get("lat"),
                "lon": inc.get("lon"),
                "zone": o.get("zone"),
                "address": inc.get("address"),
                "eta_s": o.get("eta_s"),
                "distance_m": o.get("distance_m"),
                "sent_ms": o["sent_ms"],
                "history": [{"ts_ms": e["ts_ms"], "status": e["status"]} for e in reasons],
            }
        )
    return out


@router.get("/me", response_model=UnitSelf)
def me(
    svc: DispatchDep, who: Annotated[Principal, Depends(require(Perm.UNIT_SELF))]
) -> dict[str, Any]:
    """The caller's unit, its status and its active orders (newest first)."""
    uid = own_unit(svc, who)
    unit = svc.units.get(uid)
    assert unit is not None
    return {
        "unit": unit.view(svc.now_ms(), svc.settings.stale_after_s),
        "orders": unit_orders(svc, uid),
    }


class AckIn(BaseModel):
    """The unit's answer to an order, or its next step on it."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["accepted", "declined", "en_route", "on_scene", "cleared"]
    note: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _decline_needs_reason(self) -> AckIn:
        if self.status == "declined" and len((self.note or "").strip()) < 3:
            raise ValueError("a declined order needs a reason")
        return self


@router.post("/me/orders/{order_id}/ack", response_model=UnitSelf)
def ack(
    order_id: str,
    body: AckIn,
    svc: DispatchDep,
    who: Annotated[Principal, Depends(require(Perm.UNIT_SELF))],
) -> dict[str, Any]:
    """Accept or decline (with a reason) an order, then en route, on scene, cleared."""
    uid = own_unit(svc, who)
    order = svc.order(order_id)
    if order is None or order["unit_id"] != uid:
        raise Forbidden("not an order of this unit")
    msg = Ack(order=order_id, ts=svc.now_ms(), status=body.status, note=body.note)
    svc.apply_ack(uid, msg)
    return me(svc, who)


class PositionIn(BaseModel):
    """A position from the phone's location service."""

    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


@router.post("/me/position", status_code=204)
def position(
    body: PositionIn,
    svc: DispatchDep,
    who: Annotated[Principal, Depends(require(Perm.UNIT_SELF))],
) -> None:
    """Record the unit's position (timestamped by the centre's clock)."""
    uid = own_unit(svc, who)
    svc.position(uid, UnitPosition(ts=svc.now_ms(), lat=body.lat, lon=body.lon))


class SelfStatusIn(BaseModel):
    """A status the unit sets itself."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["available", "busy", "off_duty"]


@router.put("/me/status", response_model=UnitSelf)
def set_status(
    body: SelfStatusIn,
    svc: DispatchDep,
    who: Annotated[Principal, Depends(require(Perm.UNIT_SELF))],
) -> dict[str, Any]:
    """Available, busy or off duty (an active order must be cleared before available)."""
    uid = own_unit(svc, who)
    svc.set_unit_status(uid, body.status, f"unit client {who.username}")
    return me(svc, who)
