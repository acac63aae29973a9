"""Patrol zones and monitoring-centre areas: GeoJSON polygons, validated, with lookup.

A FeatureCollection of Polygon/MultiPolygon features with ``properties.id`` (a protocol
id), ``properties.kind`` (``patrol`` or ``centre``), optional ``name`` and, for patrol
zones, the ``centre`` that watches them. Validation is strict (a dispatcher must never
get a wrong zone silently): rings closed with >= 4 positions, coordinates in range, no
self-intersection (shapely's validity check names the point), unique ids, and no two
patrol zones (or two centre areas) overlapping by more than a sliver.
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
from .project import Projection

KINDS = ("patrol", "centre")
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
                problems.append(f"{label}: kind {props.get('kind')!r} is not patrol/centre")
                continue
            bad = _check_rings(geom)
            if bad:
                problems.append(f"{label}: {bad}")
                continue
            raw.append((i, props, geom))
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
            kind = props.get("kind", "patrol")
            centre = props.get("centre")
            infos[zid] = ZoneInfo(
                zid,
                kind,
                str(props.get("name") or zid),
                centre if isinstance(centre, str) else None,
                round(g.area / 1e6, 4),
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
        return cls(infos, geoms, proj, data)


def _first_ring(geom: dict[str, Any]) -> list[Any]:
    c = geom["coordinates"]
    return c[0] if geom["type"] == "Polygon" else c[0][0]
