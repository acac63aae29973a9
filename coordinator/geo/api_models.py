"""Response models of the geography routes."""

from __future__ import annotations

from typing import Any

from ..http.answers import Answer


class ZoneProperties(Answer):
    """A zone's identity: patrol zone or centre, its name and the centre it answers to."""

    id: str
    kind: str | None = None
    name: str | None = None
    centre: str | None = None


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
    """The patrol zone and monitoring centre a point lies in."""

    zone: str | None
    centre: str | None


class ZonesLoaded(Answer):
    """What a zones upload held."""

    patrol_zones: int
    centres: int


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
