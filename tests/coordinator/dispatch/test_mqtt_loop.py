"""The order/ack loop over a real Mosquitto: the centre's dispatch service on one MQTT
connection, the unit simulator on another; positions, orders and acks all on the wire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.paho_link import PahoLink
from devtools.unit_simulator import SimUnit, UnitSimulator
from protocol import Channel, Topics
from tests.harness.mqtt import wait_for


@pytest.fixture
def links(broker) -> Iterator[tuple[PahoLink, PahoLink]]:
    centre = PahoLink("127.0.0.1", broker.ports[0], "coordinator-dispatch").start()
    units = PahoLink("127.0.0.1", broker.ports[0], "unit-sim").start()
    yield centre, units
    units.stop()
    centre.stop()


def wire(svc, centre: PahoLink) -> None:
    svc.attach_publisher(centre)
    for channel, handler in svc.handlers().items():
        centre.add_handler(channel, handler)


def test_order_ack_loop_moves_unit_and_incident(make_dispatch, city, links):
    centre, unit_link = links
    svc = make_dispatch(ack_timeout_s=10)
    wire(svc, centre)
    lat, lon = city.latlon(2, 2)
    svc.units.upsert(
        {
            "id": "car-1",
            "call_sign": "C1",
            "mode": "car",
            "home_zone": "Z001",
            "shift": "day",
            "status": "available",
        }
    )
    sim = UnitSimulator(
        svc.geo.roads, [SimUnit("car-1", "car", lat, lon)], unit_link, on_scene_hold_s=30
    ).start()
    sim.report_positions()
    wait_for(lambda: svc.units.get("car-1").lat is not None, 10, "position over MQTT")
    ilat, ilon = city.latlon(8, 4)
    inc = svc.local_incidents.create(lat=ilat, lon=ilon)
    order = svc.dispatch(inc["id"])
    wait_for(lambda: svc.order(order["id"])["status"] == "en_route", 10, "accepted + en_route")
    # The order row commits before the incident transition: wait for the latter too.
    wait_for(lambda: svc.incidents.get(inc["id"])["status"] == "en_route", 10, "incident")
    assert svc.units.get("car-1").status == "en_route"
    # The simulated unit drives the road network: its reported position approaches.
    start_d = abs(sim.units["car-1"].lon - ilon) + abs(sim.units["car-1"].lat - ilat)
    sim.step(order["eta_s"] / 2)
    sim.report_positions()
    wait_for(lambda: svc.units.get("car-1").lon != lon, 10, "moving position")
    mid = svc.units.get("car-1")
    assert abs(mid.lon - ilon) + abs(mid.lat - ilat) < start_d
    for _ in range(int(order["eta_s"]) + 2):
        if sim.step(1.0):
            break
    wait_for(lambda: svc.incidents.get(inc["id"])["status"] == "on_scene", 10, "on scene")
    # Simulated travel time equals the ETA the centre computed (same network, same speed).
    assert sim.units["car-1"].travel_s[0] == pytest.approx(order["eta_s"], abs=2.0)
    sim.step(31)
    wait_for(lambda: svc.incidents.get(inc["id"])["status"] == "resolved", 10, "cleared")
    assert svc.units.get("car-1").status == "available"
    o = svc.order(order["id"])
    assert o["status"] == "cleared" and o["on_scene_ms"] >= o["en_route_ms"] >= o["ack_ms"]


def test_silent_unit_times_out_and_the_next_unit_gets_the_order(make_dispatch, city, links):
    centre, unit_link = links
    svc = make_dispatch(ack_timeout_s=0.5)
    wire(svc, centre)
    units = []
    for uid, col, behaviour in (("quiet", 4, "silent"), ("eager", 12, "obey")):
        lat, lon = city.latlon(col, 3)
        svc.units.upsert(
            {"id": uid, "call_sign": uid, "mode": "car", "home_zone": "Z001", "status": "available"}
        )
        units.append(SimUnit(uid, "car", lat, lon, behaviour=behaviour))
    sim = UnitSimulator(svc.geo.roads, units, unit_link).start()
    sim.report_positions()
    wait_for(lambda: all(svc.units.get(u.id).lat for u in units), 10, "positions")
    inc = svc.local_incidents.create(lat=city.latlon(5, 3)[0], lon=city.latlon(5, 3)[1])
    first = svc.dispatch(inc["id"])
    assert first["unit_id"] == "quiet"
    wait_for(
        lambda: any(
            o["unit_id"] == "eager" and o["status"] == "en_route" for o in svc.orders_for(inc["id"])
        ),
        10,
        "re-offer accepted",
    )
    assert svc.order(first["id"])["status"] == "timed_out"
    assert sim.orders_seen[0] == first["id"] and len(sim.orders_seen) == 2
    # A late ack from the silent unit now arrives: recorded as late, nothing changes.
    sim.ack(sim.units["quiet"], "accepted", first["id"])
    wait_for(lambda: svc.counters["late"] == 1, 10, "late ack counted")
    assert svc.units.get("quiet").status == "available"


def test_bad_ack_payload_on_the_wire_is_refused_and_loop_continues(make_dispatch, city, links):
    centre, unit_link = links
    svc = make_dispatch()
    wire(svc, centre)
    unit_link.publish(Topics().unit("car-9", Channel.ACK), b'{"v":1,"order":"nope"}', qos=1)
    wait_for(lambda: svc.counters["rejected"] == 1, 10, "bad ack refused")
    assert "invalid payload" in svc.rejected[-1]
