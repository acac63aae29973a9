"""Patrol zones and monitoring-centre areas: GeoJSON polygons, validated, with lookup.

A FeatureCollection of Polygon/MultiPolygon features with ``properties.id`` (a protocol
id), ``properties.kind`` (``patrol``, ``station`` or ``centre``), optional ``name``; a
patrol zone names its police-station area (``station``) and/or the ``centre`` that watches
it, a station area its ``centre`` (the hierarchy of :mod:`coordinator.geo.areas`). Validation is strict (a dispatcher must never
get a wrong zone silently): rings closed with >= 4 positions, coordinates in range, no
self-intersection (shapely's validity check names the point), unique ids, no two areas of
one kind overlapping by more than a sliver, and a consistent hierarchy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.strtree import STRtree
from shapely.validation import explain_validity

from protocol import is_valid_id

from ..errors import Invalid
from . import areas
from .project import Projection

KINDS = ("patrol", "station", "centre")
OVERLAP_TOLERANCE_M2 = 1.0  # digitising slivers below this are not an overlap


class ZoneError(Invalid, ValueError):
    """The zones GeoJSON is invalid; ``problems`` names each feature and reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:10]) + (" …" if len(problems) > 10 else ""))
        self.problems = problems

    @property
    def detail(self) -> dict[str, Any]:
        """The sentence and every problem, for the client to show."""
        return {"message": str(self), "problems": self.problems}


@dataclass(frozen=True)
class ZoneInfo:
    """One zone's attributes (its polygon stays inside :class:`ZoneMap`)."""

    id: str
    kind: str
    name: str
    centre: str | None
    area_km2: float
    station: str | None = None


def _check_rings(geom: dict[str, Any]) -> str | None:
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if kind == "Polygon":
        polys = [coords]
    elif kind == "MultiPolygon" and isinstance(coords, list):
        if not coords:
            return "multipolygon has no polygons"
        polys = coords
    else:
        return f"geometry type {kind!r} is not a Polygon or MultiPolygon"
    for poly in polys:
        if not isinstance(poly, list) or not poly:
            return "polygon has no rings"
        for ring in poly:
            if not isinstance(ring, list) or len(ring) < 4:
                return "a ring needs at least 4 positions (closed triangle)"
            for p in ring:
                if (
                    not isinstance(p, list | tuple)
                    or len(p) < 2
                    or not all(isinstance(c, int | float) and math.isfinite(c) for c in p[:2])
                    or not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90)
                ):
                    return f"position {p!r} is not [lon, lat] in range"
            if list(ring[0][:2]) != list(ring[-1][:2]):
                return "ring is not closed (first and last positions differ)"
    return None


