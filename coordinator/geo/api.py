"""HTTP API of geography: patrol zones, monitoring-centre areas and the road network."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query

from ..http.deps import GeoDep, require
from ..identity.auth import Principal
from .api_models import GeoSummary, RoadLines, RoadStats, ZoneAt, Zones, ZonesLoaded
from .permissions import Perm

router = APIRouter(prefix="/api/geo", tags=["geography"])

GeoJson = Annotated[dict[str, Any], Body(description="A GeoJSON FeatureCollection")]


@router.get("/zones", response_model=Zones)
def get_zones(
    geo: GeoDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """The patrol zones and monitoring-centre areas as loaded (GeoJSON)."""
    zones = geo.zones
    if zones is None:
        raise HTTPException(404, "no zones loaded")
    return zones.source


@router.put("/zones", response_model=ZonesLoaded)
def put_zones(
    data: GeoJson,
    geo: GeoDep,
    who: Annotated[Principal, Depends(require(Perm.UNITS_WRITE))],
) -> dict[str, Any]:
    """Validate and replace the zones; 422 lists every problem (the old zones stay)."""
    return geo.load_zones(data, who.username)


@router.put("/roads", response_model=RoadStats)
def put_roads(
    data: GeoJson,
    geo: GeoDep,
    who: Annotated[Principal, Depends(require(Perm.UNITS_WRITE))],
) -> dict[str, Any]:
    """Validate and replace the road network (GeoJSON LineStrings); 422 when unusable."""
    return geo.load_roads(data, who.username)


@router.get("/summary", response_model=GeoSummary)
def geo_summary(
    geo: GeoDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """Which layers are loaded, their sizes, skipped features, connectivity."""
    return geo.summary()


@router.get("/locate", response_model=ZoneAt)
def locate(
    geo: GeoDep,
    _: Annotated[Principal, Depends(require(Perm.UNITS_READ))],
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> dict[str, Any]:
    """The patrol zone and monitoring centre of a point (null outside every zone)."""
    zones = geo.zones
    if zones is None:
        raise HTTPException(404, "no zones loaded")
    return {"zone": zones.zone_of(lat, lon), "centre": zones.centre_of(lat, lon)}


@router.get("/roads", response_model=RoadLines)
def get_roads(
    geo: GeoDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """The road network for drawing on the map: every line with its name and class."""
    return geo.road_lines()
