"""Property tests for the geography loaders: arbitrary GeoJSON is loaded or refused with
the domain's error, never anything else."""

from __future__ import annotations

from hypothesis import given, settings

from coordinator.geo.road_graph import RoadNetworkError
from coordinator.geo.roads import RoadNetwork
from coordinator.geo.zones import ZoneError, ZoneMap
from tests.harness.strategies import collections


@settings(max_examples=150, deadline=None)
@given(collections)
def test_any_geojson_is_loaded_or_refused_with_the_domain_error(data):
    for loader, error in (
        (RoadNetwork.from_geojson, RoadNetworkError),
        (ZoneMap.from_geojson, ZoneError),
    ):
        try:
            loader(data)
        except error as exc:
            assert str(exc)
