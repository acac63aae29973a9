"""The patrol unit's own API over HTTP with real tokens: a unit reads and answers only its
orders, a decline needs a reason, its position and status reach the dispatch service."""

from __future__ import annotations

import time

from coordinator.identity.auth import Role
from protocol import UnitPosition, uuid7
from tests.harness.api import bearer
from tests.harness.dispatch import RecordingPublisher


def _units_and_incident(services, city):
    dispatch = services.dispatch
    dispatch.attach_publisher(RecordingPublisher())  # orders are recorded, not sent
    services.geo.load_zones(city.zones)
    services.geo.load_roads(city.roads)
    for uid, (col, row) in {"car-1": (3, 3), "car-2": (4, 3)}.items():
        dispatch.units.upsert({"id": uid, "call_sign": uid.upper(), "mode": "car"})
        lat, lon = city.latlon(col, row)
        dispatch.position(uid, UnitPosition(ts=dispatch.now_ms(), lat=lat, lon=lon))
    lat, lon = city.latlon(5, 5)
    services.fleet.register(
        {"id": "cam-u1", "owner_org": "PSB", "owner_type": "government", "lat": lat, "lon": lon}
    )
    ev = {"id": uuid7(), "dev": "cam-u1", "track": 1, "kind": "intrusion", "conf": 0.9}
    ev["t"] = time.time()
    changes = services.db.write(lambda db: services.incidents.assign(db, [ev], time.time()))
    services.incidents.publish_changes(changes)
    return changes[0][0]["id"]


def test_an_account_without_a_unit_is_refused(api, tokens):
    r = api.get("/api/unit/me", headers=bearer(tokens[Role.PATROL_UNIT]))
    assert r.status_code == 403 and "not linked" in r.json()["detail"]
    r = api.get("/api/unit/me", headers=bearer(tokens[Role.DISPATCHER]))
    assert r.status_code == 403  # a dispatcher has no units:self


def test_a_unit_answers_only_its_own_orders(api, tokens, services, city):
    inc = _units_and_incident(services, city)
    h = bearer(tokens[Role.PATROL_UNIT])  # linked to car-1
    other = services.dispatch.dispatch(inc, "car-2", actor="d")
    r = api.post(f"/api/unit/me/orders/{other['id']}/ack", json={"status": "accepted"}, headers=h)
    assert r.status_code == 403
    assert services.dispatch.order(other["id"])["status"] == "offered"
    services.dispatch.set_unit_status("car-2", "off_duty", "test")  # cancels; re-offers car-1
    me = api.get("/api/unit/me", headers=h).json()
    (mine,) = me["orders"]
    assert mine["incident_id"] == inc and mine["status"] == "offered" and mine["lat"]
    r = api.post(f"/api/unit/me/orders/{mine['id']}/ack", json={"status": "declined"}, headers=h)
    assert r.status_code == 422 and "reason" in r.text
    r = api.post(f"/api/unit/me/orders/{mine['id']}/ack", json={"status": "accepted"}, headers=h)
    assert r.status_code == 200 and r.json()["orders"][0]["status"] == "accepted"
    assert services.incidents.get(inc)["status"] == "dispatched"


def test_position_and_status_from_the_phone(api, tokens, services, city):
    _units_and_incident(services, city)
    h = bearer(tokens[Role.PATROL_UNIT])
    lat, lon = city.latlon(8, 8)
    r = api.post("/api/unit/me/position", json={"lat": lat, "lon": lon, "accuracy_m": 9}, headers=h)
    assert r.status_code == 204
    unit = services.dispatch.units.get("car-1")
    assert (unit.lat, unit.lon) == (lat, lon)
    r = api.post("/api/unit/me/position", json={"lat": 91, "lon": lon}, headers=h)
    assert r.status_code == 422
    r = api.put("/api/unit/me/status", json={"status": "busy"}, headers=h)
    assert r.status_code == 200 and r.json()["unit"]["status"] == "busy"
    assert services.dispatch.units.get("car-1").status == "busy"
