"""The pending-dispatch queue, pre-emption and move-up over real SQLite on the river city:
no incident that needs a unit waits without a visible reason, and the KPIs count the waiting."""

from __future__ import annotations

import time

import pytest

from coordinator.dispatch.policy import AutoPolicy, AutoRule
from coordinator.dispatch.service import DispatchError
from protocol import Ack
from tests.harness.dispatch import RecordingPublisher, place


def confirmed(svc, city, col, row, **kw):
    lat, lon = city.latlon(col, row)
    inc = svc.local_incidents.create(lat=lat, lon=lon, **kw)
    return svc.local_incidents.transition(inc["id"], "confirmed", "operator")


def accept(svc, unit, order_id):
    return svc.apply_ack(unit, Ack(order=order_id, ts=svc.now_ms(), status="accepted"))


def item(svc, incident_id):
    return next(i for i in svc.pending()["items"] if i["incident_id"] == incident_id)


def test_confirmed_incident_without_units_waits_with_the_reason(make_dispatch, city):
    svc = make_dispatch()
    inc = confirmed(svc, city, 4, 4)
    first = item(svc, inc["id"])
    assert first["reason_code"] == "no_unit_on_duty"
    assert first["reason_args"] == {"case": "none_defined"}  # the facts a screen words itself
    place(svc, city, "u1", 3, 3)
    svc.set_unit_status("u1", "busy", "test")
    busy = item(svc, inc["id"])
    assert (
        busy["reason_code"] == "no_free_unit" and "all 1 on-duty units are busy" in busy["reason"]
    )
    assert busy["reason_args"] == {"busy": 1, "modes": []}
    svc.set_unit_status("u1", "available", "test")
    free = item(svc, inc["id"])
    assert free["reason_code"] == "awaiting_dispatcher"
    svc.dispatch(inc["id"], "u1", actor="d")
    assert inc["id"] not in {i["incident_id"] for i in svc.pending()["items"]}


