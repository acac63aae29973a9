"""Property tests for everything dispatch reads from the network or the API: arbitrary
bytes on the position/ack topics and arbitrary GeoJSON never raise past their handlers
and never change state."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.geo.road_graph import RoadNetworkError
from coordinator.geo.roads import RoadNetwork
from coordinator.geo.zones import ZoneError, ZoneMap
from protocol import Channel, ParsedTopic
from tests.harness.dispatch import RecordingPublisher, place

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
features = st.fixed_dictionaries(
    {
        "type": st.just("Feature"),
        "properties": st.dictionaries(
            st.sampled_from(["id", "kind", "highway", "oneway", "maxspeed", "name"]),
            json_values,
            max_size=4,
        ),
        "geometry": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Polygon", "LineString", "MultiPolygon", "Point"]),
                "coordinates": json_values,
            }
        )
        | json_values,
    }
)
collections = (
    st.fixed_dictionaries(
        {"type": st.just("FeatureCollection"), "features": st.lists(features, max_size=4)}
    )
    | json_values
)


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


@pytest.fixture
def loaded(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    inc = svc.local_incidents.create(lat=city.latlon(5, 3)[0], lon=city.latlon(5, 3)[1])
    order = svc.dispatch(inc["id"])
    return svc, order


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=st.binary(max_size=300) | json_values.map(lambda v: repr(v).encode()))
def test_arbitrary_bytes_on_unit_topics_never_raise_nor_change_state(loaded, payload):
    svc, order = loaded
    before = (svc.order(order["id"]), svc.units.get("u1").row())
    svc.handle_ack(ParsedTopic("unit", "u1", Channel.ACK), payload)
    svc.handle_position(ParsedTopic("unit", "u1", Channel.POSITION), payload)
    assert (svc.order(order["id"]), svc.units.get("u1").row()) == before
