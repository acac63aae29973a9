"""Dispatch service over real SQLite: recommendation, order lifecycle, acks, time-outs,
re-offers, off-duty units, auto-dispatch, KPIs and every bad input of the issue."""

from __future__ import annotations

import pytest

from coordinator.dispatch.policy import AutoPolicy, AutoRule
from coordinator.dispatch.service import DispatchError, DispatchService
from coordinator.errors import Conflict
from coordinator.geo.service import GeoService
from protocol import Ack, Channel, Dispatch, ParsedTopic, UnitPosition, decode, encode, uuid7
from tests.harness.dispatch import RecordingPublisher, place
from tests.harness.mqtt import wait_for


def incident(svc, city, col, row, **kw):
    lat, lon = city.latlon(col, row)
    return svc.local_incidents.create(lat=lat, lon=lon, **kw)


def ack(svc, unit, order, status):
    return svc.apply_ack(unit, Ack(order=order, ts=svc.now_ms(), status=status))


def test_recommends_by_travel_time_not_straight_line(make_dispatch, city):
    svc = make_dispatch()
    r = city.river_row
    col = next(c for c in range(20) if min(abs(c - b) for b in city.bridge_cols) >= 4)
    place(svc, city, "across", col, r, zone="Z002")  # 1 block away, but across the river
    place(svc, city, "same-bank", col, r + 5, zone="Z002")  # 5 blocks away, same bank
    inc = incident(svc, city, col, r + 1)
    rec = svc.recommend(inc)
    assert [c["unit"] for c in rec["candidates"]] == ["same-bank", "across"]
    top = rec["candidates"][0]
    assert top["method"] == "road" and top["distance_m"] == pytest.approx(480, rel=0.01)
    assert rec["candidates"][1]["distance_m"] > 1000  # the bridge detour
    reasons = " | ".join(top["reasons"])
    for shown in ("ETA", "km by road", "position 5 s old", "home zone"):
        assert shown in reasons


def test_units_without_position_are_skipped_with_a_reason(make_dispatch, city):
    svc = make_dispatch()
    place(svc, city, "u1", 3, 3)
    svc.units.upsert({"id": "nopos", "call_sign": "NP", "mode": "car", "status": "available"})
    rec = svc.recommend(incident(svc, city, 4, 4))
    assert [c["unit"] for c in rec["candidates"]] == ["u1"]
    assert {"unit": "nopos", "reason": "no position reported"} in rec["skipped"]


def test_incident_outside_every_zone_still_gets_units(make_dispatch, city):
    svc = make_dispatch()
    place(svc, city, "u1", 18, 18)
    inc = incident(svc, city, 19 + 3, 19)  # east of the city edge and every zone
    rec = svc.recommend(inc)
    assert rec["zone"] is None
    assert "outside every patrol zone" in rec["candidates"][0]["reasons"]


def test_stale_position_is_marked_and_penalised(make_dispatch, city):
    svc = make_dispatch(stale_after_s=60)
    place(svc, city, "stale", 2, 2, age_s=600, zone="Z001")
    place(svc, city, "fresh", 2, 5, zone="Z001")
    rec = svc.recommend(incident(svc, city, 2, 1))
    assert [c["unit"] for c in rec["candidates"]] == ["fresh", "stale"]
    assert rec["candidates"][1]["stale"] is True


def test_without_road_network_the_fallback_estimate_ranks(make_dispatch, city):
    svc = make_dispatch(roads=False)
    place(svc, city, "near", 3, 3)
    place(svc, city, "far", 10, 3)
    rec = svc.recommend(incident(svc, city, 4, 3))
    assert [c["unit"] for c in rec["candidates"]] == ["near", "far"]
    assert rec["candidates"][0]["method"] == "estimate"
    assert "no road network loaded" in rec["candidates"][0]["reasons"]


