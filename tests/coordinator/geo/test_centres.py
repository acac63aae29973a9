"""Monitoring centres over HTTP with real tokens: an operator sees and acts on only their
centres' incidents and cameras, a handover moves an incident's visibility, a city-wide
supervisor sees all, staff with no centre see nothing, mutual aid is logged, and each
centre keeps a shift log."""

from __future__ import annotations

import time

import pytest

from coordinator.identity.auth import Role
from devtools.synthetic_city import SMALL, generate
from protocol import uuid7
from tests.harness.api import PASSWORD, bearer

STAFF = {
    # username: (roles, centres, city-wide)
    "op-a": ([Role.OPERATOR], ["C01"], False),
    "op-b": ([Role.OPERATOR], ["C02"], False),
    "disp-a": ([Role.DISPATCHER, Role.OPERATOR], ["C01"], False),
    "sup": ([Role.SUPERVISOR, Role.OPERATOR], [], True),
    "op-new": ([Role.OPERATOR], [], False),
}


@pytest.fixture
def world(services, api, users, tokens):
    """The small city (2 centres, 4 stations, 8 zones), 3 cameras and 1 incident in each
    centre, and logged-in staff; returns (headers by user, camera ids by centre)."""
    city = generate(SMALL)
    admin = bearer(tokens[Role.ADMIN])
    assert api.put("/api/geo/zones", json=city.zones, headers=admin).status_code == 200
    assert api.put("/api/geo/roads", json=city.roads, headers=admin).status_code == 200
    cams: dict[str, list[str]] = {"C01": [], "C02": []}
    for centre, (col, row) in (("C01", (3, 3)), ("C02", (26, 26))):
        for k in range(3):
            lat, lon = city.latlon(col + k * 0.3, row)
            dev = f"cam-{centre.lower()}-{k}"
            services.fleet.register(
                {
                    "id": dev,
                    "owner_org": "义乌市公安局",
                    "owner_type": "government",
                    "lat": lat,
                    "lon": lon,
                }  # fmt: skip
            )
            cams[centre].append(dev)
        open_incident(services, cams[centre][0])
    heads = {}
    for name, (roles, centres, wide) in STAFF.items():
        services.auth.create_user(name, PASSWORD, roles)
        if centres or wide:
            r = api.put(f"/api/centres/members/{name}", headers=admin,
                        json={"centres": centres, "city_wide": wide})  # fmt: skip
            assert r.status_code == 200, r.text
        tok = api.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        heads[name] = bearer(tok.json()["access_token"])
    return heads, cams


def open_incident(services, dev, track=1):
    """An incident opened by the incident service from one event of camera ``dev``."""
    ev = {"id": uuid7(), "dev": dev, "track": track, "kind": "intrusion", "conf": 0.9,
          "t": time.time()}  # fmt: skip
    incidents = services.incidents
    changes = services.db.write(lambda db: incidents.assign(db, [ev], time.time()))
    incidents.publish_changes(changes)
    return changes[0][0]


def centres_seen(api, h):
    incs = api.get("/api/incidents", headers=h).json()
    devs = api.get("/api/devices", headers=h).json()
    return {i["centre_id"] for i in incs}, {d["centre_id"] for d in devs}, len(incs), len(devs)


def test_cameras_and_incidents_take_their_centre_from_their_place(services, world):
    _, cams = world
    assert services.fleet.get(cams["C01"][0])["centre_id"] == "C01"
    assert services.fleet.get(cams["C02"][0])["centre_id"] == "C02"
    found = services.incidents.search()
    assert {i["centre_id"] for i in found} == {"C01", "C02"}
    # where it is, as an operator says it: the nearest street, then the patrol zone's name
    for inc in found:
        street, zone = inc["address"].split(", ")
        assert street.endswith(("路", "街", "大道")) and zone.endswith("巡区")


