"""A synthetic city where straight lines mislead: a street grid cut by a river with few
bridges, alternating one-way streets, faster arterials, streets with generated Chinese names,
and the area hierarchy: monitoring centres over police-station areas over rectangular
patrol zones (or, in the older two-level shape, centres as strips over the zones).

Used by tests, ``bench/dispatch.py`` and the demo; deterministic for a given seed.
:data:`SMALL` is the tests' city, :data:`YIWU` the demo's (14 centres, 28 stations, 112
patrol zones on a 14 km x 9.6 km grid).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from . import synthetic_names as names

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
    centres: int = 2  # two-level shape only: centres as vertical strips
    #: Patrol zones per station area (x, y); set, the city has stations and
    #: ``centre_stations`` station areas per centre (``centres`` is then ignored).
    station_zones: tuple[int, int] | None = None
    centre_stations: tuple[int, int] = (1, 2)


#: The tests' city: 2 centres, 4 stations, 8 patrol zones on 30 x 30 streets.
SMALL = CitySpec(cols=30, rows=30, bridges=3, zones_x=4, zones_y=2, station_zones=(2, 1))
#: The demo's Yiwu-shaped city: 14 centres, 28 station areas, 112 patrol zones.
YIWU = CitySpec(
    cols=70, rows=48, spacing_m=200.0, bridges=6, zones_x=14, zones_y=8, station_zones=(2, 2)
)


@dataclass
class City:
    """The generated layers plus helpers to place points in them."""

    spec: CitySpec
    roads: dict[str, Any]
    zones: dict[str, Any]
    bridge_cols: list[int]
    river_row: int
    seed: int = 7

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
    city = City(spec, {}, {}, bridges, river, seed)
    namer = names.Namer(seed)
    feats: list[dict[str, Any]] = []
    for r in range(spec.rows):
        arterial = r % spec.arterial_every == 0
        props: dict[str, Any] = {"highway": "primary" if arterial else "residential"}
        props["name"] = names.street(namer.place(), props["highway"])
        if not arterial:
            props["oneway"] = "yes" if r % 2 else "-1"  # alternate east/west-bound
        feats.append(_line(props, [city.latlon(c, r) for c in range(spec.cols)]))
    for c in range(spec.cols):
        arterial = c % spec.arterial_every == 0
        props = {"highway": "secondary" if arterial else "residential"}
        if not arterial and c % 3 == 1 and c not in bridges:  # bridges carry both ways
            props["oneway"] = "yes" if c % 2 else "-1"
        place = namer.place()  # one street, cut by the river: its south and north parts
        south_p = {**props, "name": names.street(place, props["highway"], "南")}
        north_p = {**props, "name": names.street(place, props["highway"], "北")}
        south = [city.latlon(c, r) for r in range(river + 1)]
        north = [city.latlon(c, r) for r in range(river + 1, spec.rows)]
        if c in bridges:
            feats.append(_line(south_p, south + north[:1]))
            feats[-1]["properties"]["bridge"] = "yes"
            feats.append(_line(north_p, north))
        else:
            feats.append(_line(south_p, south))
            feats.append(_line(north_p, north))
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
    """Rectangular patrol zones tiling the city, and monitoring-centre areas over them
    (through police-station areas when the spec has them)."""
    s = city.spec
    if s.station_zones is not None:
        return _hierarchy_zones(city, s.station_zones, s.centre_stations)
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


def _feature(props: dict[str, Any], coords: list[list[list[float]]]) -> dict[str, Any]:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": coords}}  # fmt: skip


def _hierarchy_zones(
    city: City, per_station: tuple[int, int], per_centre: tuple[int, int]
) -> dict[str, Any]:
    """Patrol zones in blocks of ``per_station`` form station areas; station areas in
    blocks of ``per_centre`` form centres. Every level tiles the city with rectangles."""
    s = city.spec
    w, h = (s.cols - 1) / s.zones_x, (s.rows - 1) / s.zones_y
    pad = 0.5

    def edge(i: int, n: int, size: float, last: float) -> float:
        return -pad if i == 0 else (last + pad if i >= n else i * size)

    def rect(i0: int, j0: int, i1: int, j1: int) -> list[list[list[float]]]:
        xs = edge(i0, s.zones_x, w, s.cols - 1), edge(i1, s.zones_x, w, s.cols - 1)
        ys = edge(j0, s.zones_y, h, s.rows - 1), edge(j1, s.zones_y, h, s.rows - 1)
        return _rect(city, xs[0], ys[0], xs[1], ys[1])

    sx, sy = per_station
    cx, cy = per_centre
    nsx, nsy = -(-s.zones_x // sx), -(-s.zones_y // sy)  # station areas across, down
    ncx = -(-nsx // cx)
    namer = names.Namer(city.seed + 1)
    feats, station_place = [], {}
    for sj in range(nsy):
        for si in range(nsx):
            centre = (sj // cy) * ncx + si // cx + 1
            sid = f"S{sj * nsx + si + 1:03d}"
            station_place[sid] = place = namer.place()
            feats.append(_feature(
                {"id": sid, "kind": "station", "name": names.station_name(place),
                 "centre": f"C{centre:02d}"},
                rect(si * sx, sj * sy, min(s.zones_x, (si + 1) * sx), min(s.zones_y, (sj + 1) * sy)),
            ))  # fmt: skip
    for k in range(-(-nsy // cy) * ncx):
        ci, cj = k % ncx, k // ncx
        i0, j0 = ci * cx * sx, cj * cy * sy
        i1, j1 = min(s.zones_x, i0 + cx * sx), min(s.zones_y, j0 + cy * sy)
        feats.append(_feature(
            {"id": f"C{k + 1:02d}", "kind": "centre", "name": names.centre_name(namer.place())},
            rect(i0, j0, i1, j1),
        ))  # fmt: skip
    counts: dict[str, int] = {}
    for j in range(s.zones_y):
        for i in range(s.zones_x):
            sid = f"S{(j // sy) * nsx + i // sx + 1:03d}"
            counts[sid] = counts.get(sid, 0) + 1
            feats.append(_feature(
                {"id": f"Z{j * s.zones_x + i + 1:03d}", "kind": "patrol", "station": sid,
                 "name": names.zone_name(station_place[sid], counts[sid])},
                rect(i, j, i + 1, j + 1),
            ))  # fmt: skip
    return {"type": "FeatureCollection", "features": feats}
