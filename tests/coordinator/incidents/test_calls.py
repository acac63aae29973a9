"""Taking a call: an incident made by hand from a phone report, over HTTP with real tokens
on a real SQLite file and the small synthetic city — validation, idempotency, the centre
and address from the location, the priority model's "reported by phone", the log, and
the alarm and pending-dispatch queues."""

from __future__ import annotations

import pytest

from coordinator.identity.auth import Role
from devtools.synthetic_city import SMALL, generate
from tests.harness.api import PASSWORD, bearer


@pytest.fixture
def desk(services, api, tokens):
    """The small city loaded; a call-taker of centre C01, an operator of C02, a clerk who
    may not act on incidents; returns (headers by user, city)."""
    city = generate(SMALL)
    admin = bearer(tokens[Role.ADMIN])
    assert api.put("/api/geo/zones", json=city.zones, headers=admin).status_code == 200
    assert api.put("/api/geo/roads", json=city.roads, headers=admin).status_code == 200
    heads = {}
    for name, roles, centres in (
        ("ct-a", [Role.CALL_TAKER], ["C01"]),
        ("op-b", [Role.OPERATOR], ["C02"]),
    ):
        services.auth.create_user(name, PASSWORD, roles)
        r = api.put(f"/api/centres/members/{name}", headers=admin,
                    json={"centres": centres, "city_wide": False})  # fmt: skip
        assert r.status_code == 200, r.text
        tok = api.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        heads[name] = bearer(tok.json()["access_token"])
    heads["auditor"] = bearer(tokens[Role.AUDITOR])
    return heads, city


def point(city, centre: str) -> dict[str, float]:
    """A point inside ``centre`` (C01 top-left of the grid, C02 bottom-right)."""
    lat, lon = city.latlon(3, 3) if centre == "C01" else city.latlon(26, 26)
    return {"lat": lat, "lon": lon}


def test_a_call_taker_records_a_call_that_enters_both_queues(api, services, desk):
    heads, city = desk
    h = heads["ct-a"]
    body = {"kind": "intrusion", **point(city, "C01"), "landmark": "东门菜场北门",
            "note": "caller saw two men climb the fence", "request_id": "call-0001-a"}  # fmt: skip
    r = api.post("/api/incidents", json=body, headers=h)
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["source"] == "call" and inc["status"] == "confirmed"
    assert inc["handling"] == "acknowledged" and inc["devices"] == []
    assert inc["centre_id"] == "C01" and inc["zone"]
    street, zone = inc["address"].split(", ")
    assert street.endswith(("路", "街", "大道")) and zone.endswith("巡区")
    codes = [x["code"] for x in inc["priority_reasons"]]
    assert "phone" in codes and "confidence" not in codes
    # the alarm queue and the pending-dispatch queue both carry it
    queue = api.get("/api/incidents", headers=h).json()
    assert inc["id"] in [i["id"] for i in queue]
    pending = api.get("/api/dispatch/pending", headers=heads["op-b"]).json()
    assert inc["id"] not in [p["incident_id"] for p in pending["items"]]  # C02 does not see it
    detail = api.get(f"/api/incidents/{inc['id']}", headers=h).json()
    call = [e for e in detail["history"] if e["action"] == "call"]
    assert len(call) == 1 and call[0]["actor"] == "ct-a"
    assert call[0]["detail"]["landmark"] == "东门菜场北门"
    assert call[0]["detail"]["note"] == "caller saw two men climb the fence"
    audit = services.db.query("select * from audit_log where action = 'incident_call'")
    assert len(audit) == 1 and audit[0]["actor"] == "ct-a"


def test_the_call_waits_for_dispatch_in_its_centre(api, services, desk, tokens):
    heads, city = desk
    r = api.post("/api/incidents", json={"kind": "crowd", **point(city, "C01")},
                 headers=heads["ct-a"])  # fmt: skip
    assert r.status_code == 201, r.text
    wide = bearer(tokens[Role.DISPATCHER])
    pending = api.get("/api/dispatch/pending", headers=wide).json()
    item = next(p for p in pending["items"] if p["incident_id"] == r.json()["id"])
    assert item["centre_id"] == "C01" and item["status"] == "confirmed"


def test_a_double_click_makes_one_incident(api, services, desk):
    heads, city = desk
    body = {"kind": "loitering", **point(city, "C01"), "request_id": "dbl-click-77"}
    first = api.post("/api/incidents", json=body, headers=heads["ct-a"])
    again = api.post("/api/incidents", json=body, headers=heads["ct-a"])
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert services.db.query("select count(*) n from incidents where source = 'call'")[0]["n"] == 1
    # the key is the client's: another kind under it is refused, another user's is separate
    other = api.post("/api/incidents", json={**body, "kind": "crowd"}, headers=heads["ct-a"])
    assert other.status_code == 409 and "new request id" in other.json()["detail"]
    theirs = api.post("/api/incidents", json=body, headers=heads["op-b"])
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


