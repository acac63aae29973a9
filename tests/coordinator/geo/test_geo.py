"""Zones and road network: literal inputs, every bad input the issue lists, and an
independent networkx oracle for travel times on the synthetic city."""

from __future__ import annotations

import math
import random

import networkx as nx
import pytest

from coordinator.geo.project import haversine_m
from coordinator.geo.road_graph import (
    DETOUR_FACTOR,
    FALLBACK_KMH,
    RoadNetworkError,
    fallback_estimate_s,
)
from coordinator.geo.roads import RoadNetwork
from coordinator.geo.zones import ZoneError, ZoneMap
from devtools.synthetic_city import CitySpec, generate

D = 0.001  # ~100 m of latitude


def way(coords, **props):
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def square(zid, x0, y0, size=0.01, kind="patrol"):
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {
        "type": "Feature",
        "properties": {"id": zid, "kind": kind},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


# --- roads ---------------------------------------------------------------------------
def test_one_way_street_binds_cars_but_not_pedestrians():
    # A -> B one-way (eastbound) residential; car from B to A has no road path.
    net = RoadNetwork.from_geojson(
        fc(
            way([[120.0, 29.0], [120.0 + D, 29.0]], highway="residential", oneway="yes"),
            way([[120.0 + D, 29.0], [120.0 + D, 29.0 + D]], highway="residential"),
            way([[120.0 + D, 29.0 + D], [120.0, 29.0 + D], [120.0, 29.0]], highway="residential"),
        )
    )
    a, b = (29.0, 120.0), (29.0, 120.0 + D)
    car_ab = net.reach(*b, "car").route_from(*a)
    car_ba = net.reach(*a, "car").route_from(*b)
    foot_ba = net.reach(*a, "foot").route_from(*b)
    assert car_ab.method == car_ba.method == "road"
    # Westbound the car must go round the block (3 sides), eastbound it goes straight.
    side = haversine_m(29.0, 120.0, 29.0 + D, 120.0)
    assert car_ba.distance_m == pytest.approx(car_ab.distance_m + 2 * side, rel=0.01)
    assert foot_ba.distance_m == pytest.approx(car_ab.distance_m, rel=0.01)
    assert car_ab.eta_s == pytest.approx(car_ab.distance_m / (25 / 3.6), rel=0.01)


def test_mid_block_positions_respect_one_way_direction():
    # Unit halfway along the eastbound one-way A->B; the incident is at A, behind it.
    net = RoadNetwork.from_geojson(
        fc(
            way([[120.0, 29.0], [120.0 + D, 29.0]], highway="residential", oneway="yes"),
            way([[120.0 + D, 29.0], [120.0 + D, 29.0 + D]], highway="residential"),
            way([[120.0 + D, 29.0 + D], [120.0, 29.0 + D], [120.0, 29.0]], highway="residential"),
        )
    )
    east = haversine_m(29.0, 120.0, 29.0, 120.0 + D)
    side = haversine_m(29.0, 120.0, 29.0 + D, 120.0)
    car = net.reach(29.0, 120.0, "car").route_from(29.0, 120.0 + D / 2)
    foot = net.reach(29.0, 120.0, "foot").route_from(29.0, 120.0 + D / 2)
    assert car.distance_m == pytest.approx(east / 2 + 2 * side + east, rel=0.01)
    assert foot.distance_m == pytest.approx(east / 2, rel=0.01)


def test_parallel_ways_keep_the_fastest_and_maxspeed_is_used():
    seg = [[120.0, 29.0], [120.0 + D, 29.0]]
    net = RoadNetwork.from_geojson(
        fc(way(seg, highway="residential"), way(seg, highway="primary", maxspeed="60"))
    )
    r = net.reach(29.0, 120.0 + D, "car").route_from(29.0, 120.0)
    assert r.eta_s == pytest.approx(r.distance_m / (60 / 3.6), rel=0.01)


@pytest.mark.parametrize(
    ("feature", "reason"),
    [
        (way([[120.0, 29.0]]), "at least 2 positions"),
        (way([[120.0, 29.0], [500.0, 29.0]]), "not [lon, lat] in range"),
        (way([[120.0, 29.0], [120.1, 29.0]], oneway="sometimes"), "oneway"),
        (way([[120.0, 29.0], [120.1, 29.0]], maxspeed="fast"), "maxspeed"),
        (
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [1, 2]},
            },
            "LineString",
        ),
    ],
)
def test_bad_ways_are_skipped_with_their_reason(feature, reason):
    good = way([[120.0, 29.0], [120.0 + D, 29.0]], highway="residential")
    net = RoadNetwork.from_geojson(fc(good, feature))
    assert net.report.ways == 1
    assert reason in net.report.skipped[0] and net.report.skipped[0].startswith("feature 1")


