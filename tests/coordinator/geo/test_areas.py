"""The one area hierarchy (city → centre → station → patrol zone): literal zones, the
inconsistencies a zones file can hold, and the synthetic cities' shapes."""

from __future__ import annotations

import pytest

from coordinator.geo.address import Streets, address
from coordinator.geo.areas import build
from coordinator.geo.zones import ZoneError, ZoneInfo, ZoneMap
from devtools.synthetic_city import SMALL, YIWU, CitySpec, generate


def z(zid, kind, centre=None, station=None, area=1.0):
    return ZoneInfo(zid, kind, zid.lower(), centre, area, station)


LITERAL = [
    z("C1", "centre", area=4.0),
    z("C2", "centre", area=2.0),
    z("S1", "station", "C1"),
    z("S2", "station", "C2"),
    z("Z1", "patrol", station="S1"),
    z("Z2", "patrol", "C1", "S1"),
    z("Z3", "patrol", station="S2"),
    z("Z4", "patrol", "C2"),  # two-level: directly under its centre
]


def test_parents_roll_up_through_stations_to_centres():
    h, problems = build(LITERAL)
    assert problems == []
    assert [h.centre_of(x) for x in ("Z1", "Z2", "Z3", "Z4", "S2", "C1")] == [
        "C1", "C1", "C2", "C2", "C2", "C1"
    ]  # fmt: skip
    assert h.station_of("Z1") == "S1" and h.station_of("Z4") is None
    assert h.centre_of("nowhere") is None and h.centre_of(None) is None
    assert h.zones_under(["C2"]) == {"Z3", "Z4"}
    assert h.zones_under(["S1", "Z3"]) == {"Z1", "Z2", "Z3"}
    assert h.centres() == ["C1", "C2"]


def test_roll_up_sums_zone_counts_to_centres_and_stations():
    h, _ = build(LITERAL)
    counts = {"Z1": 5, "Z2": 7, "Z3": 1, "Z4": 2, "Z9": 4}
    assert h.roll_up(counts, "centre") == {"C1": 12, "C2": 3, "-": 4}
    assert h.roll_up(counts, "station") == {"S1": 12, "S2": 1, "-": 6}


def test_tree_nests_city_centres_stations_zones():
    tree = build(LITERAL)[0].tree()
    assert tree["kind"] == "city" and tree["area_km2"] == 6.0
    c1 = tree["children"][0]
    assert c1["id"] == "C1" and [c["id"] for c in c1["children"]] == ["S1"]
    assert [c["id"] for c in c1["children"][0]["children"]] == ["Z1", "Z2"]


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (z("S9", "station", "C7"), "station S9: centre 'C7' is not a centre area"),
        (z("Z9", "patrol", station="S7"), "patrol zone Z9: station 'S7' is not a station"),
        (z("Z9", "patrol", "C2", "S1"), "names centre C2 but its station S1 belongs to centre C1"),
        (z("Z9", "patrol", "C7"), "patrol zone Z9: centre 'C7' is not a centre area"),
    ],
)
def test_an_inconsistent_hierarchy_is_named(bad, says):
    _, problems = build([*LITERAL, bad])
    assert len(problems) == 1 and says in problems[0]


def test_zone_map_refuses_a_file_whose_hierarchy_does_not_hold():
    city = generate(SMALL)
    zones = city.zones
    for f in zones["features"]:
        if f["properties"]["id"] == "Z001":
            f["properties"]["station"] = "S999"
    with pytest.raises(ZoneError) as err:
        ZoneMap.from_geojson(zones)
    assert "Z001: station 'S999'" in str(err.value)


def test_yiwu_city_has_fourteen_centres_and_over_a_hundred_zones():
    zm = ZoneMap.from_geojson(generate(YIWU).zones)
    h = zm.hierarchy
    assert len(h.centres()) == 14
    assert sum(1 for a in h.areas.values() if a.kind == "station") == 28
    patrol = [a for a in h.areas.values() if a.kind == "patrol"]
    assert len(patrol) >= 100 and all(h.centre_of(a.id) for a in patrol)
    # each centre's zones are those under it, and the centres tile the zones exactly
    assert sum(len(h.zones_under([c])) for c in h.centres()) == len(patrol)


def test_a_point_takes_its_centre_from_its_zone_and_station():
    city = generate(SMALL)
    zm = ZoneMap.from_geojson(city.zones)
    west, east = city.latlon(2, 2), city.latlon(27, 27)
    assert (zm.zone_of(*west), zm.station_for(*west), zm.centre_for(*west)) == (
        "Z001",
        "S001",
        "C01",
    )
    assert (zm.zone_of(*east), zm.station_for(*east), zm.centre_for(*east)) == (
        "Z008",
        "S004",
        "C02",
    )
    # a camera registered in zone Z001 counts for Z001's centre even on the border street
    assert zm.centre_for(*east, zone="Z001") == "C01"


def test_two_level_files_get_their_centre_from_the_centre_polygons():
    city = generate(CitySpec(cols=20, rows=20, zones_x=2, zones_y=2, centres=2))
    for f in city.zones["features"]:
        f["properties"].pop("centre", None)  # patrol zones name no centre at all
    zm = ZoneMap.from_geojson(city.zones)
    assert zm.hierarchy.centre_of("Z001") == "C01" and zm.hierarchy.centre_of("Z002") == "C02"


def test_streets_carry_generated_chinese_names_unique_per_street():
    roads = generate(SMALL).roads["features"]
    names = [f["properties"]["name"] for f in roads]
    assert all(n and all("\u4e00" <= ch <= "\u9fff" or ch.isdigit() for ch in n) for n in names)
    assert any(n.endswith("大道") for n in names) and any(n.endswith("北街") for n in names)
    # a street cut by the river keeps one place word: its south and north parts pair up
    assert sum(n.endswith(("南路", "南街")) for n in names) == sum(
        n.endswith(("北路", "北街")) for n in names
    )
    assert generate(SMALL).roads == generate(SMALL).roads  # deterministic


def test_the_nearest_named_street_within_reach_names_a_place():
    d = 0.001  # ~100 m of latitude
    line = lambda name, coords: {  # noqa: E731
        "type": "Feature", "properties": {"name": name} if name else {},
        "geometry": {"type": "LineString", "coordinates": coords},
    }  # fmt: skip
    streets = Streets.from_geojson(
        {
            "type": "FeatureCollection",
            "features": [
                line("宾湖路", [[120.0, 29.0], [120.01, 29.0]]),
                line("丹溪北街", [[120.0, 29.0 + 2 * d], [120.01, 29.0 + 2 * d]]),
                line(None, [[120.0, 29.0 + d], [120.01, 29.0 + d]]),  # unnamed: skipped
            ],
        }
    )
    assert streets.nearest(29.0 + 0.4 * d, 120.005)[0] == "宾湖路"
    assert streets.nearest(29.0 + 1.6 * d, 120.005)[0] == "丹溪北街"
    assert streets.nearest(29.0 + 5 * d, 120.005) is None  # ~300 m from any street
    assert address("宾湖路", "龙庄派出所第1巡区") == "宾湖路, 龙庄派出所第1巡区"
    assert address(None, "龙庄派出所第1巡区") == "龙庄派出所第1巡区"
    assert address(None, None) is None