def test_a_call_belongs_to_the_centre_of_its_location(api, desk):
    heads, city = desk
    # a C01 call-taker may take a call about C02's area: it goes to C02's queue, not theirs
    r = api.post("/api/incidents", json={"kind": "intrusion", **point(city, "C02")},
                 headers=heads["ct-a"])  # fmt: skip
    assert r.status_code == 201 and r.json()["centre_id"] == "C02"
    iid = r.json()["id"]
    assert iid not in [i["id"] for i in api.get("/api/incidents", headers=heads["ct-a"]).json()]
    assert iid in [i["id"] for i in api.get("/api/incidents", headers=heads["op-b"]).json()]


def test_a_zone_places_the_call_at_its_centre(api, services, desk):
    heads, _city = desk
    zone = sorted(services.geo.zones.patrol_zones())[0]
    r = api.post("/api/incidents", json={"kind": "crowd", "zone": zone}, headers=heads["ct-a"])
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["zone"] == zone
    lat, lon = services.geo.zones.centroid(zone)
    assert (inc["lat"], inc["lon"]) == pytest.approx((lat, lon))
    assert inc["centre_id"] == services.geo.centre_for(lat, lon, zone)


def test_raising_the_priority_needs_a_reason_and_never_lowers_it(api, services, desk):
    heads, city = desk
    h, where = heads["ct-a"], point(city, "C01")
    model = api.post("/api/incidents", json={"kind": "loitering", **where}, headers=h).json()
    assert model["priority"] > 1
    no_reason = api.post("/api/incidents", json={"kind": "loitering", **where, "priority": 1},
                         headers=h)  # fmt: skip
    assert no_reason.status_code == 422 and "priority_reason" in no_reason.json()["detail"]
    body = {"kind": "loitering", **where, "priority": 1, "priority_reason": "caller says armed"}
    raised = api.post("/api/incidents", json=body, headers=h).json()
    assert raised["priority"] == 1
    assert raised["priority_reasons"][0]["code"] == "raised"
    assert raised["priority_reasons"][0]["value"] == "caller says armed"
    detail = api.get(f"/api/incidents/{raised['id']}", headers=h).json()
    assert detail["history"][-1]["detail"]["raised_from"] == model["priority"]
    assert "call_key" not in raised
    # the raise holds when the priority is worked out again (a camera's incident merged in)
    services.db.write(
        lambda db: services.incidents.triage.rank(
            db,
            dict(services.db.query("select * from incidents where id = ?", [raised["id"]])[0]),
            0.0,
        )
    )
    assert services.incidents.get(raised["id"])["priority"] == 1
    lower = {**body, "priority": 5}
    r = api.post("/api/incidents", json=lower, headers=h)
    assert r.status_code == 422 and "not lower" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"kind": "fire", "zone": "Z01"}, "unknown kind"),
        (
            {"kind": "presence", "zone": "Z01"},
            "unknown kind",
        ),  # a kind that never opens an incident
        ({"kind": "crowd", "lat": 29.3}, "lat and lon go together"),
        ({"kind": "crowd"}, "either a point"),
        ({"kind": "crowd", "lat": 29.3, "lon": 120.0, "zone": "Z01"}, "either a point"),
        ({"kind": "crowd", "lat": 95, "lon": 120.0}, "lat"),
        ({"kind": "crowd", "zone": "NOPE"}, "no patrol zone"),
        ({"kind": "crowd", "lat": 10.0, "lon": 10.0}, "outside every monitoring centre"),
        ({"kind": "crowd", "zone": "Z01", "note": "x" * 2001}, "note"),
        ({"kind": "crowd", "zone": "Z01", "note": "call back on 138 0013 8000"}, "phone or ID"),
        ({"kind": "crowd", "zone": "Z01", "landmark": "ID 330782199001011234"}, "phone or ID"),
        ({"kind": "crowd", "zone": "Z01", "callback": "13800138000"}, "callback"),
        (
            {"kind": "crowd", "zone": "Z01", "priority": 1, "priority_reason": "ring 13800138000"},
            "phone or ID",
        ),  # fmt: skip
        ({"kind": "crowd", "zone": "Z01", "request_id": "bad id!"}, "request_id"),
    ],
)
def test_bad_calls_get_a_clear_422_and_nothing_is_stored(api, services, desk, body, says):
    heads, city = desk
    if body.get("zone") == "Z01":
        body = {**body, "zone": sorted(services.geo.zones.patrol_zones())[0]}
    r = api.post("/api/incidents", json=body, headers=heads["ct-a"])
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"]
    assert services.db.query("select count(*) n from incidents")[0]["n"] == 0


def test_only_staff_who_act_on_incidents_take_calls(api, desk):
    heads, city = desk
    r = api.post("/api/incidents", json={"kind": "crowd", **point(city, "C01")},
                 headers=heads["auditor"])  # fmt: skip
    assert r.status_code == 403
    assert api.post("/api/incidents", json={"kind": "crowd", "zone": "x"}).status_code == 401
