"""End to end on the real coordinator core: a camera event over MQTT opens an incident,
the auto-dispatch policy sends the fastest unit over the centre's shared MQTT link, the
simulated unit acknowledges and drives there, and the core incident moves through
dispatched → en_route → on_scene → resolved."""

from __future__ import annotations

from coordinator.dispatch.policy import AutoPolicy, AutoRule
from devtools.paho_link import PahoLink
from devtools.unit_simulator import SimUnit, UnitSimulator
from tests.harness.core import core_settings, event, publish_events, running_core
from tests.harness.mqtt import connect, wait_for


def test_camera_event_to_unit_on_scene(tmp_path, broker, city):
    port = broker.ports[0]
    with running_core(core_settings(tmp_path / "c", port)) as core:
        svc = core.dispatch
        svc.geo.load_zones(city.zones)
        svc.geo.load_roads(city.roads)
        svc.set_policy(
            AutoPolicy(enabled=True, rules=[AutoRule(kind="intrusion", min_confidence=0.7)]), "test"
        )
        lat, lon = city.latlon(6, 4)
        core.fleet.register(
            {
                "id": "cam-river",
                "owner_org": "Yiwu PSB",
                "owner_type": "government",
                "lat": lat,
                "lon": lon,
                "zone": "Z001",
            }
        )
        units = []
        for uid, col in (("car-near", 8), ("car-far", 17)):
            ulat, ulon = city.latlon(col, 4)
            svc.units.upsert(
                {
                    "id": uid,
                    "call_sign": uid,
                    "mode": "car",
                    "home_zone": "Z001",
                    "shift": "night",
                    "status": "available",
                }
            )
            units.append(SimUnit(uid, "car", ulat, ulon))
        sim_link = PahoLink("127.0.0.1", port, "unit-sim-e2e").start()
        board = connect(port, "cam-river")
        try:
            sim = UnitSimulator(svc.geo.roads, units, sim_link, on_scene_hold_s=10).start()
            sim.report_positions()
            wait_for(
                lambda: all(svc.units.get(u.id).pos_ms for u in units),
                10,
                "positions via the shared link",
            )
            publish_events(board, [event("cam-river", 1, conf=0.9)])
            incidents = core.incidents
            inc = wait_for(
                lambda: (rows := core.db.query("select id from incidents")) and rows[0],
                10,
                "incident from the camera event",
            )
            orders = wait_for(lambda: svc.orders_for(inc["id"]), 10, "auto-dispatch")
            assert orders[0]["unit_id"] == "car-near" and orders[0]["decided_by"] == "auto"
            wait_for(lambda: incidents.get(inc["id"])["status"] == "en_route", 10, "en route")
            for _ in range(600):
                if sim.step(1.0):
                    break
            wait_for(lambda: incidents.get(inc["id"])["status"] == "on_scene", 10, "on scene")
            sim.step(11)
            wait_for(lambda: incidents.get(inc["id"])["status"] == "resolved", 10, "resolved")
            history = [h["action"] for h in incidents.history(inc["id"])]
            for step in ("dispatched", "en_route", "on_scene", "resolved"):
                assert step in history
            (kpi,) = svc.kpis()
            assert kpi["zone"] == "Z001" and kpi["shift"] == "night"
            assert kpi["detection_to_dispatch"]["p90_s"] < 60
        finally:
            board.close()
            sim_link.stop()
