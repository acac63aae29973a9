"""The recorded command-centre session: HTTP calls only, each answer kept for comparison.

Used by ``test_scenario.py`` (replay against the golden recording) and by
``make_release_db.py`` (the database of the previous release). Camera events and unit
positions, which arrive over MQTT in production, go through ``adapter.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.golden import adapter
from tests.golden.compare import Normaliser

PASSWORD = "golden-password-2026"
PURPOSE = {"X-Purpose": "case 2026-117 follow-up"}
TODAY = dt.date.today()

# Yiwu-ish coordinates: cam-0 and cam-1 ~100 m apart (one incident), cam-9 ~2 km north-east.
DEVICES = {
    "cam-0": (29.3060, 120.0760, "Z01", "government"),
    "cam-1": (29.3066, 120.0766, "Z01", "company"),
    "cam-9": (29.3240, 120.0900, "Z02", "community"),
}
# Valid PRC resident ID numbers (checksums correct), invented people.
ID_LANDLORD = "332813198503129771"
ID_TENANT = "330519199007019703"


def _grid_roads() -> dict[str, Any]:
    """A connected 6 x 6 street grid over the cameras (about 500 m blocks)."""
    lats = [29.300 + 0.006 * i for i in range(6)]
    lons = [120.070 + 0.005 * j for j in range(6)]
    feats = [[[lon, lat] for lon in lons] for lat in lats]
    feats += [[[lon, lat] for lat in lats] for lon in lons]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"highway": "primary" if k % 5 == 0 else "residential"},
                "geometry": {"type": "LineString", "coordinates": line},
            }
            for k, line in enumerate(feats)
        ],
    }


def _rect(lat0: float, lon0: float, lat1: float, lon1: float) -> list[list[list[float]]]:
    return [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]


ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"id": zid, "kind": "patrol", "name": name, "centre": "C01"},
            "geometry": {"type": "Polygon", "coordinates": _rect(29.297, lon0, 29.333, lon1)},
        }
        for zid, name, lon0, lon1 in (
            ("Z01", "Old town", 120.067, 120.0825),
            ("Z02", "Market district", 120.0825, 120.098),
        )
    ]
    + [
        {
            "type": "Feature",
            "properties": {"id": "C01", "kind": "centre", "name": "Monitoring centre 1"},
            "geometry": {"type": "Polygon", "coordinates": _rect(29.297, 120.067, 29.333, 120.098)},
        }
    ],
}


class Session:
    """An HTTP client that records every call as the golden file stores it."""

    def __init__(self, c: adapter.Coordinator) -> None:
        self.c = c
        self.http = c.client
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.calls: list[dict[str, Any]] = []
        self.norm = Normaliser(TODAY)
        self.main_incident = ""  # the incident the dispatch steps work on

    def call(
        self, who: str, method: str, template: str, *, ok: int | None = None, **kw: Any
    ) -> Any:
        """Call ``template`` (``{name}`` filled from ``p=``) as ``who``; record; return the JSON."""
        params = kw.pop("p", {})
        headers = {**self.headers[who], **kw.pop("headers", {})}
        r = self.http.request(method, template.format(**params), headers=headers, **kw)
        body: Any
        if not r.content:
            body = None
        elif r.headers.get("content-type", "").startswith("application/json"):
            body = r.json()
        else:
            body = {"content-type": r.headers.get("content-type"), "bytes": "<non-JSON>"}
        self.calls.append(
            {
                "as": who,
                "call": f"{method} {template}",
                "status": r.status_code,
                "json": self.norm(body),
            }
        )
        if ok is not None:
            assert r.status_code == ok, f"{method} {template} as {who}: {r.status_code} {r.text}"
        return body

    def login(self, who: str, username: str) -> None:
        """Log ``username`` in and remember its bearer token as actor ``who`` (accounts that
        read personal data send their seeded second factor's code in the same call)."""
        body = {"username": username, "password": PASSWORD}
        if adapter.needs_second_factor(self.c, username):
            from devtools.totp_codes import next_code

            adapter.seed_second_factor(self.c, username)
            body["totp_code"] = next_code(username, "golden")
        out = self.call("anonymous", "POST", "/api/auth/login", json=body, ok=200)
        self.headers[who] = {"Authorization": f"Bearer {out['access_token']}"}


def run_scenario(s: Session) -> None:
    """The recorded session, step by step."""
    _people_log_in(s)
    _devices_and_incidents(s)
    _dispatch_and_geo(s)
    _population(s)
    _fraud(s)
    _oversight(s)


def _people_log_in(s: Session) -> None:
    s.call("anonymous", "GET", "/api/health", ok=200)
    adapter.create_first_admin(s.c, "admin", PASSWORD)
    s.login("admin", "admin")
    for role in adapter.ROLES:
        if role == "admin":
            continue
        body: dict[str, Any] = {
            "username": role.replace("_", "-"),
            "password": PASSWORD,
            "roles": [role],
            "zones": ["Z01", "Z02"],
            "display_name": role.replace("_", " ").title(),
        }
        if role == "merchant":
            body["merchant_id"] = "m-1"
        if role == "patrol_unit":
            body["unit_id"] = "car-1"
        body["reason"] = f"golden session: the {role.replace('_', ' ')} of the day"
        _create_user(s, body)
        s.login(role, body["username"])
        s.call(role, "GET", "/api/auth/me", ok=200)
    _create_user(
        s,
        {
            "username": "fraud-investigator-2",
            "password": PASSWORD,
            "roles": ["fraud_investigator"],
            "reason": "golden session: the second investigator of the desk",
        },
    )
    s.login("fraud_investigator_2", "fraud-investigator-2")
    # Since monitoring centres: staff see their centres' work; this session's operator and
    # dispatcher are the city command room's, city-wide.
    for who in ("operator", "dispatcher"):
        s.call(
            "admin",
            "PUT",
            "/api/centres/members/{username}",
            p={"username": who},
            json={"centres": [], "city_wide": True},
            ok=200,
        )
    s.call("admin", "GET", "/api/users", ok=200)
    s.call("anonymous", "GET", "/api/incidents")  # 401 without a token
    s.call("merchant", "GET", "/api/incidents")  # 403 for a role without the permission


def _create_user(s: Session, body: dict[str, Any]) -> None:
    """Create an account as the administrator; one that reads personal data waits for a
    second person, who approves it on the host (the session has one administrator)."""
    out = s.call("admin", "POST", "/api/users", json=body)
    assert s.calls[-1]["status"] in (201, 202), out
    if out.get("request"):
        adapter.approve_on_host(s.c, out["request"])


def _devices_and_incidents(s: Session) -> None:
    for dev, (lat, lon, zone, owner_type) in DEVICES.items():
        s.call(
            "technician",
            "POST",
            "/api/devices",
            ok=201,
            json={
                "id": dev,
                "owner_org": "Yiwu PSB" if owner_type == "government" else f"{dev} owner",
                "owner_type": owner_type,
                "lat": lat,
                "lon": lon,
                "heading": 90.0,
                "zone": zone,
                "profile": "pi5-cam",
                "firmware": "edge-agent 0.1.0",
                "model": "Raspberry Pi 5",
            },
        )
    s.call("technician", "GET", "/api/devices", ok=200)
    s.call("technician", "GET", "/api/devices/{id}", p={"id": "cam-0"}, ok=200)
    s.call("technician", "GET", "/api/devices/{id}", p={"id": "cam-404"})
    s.call("operator", "GET", "/api/map/cameras", ok=200)

    adapter.ingest_events(
        s.c,
        [
            {"dev": "cam-0", "seq": 1, "kind": "intrusion", "track": 1, "conf": 0.91},
            {"dev": "cam-1", "seq": 1, "kind": "intrusion", "track": 4, "conf": 0.85},
        ],
    )
    adapter.ingest_events(s.c, [{"dev": "cam-9", "seq": 1, "kind": "loitering", "conf": 0.7}])
    listed = s.call("operator", "GET", "/api/incidents", ok=200)
    s.call("operator", "GET", "/api/events", ok=200)
    by_dev = {tuple(i["devices"]): i["id"] for i in listed}
    main, other = by_dev[("cam-0", "cam-1")], by_dev[("cam-9",)]
    s.call("operator", "GET", "/api/incidents/{id}", p={"id": main}, ok=200)
    s.call(
        "operator",
        "POST",
        "/api/incidents/{id}/confirm",
        p={"id": main},
        json={"note": "two people climbing the fence"},
        ok=200,
    )
    s.call(
        "operator",
        "POST",
        "/api/incidents/{id}/annotate",
        p={"id": main},
        json={"text": "blue jacket, heading north"},
        ok=200,
    )
    s.call(
        "operator",
        "POST",
        "/api/incidents/{id}/dismiss",
        p={"id": other},
        json={"reason": "street cleaner on the usual round"},
        ok=200,
    )
    s.call("operator", "POST", "/api/incidents/{id}/dismiss", p={"id": other}, json={})  # 422
    s.call("operator", "GET", "/api/incidents", params={"status": "dismissed"}, ok=200)
    s.call("operator", "GET", "/api/tuning/rates", ok=200)
    s.call("operator", "GET", "/api/tuning/proposals", ok=200)
    s.main_incident = main


def _dispatch_and_geo(s: Session) -> None:
    main = s.main_incident
    s.call("dispatcher", "PUT", "/api/geo/zones", json=ZONES, ok=200)
    s.call("dispatcher", "PUT", "/api/geo/roads", json=_grid_roads(), ok=200)
    s.call("dispatcher", "GET", "/api/geo/zones", ok=200)
    s.call("dispatcher", "GET", "/api/geo/summary", ok=200)
    s.call("dispatcher", "GET", "/api/geo/locate", params={"lat": 29.324, "lon": 120.09}, ok=200)
    for uid, call_sign, mode, zone in (
        ("car-1", "Car 1", "car", "Z01"),
        ("ebike-2", "Bike 2", "ebike", "Z02"),
    ):
        s.call(
            "dispatcher",
            "PUT",
            "/api/dispatch/units/{id}",
            p={"id": uid},
            json={
                "call_sign": call_sign,
                "mode": mode,
                "home_zone": zone,
                "shift": "day",
                "status": "available",
            },
            ok=200,
        )
    adapter.report_unit_position(s.c, "car-1", 29.3000, 120.0800)
    adapter.report_unit_position(s.c, "ebike-2", 29.3240, 120.0950)
    s.call("dispatcher", "GET", "/api/dispatch/units", ok=200)
    s.call("dispatcher", "POST", "/api/dispatch/recommend", json={"incident_id": main}, ok=200)
    s.call(
        "dispatcher",
        "POST",
        "/api/dispatch/recommend",
        json={"lat": 29.3240, "lon": 120.0900, "k": 2},
        ok=200,
    )
    s.call(
        "dispatcher",
        "POST",
        "/api/dispatch/orders",
        json={"incident_id": main, "unit_id": "car-1"},
        ok=201,
    )
    s.call("dispatcher", "GET", "/api/dispatch/incidents/{id}", p={"id": main}, ok=200)
    s.call("dispatcher", "GET", "/api/dispatch/status", ok=200)
    s.call("dispatcher", "GET", "/api/dispatch/policy", ok=200)
    s.call("dispatcher", "GET", "/api/dispatch/kpis", ok=200)
    s.call("operator", "GET", "/api/incidents/{id}", p={"id": main}, ok=200)


def _population(s: Session) -> None:
    P, h = "/api/population", PURPOSE
    who = "population_officer"
    landlord = s.call(
        who,
        "POST",
        f"{P}/persons",
        headers=h,
        ok=201,
        json={
            "name": "王建国",
            "name_latin": "Wang Jianguo",
            "id_type": "prc_id",
            "id_number": ID_LANDLORD,
            "dob": "1985-03-12",
            "sex": "M",
            "phone": "13800138001",
            "zone": "Z01",
        },
    )["person"]
    tenant = s.call(
        who,
        "POST",
        f"{P}/persons",
        headers=h,
        ok=201,
        json={
            "name": "李秀英",
            "id_type": "prc_id",
            "id_number": ID_TENANT,
            "sex": "F",
            "origin": "Henan",
            "phone": "13800138002",
            "zone": "Z01",
        },
    )["person"]
    house = s.call(
        who,
        "POST",
        f"{P}/houses",
        headers=h,
        ok=201,
        json={"address": "稠城街道 工人北路 12号", "zone": "Z01", "landlord_id": landlord["id"]},
    )
    reg = s.call(
        who,
        "POST",
        f"{P}/registrations",
        headers=h,
        ok=201,
        json={"person_id": tenant["id"], "house_id": house["id"], "valid_from": "2025-09-01"},
    )
    s.call(
        who,
        "POST",
        f"{P}/registrations/{{id}}/status",
        p={"id": reg["id"]},
        headers=h,
        json={"status": "registered"},
        ok=200,
    )
    s.call(who, "GET", f"{P}/registrations", headers=h, ok=200)
    s.call(who, "GET", f"{P}/houses/{{id}}", p={"id": house["id"]}, headers=h, ok=200)
    # the same person again, spelled in Latin letters: once a duplicate for review (201);
    # now the same document opens the existing record (409, an intended difference)
    s.call(
        who,
        "POST",
        f"{P}/persons",
        headers=h,
        ok=409,
        json={
            "name": "李秀英",
            "name_latin": "Li Xiuying",
            "id_type": "prc_id",
            "id_number": ID_TENANT,
            "sex": "F",
            "zone": "Z01",
        },
    )
    s.call(who, "GET", f"{P}/persons/search", params={"name": "李秀英"}, headers=h, ok=200)
    s.call(who, "GET", f"{P}/persons/search", params={"name": "李秀英"})  # no purpose: 422
    s.call(
        who,
        "POST",
        f"{P}/persons/lookup",
        headers=h,
        json={"id_type": "prc_id", "id_number": ID_LANDLORD},
        ok=200,
    )
    s.call(who, "GET", f"{P}/persons/{{id}}", p={"id": tenant["id"]}, headers=h, ok=200)
    s.call(who, "GET", f"{P}/duplicates", headers=h, ok=200)
    s.call(who, "GET", f"{P}/stats", headers=h, ok=200)
    s.call("operator", "GET", f"{P}/persons/search", params={"name": "李"}, headers=h)  # 403


def _fraud(s: Session) -> None:
    F, h = "/api/fraud", PURPOSE
    inv = "fraud_investigator"
    s.call(
        inv,
        "POST",
        f"{F}/merchants",
        ok=201,
        json={
            "id": "m-1",
            "name": "Booth m-1",
            "market": "District 2",
            "booth": "H2-301",
            "contact_name": "Zhang San",
            "contact_phone": "13900000000",
        },
    )
    green = {
        "names": ["Green Airline Trading Co., Ltd.", "绿航贸易有限公司"],
        "phones": ["+86 138-0013-8000"],
        "contacts": ["王小明"],
        "emails": ["sales@greenairline.com"],
        "addresses": ["No. 12 Chouzhou Road, Room 501, Yiwu"],
        "reg_codes": ["91330782MA2K12345X"],
        "founded": "2021-03-01",
    }
    filing = {
        "goods": "plastic toys",
        "quantity": 1000,
        "amount": "120000.00",
        "currency": "CNY",
        "due_date": (TODAY - dt.timedelta(days=10)).isoformat(),
        "documents": ["PO-881"],
    }
    f = s.call("merchant", "POST", f"{F}/filings", json={**filing, "company": green}, ok=201)
    s.call("merchant", "GET", f"{F}/filings", ok=200)
    s.call(
        "merchant",
        "POST",
        f"{F}/filings/{{id}}/confirm-overdue",
        p={"id": f["id"]},
        json={"still_unpaid": True},
        ok=200,
    )
    cid = f["company_id"]
    a = s.call(
        inv, "POST", f"{F}/companies", json={"names": ["Alpha Trading"], "phones": ["13700137000"]}
    )
    s.call(
        inv, "POST", f"{F}/companies", json={"names": ["Beta Trading"], "phones": ["137 0013 7000"]}
    )
    s.call(inv, "GET", f"{F}/companies/{{id}}", p={"id": cid}, headers=h, ok=200)
    s.call(inv, "GET", f"{F}/companies/{{id}}", p={"id": cid})  # no purpose: 422
    queue = s.call(inv, "GET", f"{F}/links/review", headers=h, ok=200)
    if queue:
        s.call(
            inv,
            "POST",
            f"{F}/links/{{id}}/decision",
            p={"id": queue[0]["id"]},
            json={"action": "confirm", "note": "same phone, same owner"},
            ok=200,
        )
    s.call(inv, "GET", f"{F}/companies/{{id}}/links", p={"id": a["id"]}, headers=h, ok=200)
    adapter.sweep_fraud_overdue(s.c)
    s.call(inv, "GET", f"{F}/alerts", ok=200)
    w = s.call(
        inv,
        "POST",
        f"{F}/warnings",
        ok=201,
        json={
            "company_id": cid,
            "headline": "Green Airline does not pay",
            "description": "Merchants report unpaid orders.",
            "severity": "Severe",
        },
    )
    s.call(inv, "POST", f"{F}/warnings/{{id}}/approve", p={"id": w["id"]})  # author: 403
    s.call(
        "fraud_investigator_2", "POST", f"{F}/warnings/{{id}}/approve", p={"id": w["id"]}, ok=200
    )
    s.call(inv, "POST", f"{F}/warnings/{{id}}/publish", p={"id": w["id"]}, ok=200)
    s.call(inv, "GET", f"{F}/warnings", ok=200)
    s.call(inv, "GET", f"{F}/alerts", ok=200)  # the warned cluster is now on the alert list
    s.call("anonymous", "GET", f"{F}/public/warnings/{{id}}.cap.json", p={"id": w["id"]}, ok=200)
    s.call("merchant", "GET", f"{F}/check", params={"q": "绿航贸易"}, ok=200)
    s.call("merchant", "GET", f"{F}/check", params={"q": "+86 138 0013 8000"}, ok=200)


def _oversight(s: Session) -> None:
    s.call("technician", "GET", "/api/fleet/summary", ok=200)
    s.call("technician", "GET", "/api/fleet/summary", params={"by": "owner_type"}, ok=200)
    s.call("technician", "GET", "/api/fleet/alerts", ok=200)
    s.call("technician", "GET", "/api/fleet/cert-expiry", ok=200)
    s.call("technician", "GET", "/api/ingest/status", ok=200)
    # The data-protection officer reads the audit log (the administrator no longer does).
    s.headers["auditor"] = adapter.auditor_headers(s.c, "auditor", PASSWORD)
    s.call("auditor", "GET", "/api/audit", params={"limit": 500}, ok=200)
    s.call("auditor", "GET", "/api/audit", params={"actor": "operator"}, ok=200)
    s.call("operator", "POST", "/api/auth/logout", ok=204)
    s.call("operator", "GET", "/api/auth/me")  # 401 after logout
