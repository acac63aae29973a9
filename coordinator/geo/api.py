"""HTTP API of geography: patrol zones, monitoring-centre areas and the road network."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query

from ..http.deps import ServicesDep, require
from ..identity.auth import Perm, Principal
from ..services import Services
from .api_models import GeoSummary, RoadStats, ZoneAt, Zones, ZonesLoaded
from .road_graph import RoadNetworkError
from .service import GeoService
from .zones import ZoneError

router = APIRouter(prefix="/api/geo", tags=["geography"])

GeoJson = Annotated[dict[str, Any], Body(description="A GeoJSON FeatureCollection")]


def _geo(services: Services) -> GeoService:
    geo = services.extra.get("geo")
    if geo is None:
        raise HTTPException(503, "geography service not running")
    return geo  # type: ignore[no-any-return,unused-ignore]


def _fail(exc: ZoneError | RoadNetworkError) -> HTTPException:
    return HTTPException(422, {"message": str(exc), "problems": exc.problems})


@router.get("/zones", response_model=Zones)
def get_zones(
    services: ServicesDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """The patrol zones and monitoring-centre areas as loaded (GeoJSON)."""
    zones = _geo(services).zones
    if zones is None:
        raise HTTPException(404, "no zones loaded")
    return zones.source


@router.put("/zones", response_model=ZonesLoaded)
def put_zones(
    data: GeoJson,
    services: ServicesDep,
    who: Annotated[Principal, Depends(require(Perm.UNITS_WRITE))],
) -> dict[str, Any]:
    """Validate and replace the zones; 422 lists every problem (the old zones stay)."""
    try:
        return _geo(services).load_zones(data, who.username)
    except ZoneError as exc:
        raise _fail(exc) from None


@router.put("/roads", response_model=RoadStats)
def put_roads(
    data: GeoJson,
    services: ServicesDep,
    who: Annotated[Principal, Depends(require(Perm.UNITS_WRITE))],
) -> dict[str, Any]:
    """Validate and replace the road network (GeoJSON LineStrings); 422 when unusable."""
    try:
        return _geo(services).load_roads(data, who.username)
    except RoadNetworkError as exc:
        raise _fail(exc) from None


@router.get("/summary", response_model=GeoSummary)
def geo_summary(
    services: ServicesDep, _: Annotated[Principal, Depends(require(Perm.UNITS_READ))]
) -> dict[str, Any]:
    """Which layers are loaded, their sizes, skipped features, connectivity."""
    return _geo(services).summary()


@router.get("/locate", response_model=ZoneAt)
def locate(
    services: ServicesDep,
    _: Annotated[Principal, Depends(require(Perm.UNITS_READ))],
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> dict[str, Any]:
    """The patrol zone and monitoring centre of a point (null outside every zone)."""
    zones = _geo(services).zones
    if zones is None:
        raise HTTPException(404, "no zones loaded")
    return {"zone": zones.zone_of(lat, lon), "centre": zones.centre_of(lat, lon)}
