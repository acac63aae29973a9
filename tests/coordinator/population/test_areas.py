"""Population on the one area hierarchy: an officer's jurisdiction may name a police-station
area or a monitoring centre (standing for its patrol zones), and statistics roll persons up
to stations and centres, small cells hidden after the sum."""

from __future__ import annotations

import pytest

from coordinator.errors import Forbidden
from devtools.synthetic_city import SMALL, generate
from tests.harness.population import officer, person_data


@pytest.fixture
def loaded(services):
    """The small city's hierarchy: C01 = S001 (Z001, Z002) + S003 (Z005, Z006)."""
    services.geo.load_zones(generate(SMALL).zones)
    return services.population


def test_a_station_on_the_account_stands_for_its_patrol_zones(loaded):
    station_officer = officer("officer-s1", ("S001",))
    pop = loaded
    made = pop.records.create_person(station_officer, person_data(1, zone="Z002"), "intake")
    pid = made["person"]["id"]
    assert pop.records.get_person(station_officer, pid, "case")["zone"] == "Z002"
    with pytest.raises(Forbidden):
        pop.records.create_person(station_officer, person_data(2, zone="Z003"), "intake")
    centre_officer = officer("officer-c1", ("C01",))
    assert pop.access.zones(centre_officer) >= {"C01", "Z001", "Z002", "Z005", "Z006"}
    assert "Z003" not in pop.access.zones(centre_officer)


def test_without_zones_loaded_an_area_id_is_just_an_id(services):
    pop = services.population
    assert pop.access.zones(officer("o", ("S001",))) == {"S001"}


def test_statistics_roll_zones_up_to_stations_and_centres(loaded):
    pop = loaded
    admin = officer("officer-all", ("C01", "C02"))
    for n, zone in enumerate(["Z001"] * 3 + ["Z002"] * 3 + ["Z003"] * 2):
        pop.records.create_person(admin, person_data(n, zone=zone), "intake")
    out = pop.stats.summary(admin, ["zone", "station", "centre"])
    # zones of 3 and 2 are hidden; their sum at the station (6) and centre is not
    assert out["zone"] == {"Z001": "<5", "Z002": "<5", "Z003": "<5"}
    assert out["station"] == {"S001": 6, "S002": "<5"}
    assert out["centre"] == {"C01": 6, "C02": "<5"}


def test_an_area_sum_that_would_reveal_a_hidden_zone_is_suppressed(loaded):
    pop = loaded
    admin = officer("officer-all", ("C01", "C02"))
    # Z001 shows 7; Z002's 2 is hidden, but S001 = 9 would give it away (9 - 7)
    for n, zone in enumerate(["Z001"] * 7 + ["Z002"] * 2 + ["Z005"] * 6):
        pop.records.create_person(admin, person_data(n, zone=zone), "intake")
    out = pop.stats.summary(admin, ["zone", "station", "centre"])
    assert out["zone"] == {"Z001": 7, "Z005": 6, "Z002": "<5"}
    assert out["station"] == {"S001": "suppressed", "S003": 6}
    # C01 = S001 + S003 would give S001 back (15 - 6): suppressed as well
    assert out["centre"] == {"C01": "suppressed"}
