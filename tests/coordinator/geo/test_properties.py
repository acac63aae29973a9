"""Property tests for the geography loaders: arbitrary GeoJSON is loaded or refused with
the domain's error, never anything else."""

from __future__ import annotations

from hypothesis import example, given, settings

from coordinator.geo.road_graph import RoadNetworkError
from coordinator.geo.roads import RoadNetwork
from coordinator.geo.zones import ZoneError, ZoneMap
from tests.harness.strategies import collections


@settings(max_examples=150, deadline=None)
@given(collections)
@example(  # an empty MultiPolygon once reached the ring lookup and raised IndexError
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "0"},
                "geometry": {"type": "MultiPolygon", "coordinates": []},
            }
        ],
    }
)
def test_any_geojson_is_loaded_or_refused_with_the_domain_error(data):
    for loader, error in (
        (RoadNetwork.from_geojson, RoadNetworkError),
        (ZoneMap.from_geojson, ZoneError),
    ):
        try:
            loader(data)
        except error as exc:
            assert str(exc)