def test_full_lifecycle_moves_the_incident_and_timestamps_everything(make_dispatch, city):
    pub = RecordingPublisher()
    svc = make_dispatch(pub)
    place(svc, city, "u1", 3, 3, shift="night")
    inc = incident(svc, city, 5, 3)
    order = svc.dispatch(inc["id"], actor="user:d1")
    topic, payload, qos = pub.sent[-1]
    assert topic == svc.topics.unit("u1", Channel.DISPATCH) and qos == 1
    msg = decode(Channel.DISPATCH, payload)
    assert isinstance(msg, Dispatch) and msg.id == order["id"] and msg.incident == inc["id"]
    for status, unit_status, inc_status in [
        ("accepted", "dispatched", "dispatched"),
        ("en_route", "en_route", "en_route"),
        ("on_scene", "on_scene", "on_scene"),
        ("cleared", "available", "resolved"),
    ]:
        assert ack(svc, "u1", order["id"], status) == "applied"
        assert svc.units.get("u1").status == unit_status
        assert svc.incidents.get(inc["id"])["status"] == inc_status
    o = svc.order(order["id"])
    assert o["status"] == "cleared"
    assert o["sent_ms"] <= o["ack_ms"] <= o["en_route_ms"] <= o["on_scene_ms"] <= o["cleared_ms"]
    kinds = [(e["kind"], e["status"]) for e in svc.events_for(inc["id"])]
    assert kinds[0] == ("offered", "offered") and ("ack", "cleared") in kinds
    (row,) = svc.kpis()
    assert row["zone"] == "Z001" and row["shift"] == "night" and row["incidents"] == 1
    assert row["dispatch_to_ack"]["n"] == 1 and row["dispatch_to_on_scene"]["n"] == 1


