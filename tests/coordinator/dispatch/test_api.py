"""Dispatch and geography over HTTP with real tokens: loads, bad GeoJSON, units, orders."""

from __future__ import annotations

import time

from coordinator.identity.auth import Role
from protocol import uuid7
from tests.harness.api import bearer


def real_incident(services, lat, lon, dev="cam-d1"):
    """An incident opened by the core incident service from one camera event."""
    services.fleet.register(
        {
            "id": dev,
            "owner_org": "Yiwu PSB",
            "owner_type": "government",
            "lat": lat,
            "lon": lon,
            "zone": "Z001",
        }
    )
    incidents = services.incidents
    ev = {"id": uuid7(), "dev": dev, "track": 1, "kind": "intrusion", "conf": 0.9, "t": time.time()}
    changes = services.db.write(lambda db: incidents.assign(db, [ev], time.time()))
    incidents.publish_changes(changes)
    return changes[0][0]


def test_zones_and_roads_load_validate_and_serve(api, tokens, city):
    h = bearer(tokens[Role.DISPATCHER])
    r = api.put("/api/geo/zones", json=city.zones, headers=h)
    assert r.status_code == 200 and r.json() == {"patrol_zones": 4, "centres": 2, "stations": 0}
    r = api.put("/api/geo/roads", json=city.roads, headers=h)
    assert r.status_code == 200 and r.json()["segments"] > 700
    assert api.get("/api/geo/zones", headers=h).json()["features"][0]["properties"]["id"]
    lat, lon = city.latlon(1, 1)
    assert api.get("/api/geo/locate", params={"lat": lat, "lon": lon}, headers=h).json() == {
        "zone": "Z001",
        "station": None,
        "centre": "C01",
    }
    assert set(api.get("/api/geo/summary", headers=h).json()) == {"zones", "roads"}


def test_bad_zones_are_refused_with_problems_and_the_old_zones_stay(api, tokens, city):
    h = bearer(tokens[Role.DISPATCHER])
    api.put("/api/geo/zones", json=city.zones, headers=h)
    bad = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "Z1"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [120.0, 29.0],
                            [120.01, 29.01],
                            [120.01, 29.0],
                            [120.0, 29.01],
                            [120.0, 29.0],
                        ]
                    ],
                },
            }
        ],
    }
    r = api.put("/api/geo/zones", json=bad, headers=h)
    assert r.status_code == 422
    assert "Self-intersection" in r.json()["detail"]["problems"][0]
    assert len(api.get("/api/geo/zones", headers=h).json()["features"]) == 6


def test_disconnected_roads_are_refused_over_http(api, tokens):
    def block(x0):
        d = 0.001
        pts = [[x0, 29.0], [x0 + d, 29.0], [x0 + d, 29.0 + d], [x0, 29.0 + d], [x0, 29.0]]
        return {
            "type": "Feature",
            "properties": {"highway": "residential"},
            "geometry": {"type": "LineString", "coordinates": pts},
        }

    r = api.put(
        "/api/geo/roads",
        headers=bearer(tokens[Role.ADMIN]),
        json={
            "type": "FeatureCollection",
            "features": [block(120.0), block(120.01), block(120.02)],
        },
    )
    assert r.status_code == 422 and "disconnected" in r.json()["detail"]["message"]


def test_units_recommend_and_order_refusals(api, tokens, city, services):
    h = bearer(tokens[Role.DISPATCHER])
    api.put("/api/geo/zones", json=city.zones, headers=h)
    api.put("/api/geo/roads", json=city.roads, headers=h)
    r = api.put(
        "/api/dispatch/units/car-7",
        headers=h,
        json={
            "call_sign": "C7",
            "mode": "car",
            "home_zone": "Z001",
            "shift": "day",
            "status": "off_duty",
        },
    )
    assert r.status_code == 200 and r.json()["position_stale"] is True
    bad = api.put(
        "/api/dispatch/units/car-8", headers=h, json={"call_sign": "C8", "mode": "helicopter"}
    )
    assert bad.status_code == 422 and "mode" in bad.text
    lat, lon = city.latlon(3, 3)
    rec = api.post("/api/dispatch/recommend", json={"lat": lat, "lon": lon}, headers=h).json()
    assert rec["candidates"] == [] and rec["zone"] == "Z001"
    assert api.post("/api/dispatch/recommend", json={}, headers=h).status_code == 422
    assert (
        api.post("/api/dispatch/recommend", json={"incident_id": "nope"}, headers=h).status_code
        == 404
    )
    inc = real_incident(services, lat, lon)
    r = api.post(
        "/api/dispatch/orders", json={"incident_id": inc["id"], "unit_id": "car-7"}, headers=h
    )
    assert r.status_code == 409 and "off duty" in r.json()["detail"]
    r = api.put("/api/dispatch/units/car-7/status", json={"status": "en_route"}, headers=h)
    assert r.status_code == 422  # order-driven statuses cannot be set by hand
    assert api.get(f"/api/dispatch/incidents/{inc['id']}", headers=h).json()["orders"] == []


def test_policy_and_kpis_over_http(api, tokens):
    h = bearer(tokens[Role.DISPATCHER])
    r = api.put(
        "/api/dispatch/policy",
        headers=h,
        json={"enabled": True, "rules": [{"kind": "intrusion", "min_confidence": 0.85}]},
    )
    assert r.status_code == 200 and r.json()["rules"][0]["max_priority"] == 5
    r = api.put(
        "/api/dispatch/policy",
        headers=h,
        json={"enabled": True, "rules": [{"kind": "face_match", "min_confidence": 0.5}]},
    )
    assert r.status_code == 422
    assert api.get("/api/dispatch/policy", headers=h).json()["rules"][0]["kind"] == "intrusion"
    assert api.get("/api/dispatch/kpis", headers=bearer(tokens[Role.OPERATOR])).json() == []
    assert api.get("/api/dispatch/kpis", headers=bearer(tokens[Role.MERCHANT])).status_code == 403


def test_a_call_taker_confirms_and_resolves_but_never_dispatches(api, tokens, city, services):
    h = bearer(tokens[Role.DISPATCHER])
    api.put("/api/geo/zones", json=city.zones, headers=h)
    api.put("/api/geo/roads", json=city.roads, headers=h)
    lat, lon = city.latlon(4, 4)
    inc = real_incident(services, lat, lon, dev="cam-ct")
    ct = bearer(tokens[Role.CALL_TAKER])
    url = f"/api/incidents/{inc['id']}"
    r = api.post(f"{url}/handling", json={"action": "acknowledge"}, headers=ct)
    assert r.status_code == 200 and r.json()["handling"] == "acknowledged"
    assert api.post(f"{url}/confirm", json={}, headers=ct).json()["status"] == "confirmed"
    assert api.get("/api/dispatch/units", headers=ct).status_code == 200  # to answer a caller
    order = {"incident_id": inc["id"], "unit_id": "car-1"}
    r = api.post("/api/dispatch/orders", json=order, headers=ct)
    assert r.status_code == 403 and "dispatch:act" in r.json()["detail"]
    frames = api.post(f"{url}/frames", json={"purpose": "caller asks"}, headers=ct)
    assert frames.status_code == 403  # frames are the monitoring operator's
    done = {"status": "resolved", "disposition": "advice_given", "narrative": "caller advised"}
    r = api.post(f"{url}/transition", json=done, headers=ct)
    assert r.status_code == 200 and r.json()["disposition"] == "advice_given"
