"""Property tests for what dispatch reads from the network: arbitrary bytes on the
position/ack topics never raise past their handlers and never change state."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import Channel, ParsedTopic
from tests.harness.dispatch import RecordingPublisher, place
from tests.harness.strategies import json_values


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