class ZoneMap:
    """Validated zones with point lookup; build with :meth:`from_geojson`."""

    def __init__(
        self,
        infos: dict[str, ZoneInfo],
        geoms: dict[str, Any],
        proj: Projection,
        source: dict[str, Any],
    ) -> None:
        self.infos = infos
        self.proj = proj
        self.source = source
        self._geoms = geoms
        self._ids = {k: [z for z in infos if infos[z].kind == k] for k in KINDS}
        self._trees = {k: STRtree([geoms[z] for z in self._ids[k]]) for k in KINDS}
        self.hierarchy, self.hierarchy_problems = areas.build(infos.values())

    def _lookup(self, kind: str, lat: float, lon: float) -> str | None:
        if not self._ids[kind]:
            return None
        pt = Point(*self.proj.xy(lat, lon))
        hits = self._trees[kind].query(pt, predicate="intersects")
        if len(hits) == 0:
            return None
        return sorted(self._ids[kind][int(i)] for i in hits)[0]  # shared border: lowest id

    def zone_of(self, lat: float, lon: float) -> str | None:
        """The patrol zone containing the point, or None outside every zone."""
        return self._lookup("patrol", lat, lon)

    def centre_of(self, lat: float, lon: float) -> str | None:
        """The monitoring-centre area containing the point, or None."""
        return self._lookup("centre", lat, lon)

    def centre_for(self, lat: float, lon: float, zone: str | None = None) -> str | None:
        """The centre responsible for a point: through its patrol zone (``zone`` when
        given and known, else the zone containing the point) → station → centre; a
        point outside every patrol zone falls to the centre area containing it."""
        if zone is None or zone not in self.infos:
            zone = self.zone_of(lat, lon)
        return self.hierarchy.centre_of(zone) or self.centre_of(lat, lon)

    def station_for(self, lat: float, lon: float, zone: str | None = None) -> str | None:
        """The police-station area of a point (through its patrol zone), or None."""
        if zone is None or zone not in self.infos:
            zone = self.zone_of(lat, lon)
        return self.hierarchy.station_of(zone) or self._lookup("station", lat, lon)

    def patrol_zones(self) -> list[str]:
        """Ids of every patrol zone."""
        return list(self._ids["patrol"])

    def centroid(self, zone_id: str) -> tuple[float, float] | None:
        """(lat, lon) of a point inside the zone (its representative point); None if unknown."""
        geom = self._geoms.get(zone_id)
        if geom is None:
            return None
        pt = geom.representative_point()
        return self.proj.latlon(float(pt.x), float(pt.y))

    def distance_m(self, zone_id: str, lat: float, lon: float) -> float | None:
        """Metres from the point to the zone (0 inside it); None for an unknown zone."""
        geom = self._geoms.get(zone_id)
        if geom is None:
            return None
        return float(geom.distance(Point(*self.proj.xy(lat, lon))))

    @classmethod
    def from_geojson(cls, data: Any) -> ZoneMap:
        """Validate and index zones; raise ZoneError listing every problem found."""
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise ZoneError(["zones must be a GeoJSON FeatureCollection"])
        feats = data.get("features")
        if not isinstance(feats, list) or not feats:
            raise ZoneError(["zones FeatureCollection has no features"])
        problems: list[str] = []
        raw = _parse_features(feats, problems)
        if not raw and not problems:
            problems.append("no zones")
        lats = [p[1] for _, _, g in raw for p in _first_ring(g)]
        proj = Projection(sum(lats) / len(lats) if lats else 0.0)
        infos: dict[str, ZoneInfo] = {}
        geoms: dict[str, Any] = {}
        for i, props, geom in raw:
            zid = props["id"]
            label = f"feature {i} ({zid})"
            if zid in infos:
                problems.append(f"{label}: duplicate zone id")
                continue
            g = shapely.transform(shape(geom), lambda a: a * [proj.kx, proj.ky])
            if not g.is_valid:
                problems.append(f"{label}: invalid polygon: {explain_validity(g)}")
                continue
            if g.area <= 0:
                problems.append(f"{label}: polygon has no area")
                continue
            centre, station = props.get("centre"), props.get("station")
            infos[zid] = ZoneInfo(
                zid,
                props.get("kind", "patrol"),
                str(props.get("name") or zid),
                centre if isinstance(centre, str) else None,
                round(g.area / 1e6, 4),
                station if isinstance(station, str) else None,
            )
            geoms[zid] = g
        for kind in KINDS:
            ids = [z for z in infos if infos[z].kind == kind]
            if len(ids) < 2:
                continue
            tree = STRtree([geoms[z] for z in ids])
            for a_idx, b_idx in zip(
                *tree.query([geoms[z] for z in ids], predicate="intersects"), strict=True
            ):
                if a_idx >= b_idx:
                    continue
                a, b = ids[int(a_idx)], ids[int(b_idx)]
                overlap = geoms[a].intersection(geoms[b]).area
                if overlap > OVERLAP_TOLERANCE_M2:
                    problems.append(
                        f"{kind} zones {a} and {b} overlap by {overlap:,.0f} m²: a point "
                        "there would belong to two zones"
                    )
        if problems:
            raise ZoneError(problems)
        zmap = cls(_with_centres(infos, geoms), geoms, proj, data)
        if zmap.hierarchy_problems:
            raise ZoneError(zmap.hierarchy_problems)
        return zmap


def _with_centres(infos: dict[str, ZoneInfo], geoms: dict[str, Any]) -> dict[str, ZoneInfo]:
    """A patrol zone or station that names no parent gets the centre area its centroid
    lies in (older files drew centres as polygons over the zones)."""
    centres = [z for z in infos.values() if z.kind == "centre"]
    out = dict(infos)
    for z in infos.values():
        if z.kind == "centre" or z.centre is not None or z.station is not None or not centres:
            continue
        mid = geoms[z.id].representative_point()
        inside = sorted(c.id for c in centres if geoms[c.id].contains(mid))
        if inside:
            out[z.id] = ZoneInfo(z.id, z.kind, z.name, inside[0], z.area_km2, None)
    return out


def _first_ring(geom: dict[str, Any]) -> list[Any]:
    c = geom["coordinates"]
    return c[0] if geom["type"] == "Polygon" else c[0][0]


def _parse_features(
    feats: list[Any], problems: list[str]
) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """The features with a valid id, kind and rings (the others reported in ``problems``)."""
    raw: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for i, f in enumerate(feats):
        props = f.get("properties") if isinstance(f, dict) else None
        geom = f.get("geometry") if isinstance(f, dict) else None
        if not isinstance(props, dict) or not isinstance(geom, dict):
            problems.append(f"feature {i}: needs properties and geometry objects")
            continue
        zid = props.get("id")
        label = f"feature {i} ({zid})"
        if not isinstance(zid, str) or not is_valid_id(zid):
            problems.append(f"feature {i}: properties.id {zid!r} is not a valid id")
            continue
        if props.get("kind", "patrol") not in KINDS:
            problems.append(f"{label}: kind {props.get('kind')!r} is not patrol/station/centre")
            continue
        bad = _check_rings(geom)
        if bad:
            problems.append(f"{label}: {bad}")
            continue
        raw.append((i, props, geom))
    return raw
