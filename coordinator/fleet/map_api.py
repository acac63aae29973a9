"""Compact data for the city map: every camera's position and health in one small answer.

The device list (``/api/devices``) carries every field of every camera; the map needs four,
for 24,000 cameras at once. Columnar arrays keep the answer ~10x smaller and cheap to parse.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ..http.deps import DbDep, FleetDep, ScopeDep, require
from ..identity.auth import Principal
from .api_models import CameraColumns
from .permissions import Perm

router = APIRouter(prefix="/api/map", tags=["map"])


@router.get("/cameras", response_model=CameraColumns)
def map_cameras(
    fleet: FleetDep,
    db: DbDep,
    _who: Annotated[Principal, Depends(require(Perm.DEVICES_READ))],
    scope: ScopeDep,
) -> dict[str, Any]:
    """Your centres' cameras as columns: ``id``, ``lat``, ``lon``, ``status``
    (online/stale/offline/unknown/revoked)."""
    now = time.time()
    frag, args = scope.sql()
    rows = db.query(
        "select id, lat, lon, status, status_at, last_health_at from devices "
        f"where {frag} order by id",
        args,
    )
    ids, lat, lon, status = [], [], [], []
    for r in rows:
        st = r["status"] or "unknown"
        if (
            st == "online"
            and (r["last_health_at"] or r["status_at"] or 0) < now - fleet.health_stale_s
        ):
            st = "stale"
        ids.append(r["id"])
        lat.append(r["lat"])
        lon.append(r["lon"])
        status.append(st)
    return {"id": ids, "lat": lat, "lon": lon, "status": status, "count": len(ids)}