def test_skipped_steps_still_walk_the_incident_forward(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    inc = incident(svc, city, 5, 3)
    order = svc.dispatch(inc["id"])
    # The radio lost "accepted" and "en_route": on_scene alone must still be recorded.
    assert ack(svc, "u1", order["id"], "on_scene") == "applied"
    assert svc.incidents.get(inc["id"])["status"] == "on_scene"
    assert svc.order(order["id"])["ack_ms"] is not None


def test_duplicate_and_out_of_order_acks_change_nothing(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    inc = incident(svc, city, 5, 3)
    order = svc.dispatch(inc["id"])
    ack(svc, "u1", order["id"], "en_route")
    first = svc.order(order["id"])
    assert ack(svc, "u1", order["id"], "en_route") == "duplicate"  # QoS 1 redelivery
    assert ack(svc, "u1", order["id"], "accepted") == "out_of_order"
    assert svc.order(order["id"]) == first
    outcomes = [e["outcome"] for e in svc.events_for(inc["id"]) if e["kind"] == "ack"]
    assert outcomes == ["applied", "duplicate", "out_of_order"]  # recorded, not lost
    assert svc.counters["duplicate"] == 1


def test_no_ack_in_time_reoffers_the_next_unit_and_late_ack_is_ignored(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher(), ack_timeout_s=0.3)
    place(svc, city, "first", 4, 3, zone="Z001")
    place(svc, city, "second", 9, 3, zone="Z001")
    inc = incident(svc, city, 5, 3)
    order = svc.dispatch(inc["id"])
    assert order["unit_id"] == "first"
    orders = wait_for(
        lambda: (o := svc.orders_for(inc["id"])) and len(o) == 2 and o,
        5,
        "re-offer after the ack timeout",
    )
    assert orders[0]["status"] == "timed_out" and "no acknowledgement" in orders[0]["ended_reason"]
    assert orders[1]["unit_id"] == "second" and orders[1]["decided_by"] == "reoffer"
    assert ack(svc, "first", order["id"], "accepted") == "late"
    assert svc.units.get("first").status == "available"
    assert svc.incidents.get(inc["id"])["status"] == "new"


def test_decline_reoffers_immediately(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "first", 4, 3, zone="Z001")
    place(svc, city, "second", 9, 3, zone="Z001")
    inc = incident(svc, city, 5, 3)
    order = svc.dispatch(inc["id"])
    ack(svc, "first", order["id"], "declined")
    orders = svc.orders_for(inc["id"])
    assert [o["status"] for o in orders] == ["declined", "offered"]
    assert orders[1]["unit_id"] == "second"


def test_every_unit_declines_leaves_the_incident_unassigned_visibly(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "only", 4, 3)
    inc = incident(svc, city, 5, 3)
    ack(svc, "only", svc.dispatch(inc["id"])["id"], "declined")
    events = svc.events_for(inc["id"])
    assert events[-1]["kind"] == "no_unit" and events[-1]["outcome"] == "unassigned"


def test_ack_from_another_unit_or_for_unknown_order_is_refused(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    place(svc, city, "u2", 9, 9)
    inc = incident(svc, city, 5, 3)
    order = svc.dispatch(inc["id"], "u1")
    with pytest.raises(DispatchError, match="for an order of u1"):
        ack(svc, "u2", order["id"], "accepted")
    svc.handle_ack(
        ParsedTopic("unit", "u2", Channel.ACK),
        encode(Ack(order=uuid7(), ts=svc.now_ms(), status="accepted")),
    )
    svc.handle_ack(ParsedTopic("unit", "u2", Channel.ACK), b'{"v":1,"st":"teleported"}')
    assert svc.counters["rejected"] == 2
    assert "unknown order" in svc.rejected[0] and "invalid payload" in svc.rejected[1]
    assert svc.order(order["id"])["status"] == "offered"


def test_order_to_an_off_duty_unit_is_refused(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    svc.set_unit_status("u1", "off_duty", "test")
    inc = incident(svc, city, 5, 3)
    with pytest.raises(DispatchError, match="off duty") as err:
        svc.dispatch(inc["id"], "u1")
    assert isinstance(err.value, Conflict) and svc.orders_for(inc["id"]) == []


def test_unit_going_off_duty_with_a_pending_order_cancels_and_reoffers(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "leaving", 4, 3, zone="Z001")
    place(svc, city, "staying", 9, 3, zone="Z001")
    inc = incident(svc, city, 5, 3)
    order = svc.dispatch(inc["id"])
    # The unit's own position report says it went off duty (end of shift).
    svc.handle_position(
        ParsedTopic("unit", "leaving", Channel.POSITION),
        encode(
            UnitPosition(
                ts=svc.now_ms(),
                lat=city.latlon(4, 3)[0],
                lon=city.latlon(4, 3)[1],
                status="off_duty",
            )
        ),
    )
    assert svc.order(order["id"])["status"] == "cancelled"
    assert svc.orders_for(inc["id"])[1]["unit_id"] == "staying"
    assert ack(svc, "leaving", order["id"], "accepted") == "late"


def test_active_order_blocks_a_second_unless_backup(make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "u1", 4, 3)
    place(svc, city, "u2", 9, 3)
    inc = incident(svc, city, 5, 3)
    svc.dispatch(inc["id"], "u1")
    with pytest.raises(DispatchError, match="active order"):
        svc.dispatch(inc["id"], "u2")
    assert svc.dispatch(inc["id"], "u2", backup=True)["unit_id"] == "u2"


@pytest.mark.parametrize(
    ("kind", "confidence", "dispatched"),
    [("intrusion", 0.9, True), ("intrusion", 0.5, False), ("loitering", 0.99, False)],
)
def test_auto_dispatch_policy_by_kind_and_confidence(
    make_dispatch, city, kind, confidence, dispatched
):
    svc = make_dispatch(RecordingPublisher())
    svc.set_policy(
        AutoPolicy(enabled=True, rules=[AutoRule(kind="intrusion", min_confidence=0.8)]), "admin"
    )
    place(svc, city, "u1", 4, 3)
    inc = incident(svc, city, 5, 3, kind=kind, confidence=confidence)
    orders = svc.orders_for(inc["id"])
    assert bool(orders) is dispatched
    if dispatched:
        assert orders[0]["decided_by"] == "auto"
        assert orders[0]["sent_ms"] - orders[0]["detected_ms"] < 5000


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "malformed JSON"),
        (encode(UnitPosition(ts=1, lat=29.3, lon=120.0)), "late position"),
        (encode(UnitPosition(ts=32503679000000, lat=29.3, lon=120.0)), "in the future"),
    ],
)
def test_bad_positions_are_refused_and_keep_the_last_good(make_dispatch, city, payload, reason):
    svc = make_dispatch()
    place(svc, city, "u1", 3, 3)
    before = (svc.units.get("u1").lat, svc.units.get("u1").pos_ms)
    svc.handle_position(ParsedTopic("unit", "u1", Channel.POSITION), payload)
    assert reason in svc.rejected[-1]
    assert (svc.units.get("u1").lat, svc.units.get("u1").pos_ms) == before


def test_position_from_unknown_unit_is_refused(make_dispatch):
    svc = make_dispatch()
    svc.handle_position(
        ParsedTopic("unit", "ghost", Channel.POSITION),
        encode(UnitPosition(ts=svc.now_ms(), lat=29.3, lon=120.0)),
    )
    assert "unknown unit ghost" in svc.rejected[-1] and svc.units.get("ghost") is None


def test_state_survives_a_restart(services, make_dispatch, city):
    svc = make_dispatch(RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    svc.set_policy(AutoPolicy(enabled=True, rules=[AutoRule(kind="crowd")]), "admin")
    again = DispatchService(services.db, GeoService(services.db))
    try:
        assert again.units.get("u1").lat == svc.units.get("u1").lat
        assert again.policy.rules[0].kind == "crowd"
        assert again.geo.roads is not None and again.geo.zones is not None
    finally:
        again.close()