@pytest.mark.parametrize("data", [None, [], {"type": "Feature"}, fc(), fc(way([[120.0, 29.0]]))])
def test_unusable_road_files_are_refused(data):
    with pytest.raises(RoadNetworkError):
        RoadNetwork.from_geojson(data)


def _block(x0):
    pts = [[x0, 29.0], [x0 + D, 29.0], [x0 + D, 29.0 + D], [x0, 29.0 + D], [x0, 29.0]]
    return way(pts, highway="residential")


def test_disconnected_road_graph_is_refused_with_its_share():
    # Three separate blocks: the largest connected part holds only a third of the nodes.
    with pytest.raises(RoadNetworkError, match="disconnected.*33%"):
        RoadNetwork.from_geojson(fc(_block(120.0), _block(120.01), _block(120.02)))


def test_island_is_reported_and_points_on_it_fall_back_to_an_estimate():
    big = generate(CitySpec(cols=6, rows=6, bridges=5)).roads["features"]
    island = _block(120.3)  # ~30 km east: an island road, far off the main network
    net = RoadNetwork.from_geojson(fc(*big, island))
    assert net.report.components["car"] >= 2
    assert net.report.main_component_share["car"] < 1.0
    target = (29.0 + D / 2, 120.3)  # on the island
    r = net.reach(*target, "car").route_from(29.281, 120.021)
    assert r.method == "estimate" and "off the road network" in (r.note or "")
    straight = haversine_m(29.281, 120.021, *target)
    assert r.eta_s == pytest.approx(straight * DETOUR_FACTOR / (FALLBACK_KMH["car"] / 3.6))


def test_fallback_estimate_is_straight_line_times_detour_over_speed():
    assert fallback_estimate_s(1000.0, "foot") == pytest.approx(1000 * 1.4 / (5 / 3.6))


def _oracle(roads, mode):
    """Independent graph from the same GeoJSON: networkx, one edge per way segment."""
    from coordinator.geo.road_graph import CLASS_KMH, FORBIDDEN, MODE_MAX_KMH

    g = nx.DiGraph()
    for f in roads["features"]:
        p = f["properties"]
        cls = p.get("highway", "unclassified")
        if cls in FORBIDDEN[mode]:
            continue
        v = min(CLASS_KMH[cls], MODE_MAX_KMH[mode]) / 3.6
        ow = {"yes": 1, "-1": -1}.get(p.get("oneway"), 0) if mode != "foot" else 0
        c = [(round(x, 7), round(y, 7)) for x, y in f["geometry"]["coordinates"]]
        for a, b in zip(c, c[1:], strict=False):
            m = haversine_m(a[1], a[0], b[1], b[0])
            if ow >= 0:
                g.add_edge(a, b, w=m / v)
            if ow <= 0:
                g.add_edge(b, a, w=m / v)
    return g


@pytest.mark.parametrize("mode", ["car", "foot", "ebike"])
def test_travel_times_match_an_independent_networkx_oracle(mode):
    city = generate(CitySpec(cols=14, rows=14, bridges=2, arterial_every=5))
    net = RoadNetwork.from_geojson(city.roads)
    g = _oracle(city.roads, mode)
    rng = random.Random(3)
    for _ in range(15):
        src = (rng.randrange(14), rng.randrange(14))
        dst = (rng.randrange(14), rng.randrange(14))
        (la, lo), (lb, lob) = city.latlon(*src), city.latlon(*dst)
        ours = net.reach(lb, lob, mode).route_from(la, lo)
        truth = nx.dijkstra_path_length(
            g, (round(lo, 7), round(la, 7)), (round(lob, 7), round(lb, 7)), weight="w"
        )
        assert ours.method == "road"
        assert math.isclose(ours.eta_s, truth, rel_tol=0.005, abs_tol=0.5), (src, dst)


