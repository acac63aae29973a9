"""Addresses from the road network: the nearest named street to a point, and the patrol
zone, as an operator would say where something is ("宾王北路, 龙庄派出所第1巡区").

Pure: an index of the road GeoJSON's named LineStrings in local metres (shapely's STRtree),
built once per roads load; a lookup costs one nearest-neighbour query.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import LineString, Point
from shapely.strtree import STRtree

from .project import Projection

#: Farther than this from every named street, a point has no street in its address.
MAX_STREET_M = 150.0


class Streets:
    """Named streets with nearest lookup; build with :meth:`from_geojson`."""

    def __init__(self, names: list[str], lines: list[Any], proj: Projection) -> None:
        self.names = names
        self.proj = proj
        self._lines = lines
        self._tree = STRtree(lines) if lines else None

    @classmethod
    def from_geojson(cls, data: Any) -> Streets:
        """Index every LineString with a non-empty ``name`` (others are skipped)."""
        feats = data.get("features", []) if isinstance(data, dict) else []
        named: list[tuple[str, list[Any]]] = []
        for f in feats:
            props = f.get("properties") or {} if isinstance(f, dict) else {}
            geom = f.get("geometry") or {} if isinstance(f, dict) else {}
            name = props.get("name") if isinstance(props, dict) else None
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            if geom.get("type") != "LineString" or not isinstance(name, str) or not name.strip():
                continue
            if isinstance(coords, list) and len(coords) >= 2:
                named.append((name.strip()[:60], coords))
        lats = [c[1] for _, cs in named for c in cs[:1]]
        proj = Projection(sum(lats) / len(lats) if lats else 0.0)
        lines = [
            shapely.transform(LineString([c[:2] for c in cs]), lambda a: a * [proj.kx, proj.ky])
            for _, cs in named
        ]
        return cls([n for n, _ in named], lines, proj)

    def nearest(self, lat: float, lon: float) -> tuple[str, float] | None:
        """The nearest named street and its distance in metres (None beyond MAX_STREET_M)."""
        if self._tree is None:
            return None
        pt = Point(*self.proj.xy(lat, lon))
        i = int(self._tree.nearest(pt))
        d = float(self._lines[i].distance(pt))
        return (self.names[i], d) if d <= MAX_STREET_M else None


def address(street: str | None, zone_name: str | None) -> str | None:
    """How an operator reads a place: street, then patrol zone (either may be missing)."""
    parts = [p for p in (street, zone_name) if p]
    return ", ".join(parts) or None