def test_an_operator_sees_none_of_another_centres_work(api, world):
    heads, cams = world
    assert centres_seen(api, heads["op-a"]) == ({"C01"}, {"C01"}, 1, 3)
    assert centres_seen(api, heads["op-b"]) == ({"C02"}, {"C02"}, 1, 3)
    assert centres_seen(api, heads["sup"]) == ({"C01", "C02"}, {"C01", "C02"}, 2, 6)
    # staff without a centre see nothing until someone assigns them
    assert centres_seen(api, heads["op-new"]) == (set(), set(), 0, 0)
    other = api.get("/api/incidents", headers=heads["op-b"]).json()[0]["id"]
    h = heads["op-a"]
    assert api.get(f"/api/incidents/{other}", headers=h).status_code == 404
    assert api.post(f"/api/incidents/{other}/confirm", json={}, headers=h).status_code == 404
    assert api.get(f"/api/devices/{cams['C02'][0]}", headers=h).status_code == 404
    # frames and evidence of another centre's incident are out of reach too
    asked = {"purpose": "case 2026-117"}
    frames = api.post(f"/api/incidents/{other}/frames", json=asked, headers=h)
    assert frames.status_code == 404
    assert api.get(f"/api/incidents/{other}/frames", headers=h).status_code == 404
    assert api.post(f"/api/incidents/{other}/evidence", json=asked, headers=h).status_code == 404
    assert api.get(f"/api/devices/{cams['C01'][0]}", headers=h).status_code == 200
    assert api.get("/api/map/cameras", headers=h).json()["count"] == 3
    summary = api.get("/api/fleet/summary", params={"by": "centre_id"}, headers=h).json()
    assert set(summary["groups"]) == {"C01"}


def test_a_handover_moves_the_incident_to_the_other_centres_queue(api, services, world):
    heads, _ = world
    mine = api.get("/api/incidents", headers=heads["op-a"]).json()[0]["id"]
    bad = api.post(f"/api/incidents/{mine}/handover", headers=heads["op-a"],
                   json={"centre": "C09", "reason": "wrong side"})  # fmt: skip
    assert bad.status_code == 422
    r = api.post(f"/api/incidents/{mine}/handover", headers=heads["op-a"],
                 json={"centre": "C02", "reason": "the scene is across the river"})  # fmt: skip
    assert r.status_code == 200 and r.json()["centre_id"] == "C02"
    assert centres_seen(api, heads["op-a"])[2] == 0
    assert mine in {i["id"] for i in api.get("/api/incidents", headers=heads["op-b"]).json()}
    # op-a can no longer act on it; op-b reads the handover in its log
    assert api.post(f"/api/incidents/{mine}/handover", headers=heads["op-a"],
                    json={"centre": "C01", "reason": "back"}).status_code == 404  # fmt: skip
    log = api.get(f"/api/incidents/{mine}", headers=heads["op-b"]).json()["history"]
    entry = [e for e in log if e["action"] == "handover"][-1]
    assert entry["actor"] == "op-a"
    assert entry["detail"] == {
        "from": "C01",
        "to": "C02",
        "reason": "the scene is across the river",
    }
    audit = services.db.query("select * from audit_log where action = 'incident_handover'")
    assert len(audit) == 1


def test_an_incident_merged_across_a_boundary_keeps_its_first_centre(services, world):
    _, cams = world
    first = open_incident(services, cams["C01"][1], track=5)
    later = open_incident(services, cams["C02"][1], track=6)
    merged = services.incidents.merge(first["id"], [later["id"]], "sup")
    assert merged["centre_id"] == "C01"
    assert services.incidents.get(later["id"])["merged_into"] == first["id"]