def test_river_makes_straight_line_mislead():
    city = generate(CitySpec(cols=20, rows=20, bridges=1))
    net = RoadNetwork.from_geojson(city.roads)
    col = next(c for c in range(20) if abs(c - city.bridge_cols[0]) > 6)
    south, north = city.latlon(col, city.river_row), city.latlon(col, city.river_row + 1)
    r = net.reach(*north, "car").route_from(*south)
    # One block apart as the crow flies, but the trip goes via the bridge.
    assert r.distance_m > 8 * haversine_m(*south, *north)


# --- zones ---------------------------------------------------------------------------
def test_synthetic_zones_load_and_look_up():
    city = generate()
    zones = ZoneMap.from_geojson(city.zones)
    assert len(zones.patrol_zones()) == 16
    assert zones.zone_of(*city.latlon(0, 0)) == "Z001"
    assert zones.centre_of(*city.latlon(39, 0)) == "C02"
    assert zones.zone_of(*city.latlon(200, 200)) is None  # incident outside every zone


BOWTIE = {
    "type": "Feature",
    "properties": {"id": "Z9"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [[120.0, 29.0], [120.01, 29.01], [120.01, 29.0], [120.0, 29.01], [120.0, 29.0]]
        ],
    },
}


@pytest.mark.parametrize(
    ("features", "reason"),
    [
        ([BOWTIE], "Self-intersection"),
        ([square("Z1", 120.0, 29.0), square("Z2", 120.005, 29.005)], "Z1 and Z2 overlap"),
        ([square("Z1", 120.0, 29.0), square("Z1", 120.02, 29.0)], "duplicate zone id"),
        ([{**square("Z1", 120.0, 29.0), "properties": {"id": "Z1", "kind": "park"}}], "kind"),
        ([{**square("Z1", 120.0, 29.0), "properties": {"id": "bad id!"}}], "not a valid id"),
        (
            [
                {
                    "type": "Feature",
                    "properties": {"id": "Z1"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[120.0, 29.0], [120.1, 29.0], [120.1, 29.1], [120.0, 29.1]]
                        ],
                    },
                }
            ],
            "not closed",
        ),
        (
            [
                {
                    "type": "Feature",
                    "properties": {"id": "Z1"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[120.0, 29.0], [120.1, 29.0], [120.0, 29.0]]],
                    },
                }
            ],
            "at least 4 positions",
        ),
        (
            [
                {
                    "type": "Feature",
                    "properties": {"id": "Z1"},
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[120.0, 29.0], [120.1, 29.0]],
                    },
                }
            ],
            "Polygon",
        ),
        (
            [
                {
                    "type": "Feature",
                    "properties": {"id": "Z1"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[120.0, 29.0], [120.0, 95.0], [120.1, 29.0], [120.0, 29.0]]
                        ],
                    },
                }
            ],
            "in range",
        ),
    ],
)
def test_bad_zones_are_refused_naming_feature_and_reason(features, reason):
    with pytest.raises(ZoneError) as err:
        ZoneMap.from_geojson(fc(*features))
    assert any(reason in p for p in err.value.problems), err.value.problems


def test_touching_zones_and_zones_inside_centre_areas_are_fine():
    zones = ZoneMap.from_geojson(
        fc(
            square("Z1", 120.0, 29.0),
            square("Z2", 120.01, 29.0),
            square("C1", 119.99, 28.99, 0.05, kind="centre"),
        )
    )
    assert zones.zone_of(29.005, 120.015) == "Z2"
    assert zones.zone_of(29.005, 120.01) == "Z1"  # on the shared border: lowest id wins
    assert zones.centre_of(29.005, 120.015) == "C1"
