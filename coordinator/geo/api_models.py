"""Response models of the geography routes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..http.answers import Answer


class ZoneProperties(Answer):
    """A zone's identity: patrol zone or centre, its name and the centre it answers to."""

    id: str
    kind: str | None = None
    name: str | None = None
    centre: str | None = None
    station: str | None = None


class ZoneFeature(Answer):
    """One zone as a GeoJSON feature."""

    type: str
    properties: ZoneProperties | None
    geometry: dict[str, Any]


class Zones(Answer):
    """The loaded zones as a GeoJSON feature collection."""

    type: str
    features: list[ZoneFeature]


class ZoneAt(Answer):
    """The patrol zone, police-station area and monitoring centre a point lies in."""

    zone: str | None
    centre: str | None
    station: str | None = None


class ZonesLoaded(Answer):
    """What a zones upload held."""

    patrol_zones: int
    centres: int
    stations: int = 0


class ZonesSummary(ZonesLoaded):
    """The zones loaded, when and by whom."""

    loaded_at: float
    loaded_by: str | None


class RoadStats(Answer):
    """What a road-network upload held and how well it connects."""

    features: int
    ways: int
    segments: int
    nodes: int
    skipped: list[Any]
    skipped_count: int
    components: dict[str, int]
    main_component_share: dict[str, float]
    directed_edges: int
    named_streets: int = Field(0, description="distinct street names (for addresses)")


class RoadsSummary(RoadStats):
    """The road network loaded, when and by whom."""

    loaded_at: float
    loaded_by: str | None


class GeoSummary(Answer):
    """The geography loaded: zones and road network (each absent until loaded)."""

    zones: ZonesSummary | None = None
    roads: RoadsSummary | None = None


class RoadLine(Answer):
    """One road as drawn on the map."""

    name: str | None
    road_class: str
    coords: list[list[float]]


class RoadLines(Answer):
    """The road network for drawing (names, classes, [lon, lat] coordinates)."""

    loaded_at: float | None
    lines: list[RoadLine]


class AreaNode(Answer):
    """One area of the hierarchy and the areas under it."""

    id: str
    kind: str = Field(description="city, centre, station or patrol")
    name: str
    area_km2: float
    children: list[AreaNode]


class CentreOnDuty(Answer):
    """A monitoring centre: its size, whether the caller works it, who is on duty."""

    id: str
    name: str
    stations: int
    patrol_zones: int
    in_scope: bool
    on_duty: list[str]


class Membership(Answer):
    """The centres a user works for, and whether they see the whole city."""

    username: str
    centres: list[str]
    city_wide: bool


class MyScope(Membership):
    """The caller's membership and the scope it gives (``sees_all``: every centre)."""

    sees_all: bool
    scoped: list[str]


class ShiftEntry(Answer):
    """One line of a centre's shift log."""

    id: int
    centre_id: str
    ts: float
    username: str
    kind: str = Field(description="sign_on, sign_off or note")
    text: str | None


class ShiftLog(Answer):
    """A centre's shift log, newest first, and who is signed on now."""

    centre_id: str
    on_duty: list[str]
    entries: list[ShiftEntry]