def test_mutual_aid_dispatch_is_allowed_and_logged(api, services, world):
    heads, cams = world
    services.dispatch.publisher = None  # no broker here: the order is recorded, not sent
    services.dispatch.units.upsert(
        {
            "id": "car-b1",
            "call_sign": "B1",
            "mode": "car",
            "home_zone": "Z008",
            "status": "available",
        }  # fmt: skip
    )
    assert services.dispatch.units.get("car-b1").centre_id == "C02"
    from protocol import UnitPosition

    loc = services.fleet.location(cams["C01"][0])
    services.dispatch.position(
        "car-b1", UnitPosition(ts=services.dispatch.now_ms(), lat=loc["lat"], lon=loc["lon"])
    )
    inc = api.get("/api/incidents", headers=heads["disp-a"]).json()[0]
    r = api.post("/api/dispatch/orders", headers=heads["disp-a"],
                 json={"incident_id": inc["id"], "unit_id": "car-b1"})  # fmt: skip
    assert r.status_code == 201, r.text
    log = services.incidents.history(inc["id"])
    aid = [e for e in log if e["action"] == "mutual_aid"]
    assert aid and aid[0]["detail"] == {
        "unit": "car-b1",
        "unit_centre": "C02",
        "incident_centre": "C01",
    }
    assert services.incidents.get(inc["id"])["centre_id"] == "C01"  # it stays with C01
    other = api.get("/api/incidents", headers=heads["op-b"]).json()[0]["id"]
    refused = api.post("/api/dispatch/orders", headers=heads["disp-a"],
                       json={"incident_id": other, "unit_id": "car-b1", "backup": True})  # fmt: skip
    assert refused.status_code == 404


def test_shift_log_sign_on_note_sign_off(api, world):
    heads, _ = world
    h = heads["op-a"]
    post = lambda c, body, who=h: api.post(f"/api/centres/{c}/shift-log", json=body, headers=who)  # noqa: E731
    assert post("C01", {"kind": "sign_on"}).status_code == 200
    assert post("C01", {"kind": "sign_on"}).status_code == 422  # already on
    assert post("C01", {"kind": "note", "text": "gate 3 camera flickers"}).status_code == 200
    assert post("C01", {"kind": "note", "text": "  "}).status_code == 422
    assert post("C02", {"kind": "sign_on"}).status_code == 403  # not a member
    assert post("C77", {"kind": "sign_on"}).status_code == 404
    log = api.get("/api/centres/C01/shift-log", headers=h).json()
    assert log["on_duty"] == ["op-a"] and [e["kind"] for e in log["entries"]] == ["note", "sign_on"]
    centres = {c["id"]: c for c in api.get("/api/centres", headers=h).json()}
    assert centres["C01"]["on_duty"] == ["op-a"] and centres["C01"]["in_scope"]
    assert not centres["C02"]["in_scope"] and centres["C02"]["patrol_zones"] == 4
    assert api.get("/api/centres/C02/shift-log", headers=h).status_code == 404
    assert post("C01", {"kind": "sign_off", "text": "handed to night shift"}).status_code == 200
    assert api.get("/api/centres/C01/shift-log", headers=h).json()["on_duty"] == []
    assert api.get("/api/centres/C01/shift-log", headers=heads["sup"]).status_code == 200


def test_memberships_are_set_by_admins_only_and_name_real_centres(api, tokens, world):
    heads, _ = world
    me = api.get("/api/centres/me", headers=heads["op-a"]).json()
    assert me == {"username": "op-a", "centres": ["C01"], "city_wide": False,
                  "sees_all": False, "scoped": ["C01"]}  # fmt: skip
    r = api.put("/api/centres/members/op-a", headers=heads["sup"], json={"centres": ["C02"]})
    assert r.status_code == 403
    r = api.put("/api/centres/members/op-a", headers=bearer(tokens[Role.ADMIN]),
                json={"centres": ["C01", "C99"]})  # fmt: skip
    assert r.status_code == 422 and "C99" in r.text
    r = api.put("/api/centres/members/nobody", headers=bearer(tokens[Role.ADMIN]),
                json={"centres": ["C01"]})  # fmt: skip
    assert r.status_code == 404


def test_zones_reload_backfills_centres_of_cameras_registered_before(services, api, tokens):
    services.fleet.register(
        {
            "id": "cam-early",
            "owner_org": "x",
            "owner_type": "company",
            "lat": 29.2805,
            "lon": 120.0205,
        }
    )
    assert services.fleet.get("cam-early")["centre_id"] is None
    api.put("/api/geo/zones", json=generate(SMALL).zones, headers=bearer(tokens[Role.ADMIN]))
    assert services.fleet.get("cam-early")["centre_id"] == "C01"
    assert services.fleet.centre_of("cam-early") == "C01"