def test_a_declined_order_shows_in_the_reason(make_dispatch, city):
    svc = make_dispatch(publisher=RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    inc = confirmed(svc, city, 4, 4)
    order = svc.dispatch(inc["id"], "u1", actor="d")
    svc.apply_ack(
        "u1", Ack(order=order["id"], ts=svc.now_ms(), status="declined", note="flat tyre")
    )
    row = item(svc, inc["id"])
    # the re-offer found nobody (u1 was already offered it): the history says so
    assert row["reason_code"] in ("order_ended", "no_free_unit")
    assert "no unit" in row["reason"] or "declined" in row["reason"]


def test_new_incidents_wait_for_verification_unless_the_auto_policy_takes_them(make_dispatch, city):
    svc = make_dispatch()
    lat, lon = city.latlon(5, 5)
    plain = svc.local_incidents.create(lat=lat, lon=lon, kind="loitering")
    q = svc.pending()
    assert plain["id"] not in {i["incident_id"] for i in q["items"]}
    assert q["awaiting_verification"] == 1
    svc.set_policy(AutoPolicy(enabled=True, rules=[AutoRule(kind="intrusion")]), "admin")
    auto = svc.local_incidents.create(lat=lat, lon=lon, kind="intrusion", confidence=0.95)
    row = item(svc, auto["id"])  # auto-dispatch found no unit: visible, with why
    assert row["status"] == "new" and row["reason_code"] == "no_unit_on_duty"


def test_queue_is_ordered_by_priority_then_longest_wait(make_dispatch, city):
    svc = make_dispatch()
    now = time.time()
    a = confirmed(svc, city, 2, 2, priority=3, created_at=now - 100)
    b = confirmed(svc, city, 3, 2, priority=1, created_at=now - 10)
    c = confirmed(svc, city, 4, 2, priority=3, created_at=now - 500)
    order = [i["incident_id"] for i in svc.pending()["items"]]
    assert order == [b["id"], c["id"], a["id"]]
    assert item(svc, c["id"])["waiting_s"] >= 500


def test_required_mode_gives_its_own_reason(make_dispatch, city):
    svc = make_dispatch(required_modes={"crowd": ["car"]})
    place(svc, city, "walker", 3, 3, mode="foot")
    inc = confirmed(svc, city, 4, 4, kind="crowd")
    row = item(svc, inc["id"])
    assert row["reason_code"] == "no_mode" and "car" in row["reason"]
    assert row["reason_args"] == {"modes": ["car"]}
    rec = svc.recommend(inc)
    assert rec["candidates"] == [] and rec["skipped"][0]["unit"] == "walker"
    with pytest.raises(DispatchError):
        svc.dispatch(inc["id"], actor="d")


def test_preemption_proposes_a_lower_priority_unit_and_diverting_requeues_its_incident(
    make_dispatch, city
):
    svc = make_dispatch(publisher=RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    low = confirmed(svc, city, 4, 3, priority=4)
    order = svc.dispatch(low["id"], "u1", actor="d")
    accept(svc, "u1", order["id"])
    urgent = confirmed(svc, city, 5, 5, priority=1)
    assert item(svc, urgent["id"])["reason_code"] == "no_free_unit"
    props = svc.preemption(urgent["id"])["proposals"]
    assert [p["unit"] for p in props] == ["u1"]
    assert props[0]["leaves_incident"] == low["id"] and props[0]["leaves_priority"] == 4
    assert props[0]["replacement_eta_s"] is None  # nobody else could take the low one
    new = svc.divert(urgent["id"], "u1", actor="user:d")
    assert new["incident_id"] == urgent["id"] and new["unit_id"] == "u1"
    assert svc.order(order["id"])["status"] == "cancelled"
    back = item(svc, low["id"])
    assert "diverted to " + urgent["id"] in back["reason"]


def test_divert_refuses_a_unit_on_equal_priority_or_on_scene(make_dispatch, city):
    svc = make_dispatch(publisher=RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    place(svc, city, "u2", 6, 6)
    same = confirmed(svc, city, 4, 3, priority=2)
    o1 = svc.dispatch(same["id"], "u1", actor="d")
    accept(svc, "u1", o1["id"])
    low = confirmed(svc, city, 6, 7, priority=4)
    o2 = svc.dispatch(low["id"], "u2", actor="d")
    svc.apply_ack("u2", Ack(order=o2["id"], ts=svc.now_ms(), status="on_scene"))
    urgent = confirmed(svc, city, 5, 5, priority=2)
    assert svc.preemption(urgent["id"])["proposals"] == []
    for unit in ("u1", "u2"):
        with pytest.raises(DispatchError, match="cannot be diverted"):
            svc.divert(urgent["id"], unit, actor="user:d")
    assert svc.order(o1["id"])["status"] == "accepted"


def test_kpis_count_waiting_incidents_up_to_now(make_dispatch, city):
    svc = make_dispatch(publisher=RecordingPublisher())
    place(svc, city, "u1", 3, 3)
    now = time.time()
    quick = confirmed(svc, city, 4, 4, created_at=now - 5)
    svc.dispatch(quick["id"], "u1", actor="d")
    confirmed(svc, city, 5, 5, created_at=now - 600)  # nobody free: waits
    (row,) = svc.kpis(group_by=())
    assert row["waiting"] == 1 and row["incidents"] == 2
    d2d = row["detection_to_dispatch"]
    assert d2d["n"] == 2 and d2d["within_standard"] == 0.5
    assert d2d["p90_s"] >= 500


def test_coverage_proposes_a_spare_unit_for_an_empty_zone(make_dispatch, city):
    svc = make_dispatch()
    zones = svc.geo.zones.patrol_zones()
    z_full = svc.geo.zones.zone_of(*city.latlon(3, 3))
    place(svc, city, "a", 3, 3)
    place(svc, city, "b", 3, 4)
    cov = svc.coverage()
    assert cov["zones"] == len(zones)
    uncovered = {u["zone"]: u for u in cov["uncovered"]}
    assert z_full not in uncovered and len(uncovered) == len(zones) - 1
    movers = [u for u in cov["uncovered"] if u["unit"]]
    assert len(movers) == 1 and movers[0]["from_zone"] == z_full  # only one unit is spare


def test_the_queue_shows_only_the_callers_centres(make_dispatch, city):
    svc = make_dispatch()
    lat, lon = city.latlon(4, 4)
    inc = svc.local_incidents.create(lat=lat, lon=lon)
    svc.local_incidents._items[inc["id"]]["centre_id"] = "C02"
    svc.local_incidents.transition(inc["id"], "confirmed", "operator")
    assert [i["centre_id"] for i in svc.pending()["items"]] == ["C02"]
    assert svc.pending(allows=lambda c: c == "C02")["total"] == 1
    assert svc.pending(allows=lambda c: c == "C01")["total"] == 0
