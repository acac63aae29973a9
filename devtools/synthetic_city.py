"""A synthetic city where straight lines mislead: a street grid cut by a river with few
bridges, alternating one-way streets, faster arterials, and rectangular patrol zones.

Used by tests, ``bench/dispatch.py`` and the demo; deterministic for a given seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

ORIGIN = (29.28, 120.02)  # south-west corner, near Yiwu
M_PER_DEG_LAT = 111_195.0


@dataclass(frozen=True)
class CitySpec:
    """Shape of a synthetic city."""

    cols: int = 40  # north-south streets
    rows: int = 40  # east-west streets
    spacing_m: float = 120.0
    river_row: int | None = None  # river between this row and the next (default: middle)
    bridges: int = 3
    arterial_every: int = 8
    zones_x: int = 4
    zones_y: int = 4
    centres: int = 2


@dataclass
class City:
    """The generated layers plus helpers to place points in them."""

    spec: CitySpec
    roads: dict[str, Any]
    zones: dict[str, Any]
    bridge_cols: list[int]
    river_row: int

    def latlon(self, col: float, row: float) -> tuple[float, float]:
        """(lat, lon) of a grid coordinate (fractions allowed)."""
        lat0, lon0 = ORIGIN
        dlat = self.spec.spacing_m / M_PER_DEG_LAT
        dlon = dlat / math.cos(math.radians(lat0))
        return lat0 + row * dlat, lon0 + col * dlon

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        """A random point on a street (on a grid line), never in the river."""
        while True:
            col: float
            row: float
            if rng.random() < 0.5:
                col, row = rng.randrange(self.spec.cols), rng.uniform(0, self.spec.rows - 1)
            else:
                col, row = rng.uniform(0, self.spec.cols - 1), rng.randrange(self.spec.rows)
            if not (self.river_row < row < self.river_row + 1):
                return self.latlon(col, row)


def _line(props: dict[str, Any], pts: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in pts]},
    }


def generate(spec: CitySpec | None = None, seed: int = 7) -> City:
    """Generate roads and zones as GeoJSON FeatureCollections."""
    spec = spec or CitySpec()
    rng = random.Random(seed)
    river = spec.river_row if spec.river_row is not None else spec.rows // 2 - 1
    step = max(1, spec.cols // (spec.bridges + 1))
    bridges = sorted(
        {min(spec.cols - 1, step * (i + 1) + rng.randint(-1, 1)) for i in range(spec.bridges)}
    )
    city = City(spec, {}, {}, bridges, river)
    feats: list[dict[str, Any]] = []
    for r in range(spec.rows):
        arterial = r % spec.arterial_every == 0
        props: dict[str, Any] = {"highway": "primary" if arterial else "residential"}
        if not arterial:
            props["oneway"] = "yes" if r % 2 else "-1"  # alternate east/west-bound
        feats.append(_line(props, [city.latlon(c, r) for c in range(spec.cols)]))
    for c in range(spec.cols):
        arterial = c % spec.arterial_every == 0
        props = {"highway": "secondary" if arterial else "residential"}
        if not arterial and c % 3 == 1 and c not in bridges:  # bridges carry both ways
            props["oneway"] = "yes" if c % 2 else "-1"
        south = [city.latlon(c, r) for r in range(river + 1)]
        north = [city.latlon(c, r) for r in range(river + 1, spec.rows)]
        if c in bridges:
            feats.append(_line(dict(props), south + north[:1]))
            feats[-1]["properties"]["bridge"] = "yes"
            feats.append(_line(dict(props), north))
        else:
            feats.append(_line(dict(props), south))
            feats.append(_line(dict(props), north))
    city.roads = {"type": "FeatureCollection", "features": feats}
    city.zones = zones_for(city)
    return city


def _rect(city: City, c0: float, r0: float, c1: float, r1: float) -> list[list[list[float]]]:
    corners = [
        city.latlon(c0, r0),
        city.latlon(c1, r0),
        city.latlon(c1, r1),
        city.latlon(c0, r1),
        city.latlon(c0, r0),
    ]
    return [[[lon, lat] for lat, lon in corners]]


def zones_for(city: City) -> dict[str, Any]:
    """Rectangular patrol zones tiling the city, and monitoring-centre areas over them."""
    s = city.spec
    w, h = (s.cols - 1) / s.zones_x, (s.rows - 1) / s.zones_y
    pad = 0.5  # zones reach half a block past the outer streets
    feats = []
    for j in range(s.zones_y):
        for i in range(s.zones_x):
            c0 = -pad if i == 0 else i * w
            c1 = s.cols - 1 + pad if i == s.zones_x - 1 else (i + 1) * w
            r0 = -pad if j == 0 else j * h
            r1 = s.rows - 1 + pad if j == s.zones_y - 1 else (j + 1) * h
            centre = f"C{min(s.centres - 1, i * s.centres // s.zones_x) + 1:02d}"
            feats.append(
                {
                    "type": "Feature",
                    "properties": {
                        "id": f"Z{j * s.zones_x + i + 1:03d}",
                        "kind": "patrol",
                        "name": f"Patrol zone {j * s.zones_x + i + 1}",
                        "centre": centre,
                    },
                    "geometry": {"type": "Polygon", "coordinates": _rect(city, c0, r0, c1, r1)},
                }
            )
    cw = (s.cols - 1 + 2 * pad) / s.centres
    for k in range(s.centres):
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "id": f"C{k + 1:02d}",
                    "kind": "centre",
                    "name": f"Monitoring centre {k + 1}",
                },
                "geometry": {
                    "type": "Polygon",
                    "coordinates": _rect(
                        city, -pad + k * cw, -pad, -pad + (k + 1) * cw, s.rows - 1 + pad
                    ),
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}