def _seed_groups(services, cams) -> str:
    """Camera-down alerts: one owner's group spanning both centres (all six cameras), a zone
    group of centre B's cameras only and one ungrouped alert in B; an alarm group holding
    centre B's incident. Returns that alarm group's id."""
    now = time.time()
    inc_b = next(i for i in services.incidents.search() if i["centre_id"] == "C02")

    def seed(db) -> None:
        groups = db.table("device_alert_groups")
        owner = groups.insert({"dim": "owner_org", "value": "义乌市公安局", "opened_at": now,
                               "last_at": now, "count": 4, "open_count": 4}).last_pk  # fmt: skip
        zone = groups.insert({"dim": "zone", "value": "Z-B", "opened_at": now, "last_at": now,
                              "count": 2, "open_count": 2}).last_pk  # fmt: skip
        alerts = db.table("device_alerts")
        members = [(c, owner) for c in cams["C01"]] + [(cams["C02"][0], owner)]
        members += [(cams["C02"][1], zone), (cams["C02"][2], zone)]
        for dev, gid in members:
            alerts.insert({"device_id": dev, "kind": "offline", "opened_at": now, "group_id": gid})
        db.table("incident_groups").insert({"id": "g-b", "kind": "intrusion", "kinds": '["intrusion"]',
                                            "count": 1, "first_ts": now, "last_ts": now,
                                            "priority": 2, "created_at": now})  # fmt: skip
        db.execute("update incidents set group_id = 'g-b' where id = ?", [inc_b["id"]])

    services.db.write(seed)
    return "g-b"


def test_alarm_groups_are_scoped_to_the_callers_centres(api, services, world):
    heads, cams = world
    gid = _seed_groups(services, cams)
    view = {n: api.get("/api/fleet/alert-groups", headers=heads[n]).json() for n in heads}
    # centre A sees its three cameras of the owner's group, and nothing of centre B's
    a = view["op-a"]
    assert [(g["dim"], g["open_count"]) for g in a["groups"]] == [("owner_org", 3)]
    assert a["open"] == 3 and a["grouped"] == 3 and a["singles"] == []
    b = view["op-b"]
    assert sorted((g["dim"], g["open_count"]) for g in b["groups"]) == [
        ("owner_org", 1), ("zone", 2)
    ]  # fmt: skip
    assert b["open"] == 3
    assert view["sup"]["open"] == 6 and {g["open_count"] for g in view["sup"]["groups"]} == {4, 2}
    assert view["op-new"] == {"groups": [], "singles": [], "open": 0, "grouped": 0}
    # the alarm group of centre B's incident: 0 rows for centre A, 404 on reads and actions
    for who, status in (("op-a", 404), ("op-new", 404), ("op-b", 200), ("sup", 200)):
        assert api.get(f"/api/alarm-groups/{gid}", headers=heads[who]).status_code == status
    act = api.post(f"/api/alarm-groups/{gid}/handling", json={"action": "acknowledge"},
                   headers=heads["op-a"])  # fmt: skip
    assert act.status_code == 404
    rows = api.get("/api/alarm-queue", headers=heads["op-a"]).json()["rows"]
    assert all(r["type"] != "group" for r in rows)
    assert {r["incident"]["centre_id"] for r in rows} == {"C01"}
    rows_b = api.get("/api/alarm-queue", headers=heads["op-b"]).json()["rows"]
    assert [r["group"]["count"] for r in rows_b if r["type"] == "group"] == [1]
    done = api.post(f"/api/alarm-groups/{gid}/handling", json={"action": "acknowledge"},
                    headers=heads["op-b"])  # fmt: skip
    assert done.status_code == 200 and done.json()["acted"] == 1
    # closing a group resolves its members: it needs a disposition, as one incident does
    close = api.post(f"/api/alarm-groups/{gid}/handling", json={"action": "close"},
                     headers=heads["op-b"])  # fmt: skip
    assert close.status_code == 422 and "disposition" in close.json()["detail"]
