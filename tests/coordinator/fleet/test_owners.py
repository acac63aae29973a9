"""Owner organisations and their sharing agreements against a real core and broker: every
path frames take (incident frames, one snapshot, a live view, a board's answer, a stored
image, the retention job) refuses what the agreement forbids and logs it; an owner's
account sees its own cameras and incidents and nothing else."""

from __future__ import annotations

import base64
import io
import time
import zipfile

import pytest
from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.identity.auth import Role
from protocol import Channel, SnapshotResponse, Topics, decode, encode
from tests.harness.api import PASSWORD, bearer
from tests.harness.core import core_settings, event, running_core
from tests.harness.mqtt import connect, wait_for
from tests.harness.routes import iter_api_routes

T = Topics()
CAMS = {
    "gov-1": ("义乌市公安局", "government", 29.30, 120.07),
    "mall-1": ("义乌国际商贸城有限公司", "company", 29.31, 120.08),
    "mall-2": ("义乌国际商贸城有限公司", "company", 29.32, 120.09),
    "comm-1": ("稠城街道绣湖社区", "community", 29.33, 120.10),
}


def _jpeg(tag: bytes) -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + tag + b"\x00" * 16 + b"\xff\xd9"


def _login(api, name):
    tok = api.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert tok.status_code == 200, tok.text
    return bearer(tok.json()["access_token"])


@pytest.fixture
def city(tmp_path, broker):
    with running_core(core_settings(tmp_path / "c", broker.ports[0])) as svc:
        for dev, (org, kind, lat, lon) in CAMS.items():
            svc.fleet.register(
                {"id": dev, "owner_org": org, "owner_type": kind, "lat": lat, "lon": lon}
            )
        svc.auth.create_user("op", PASSWORD, [Role.OPERATOR])
        svc.auth.create_user("boss", PASSWORD, [Role.ADMIN])
        with TestClient(create_app(svc)) as api:
            yield svc, api, _login(api, "op"), _login(api, "boss")


def _org(svc, dev):
    return svc.fleet.location(dev)["org_id"]


def _terms(level, **kw):
    return {"level": level, "agreed_by": "王经理 (物业主管)", **kw}


def _incident(svc, board, dev, seq=1, n=1):
    for i in range(n):
        board.publish(T.device(dev, Channel.EVENT), encode(event(dev, seq + i, track=seq)))
    return wait_for(
        lambda: (
            (
                r := svc.db.query(
                    "select incident_id from events where dev = ? and seq = ?", [dev, seq + n - 1]
                )
            )  # fmt: skip
            and r[0]["incident_id"]
        ),
        10,
        "incident",
    )


def test_organisations_are_made_from_the_labels_and_edited_with_an_audit(city):
    svc, api, op, boss = city
    orgs = api.get("/api/owners", headers=op).json()
    by_name = {o["name"]: o for o in orgs}
    assert by_name["义乌国际商贸城有限公司"]["cameras"] == 2
    assert by_name["义乌国际商贸城有限公司"]["agreement"]["source"] == "default"
    mall = _org(svc, "mall-1")
    assert _org(svc, "mall-2") == mall and _org(svc, "gov-1") != mall
    # Renaming the organisation renames its cameras' older label too.
    r = api.patch(
        f"/api/owners/{mall}", json={"name": "商贸城集团", "kind": "company"}, headers=boss
    )
    assert r.status_code == 200, r.text
    assert svc.fleet.get("mall-2")["owner_org"] == "商贸城集团"
    assert svc.audit.search(action="owner_org_update", subject_id=str(mall))
    assert api.patch(f"/api/owners/{mall}", json={"name": "x"}, headers=op).status_code == 403
    dup = api.post("/api/owners", json={"name": "义乌市公安局", "kind": "government"}, headers=boss)
    assert dup.status_code == 409
    school = api.post("/api/owners", json={"name": "义乌中学", "kind": "school"}, headers=boss)
    assert school.status_code == 201 and school.json()["agreement"]["level"] == "snapshots"
    # A board registered by organisation id takes its labels from the record.
    svc.fleet.register({"id": "sch-1", "owner_org": "?", "owner_type": "government",
                        "org_id": school.json()["id"], "lat": 29.3, "lon": 120.0})  # fmt: skip
    assert (svc.fleet.get("sch-1")["owner_org"], svc.fleet.get("sch-1")["owner_type"]) == (
        "义乌中学",
        "community",
    )


def test_agreements_are_validated_and_every_change_audited(city):
    svc, api, op, boss = city
    mall = _org(svc, "mall-1")
    bad = api.put(f"/api/owners/{mall}/agreement", json=_terms("snapshots", hours_from=8),
                  headers=boss)  # fmt: skip
    assert bad.status_code == 422 and "go together" in bad.text
    assert (
        api.put(f"/api/owners/{mall}/agreement", json=_terms("live"), headers=op).status_code == 403
    )
    r = api.put(f"/api/owners/{mall}/agreement",
                json=_terms("events", retention_days=7, note="协议 2026-03"), headers=boss)  # fmt: skip
    assert r.status_code == 200 and r.json()["source"] == "recorded"
    own = api.put(f"/api/owners/{mall}/cameras/mall-2/agreement", json=_terms("live"), headers=boss)
    assert own.json()["device_id"] == "mall-2" and own.json()["level"] == "live"
    wrong = api.put(f"/api/owners/{mall}/cameras/gov-1/agreement", json=_terms("live"),
                    headers=boss)  # fmt: skip
    assert wrong.status_code == 404  # not a camera of this organisation
    detail = api.get(f"/api/owners/{mall}", headers=op).json()
    assert detail["agreement"]["level"] == "events"
    assert [c["device_id"] for c in detail["camera_agreements"]] == ["mall-2"]
    entries = svc.audit.search(action="sharing_agreement")
    assert len(entries) == 2 and all(e["actor"] == "boss" for e in entries)
    api.delete(f"/api/owners/{mall}/agreement", headers=boss)
    assert api.get(f"/api/owners/{mall}", headers=op).json()["agreement"]["source"] == "default"
    assert len(svc.audit.search(action="sharing_agreement")) == 3


def test_frames_of_an_events_only_camera_are_refused_and_logged(city, broker):
    svc, api, op, boss = city
    api.put(f"/api/owners/{_org(svc, 'mall-1')}/agreement", json=_terms("events"), headers=boss)
    board = connect(broker.ports[0], "mall-1")
    try:
        board.subscribe(T.device("mall-1", Channel.SNAPSHOT_REQ))
        inc = _incident(svc, board, "mall-1")
        r = api.post(f"/api/incidents/{inc}/frames", json={"purpose": "案件核查"}, headers=op)
        assert r.status_code == 403 and "shares events only" in r.json()["detail"]
        one = api.post(f"/api/incidents/{inc}/snapshot", headers={**op, "X-Purpose": "case review"})
        assert one.status_code == 403 and "mall-1" in one.json()["detail"]
        denied = svc.audit.search(action="denied")
        assert len(denied) == 2 and all(e["actor"] == "op" for e in denied)
        assert svc.db.query("select count(*) n from snapshots")[0]["n"] == 0
        assert board.messages.empty()  # nothing was asked of the board
    finally:
        board.close()


def test_hours_and_the_terms_when_the_event_was_recorded_are_honoured(city, broker):
    svc, api, op, boss = city
    mall = _org(svc, "mall-1")
    hour = int(((time.time() / 3600) + 8) % 24)
    later = {"hours_from": (hour + 2) % 24, "hours_to": (hour + 3) % 24}
    api.put(f"/api/owners/{mall}/agreement", json=_terms("snapshots", **later), headers=boss)
    board = connect(broker.ports[0], "mall-1")
    try:
        board.subscribe(T.device("mall-1", Channel.SNAPSHOT_REQ))
        inc = _incident(svc, board, "mall-1")
        r = api.post(f"/api/incidents/{inc}/frames", json={"purpose": "案件核查"}, headers=op)
        assert r.status_code == 403 and "only between" in r.json()["detail"]
        # Agreed all day now: the event recorded outside the hours still gives no frame.
        api.put(f"/api/owners/{mall}/agreement", json=_terms("snapshots"), headers=boss)
        r = api.post(f"/api/incidents/{inc}/frames", json={"purpose": "案件核查"}, headers=op)
        assert r.status_code == 403 and "when the event was recorded" in r.json()["detail"]
        inc2 = _incident(svc, board, "mall-1", seq=10)
        r = api.post(f"/api/incidents/{inc2}/frames", json={"purpose": "案件核查"}, headers=op)
        assert r.status_code == 202 and len(r.json()["requested"]) == 1
    finally:
        board.close()


def test_live_view_needs_a_live_agreement(city, broker):
    svc, api, op, boss = city
    api.put(f"/api/owners/{_org(svc, 'comm-1')}/agreement", json=_terms("snapshots"), headers=boss)
    r = api.post("/api/cameras/comm-1/view", headers=boss)
    assert r.status_code == 403 and "not live view" in r.json()["detail"]
    assert svc.audit.search(action="denied", subject_id="comm-1")
    assert api.post("/api/cameras/gov-1/view", headers=boss).status_code == 202


def test_an_answer_after_the_agreement_is_withdrawn_is_not_kept_and_frames_expire(city, broker):
    svc, api, op, boss = city
    mall = _org(svc, "mall-1")
    api.put(f"/api/owners/{mall}/agreement", json=_terms("snapshots", retention_days=0.00002),
            headers=boss)  # fmt: skip
    board = connect(broker.ports[0], "mall-1")
    try:
        board.subscribe(T.device("mall-1", Channel.SNAPSHOT_REQ))
        inc = _incident(svc, board, "mall-1")
        api.post(f"/api/incidents/{inc}/frames", json={"purpose": "案件核查"}, headers=op)
        a = decode(Channel.SNAPSHOT_REQ, board.get().payload)
        _answer(board, a.req, a.event)
        wait_for(lambda: svc.snapshots.status(a.req)["status"] == "ok", 10, "stored")
        wait_for(lambda: time.time() - svc.snapshots.status(a.req)["created_at"] > 2.0, 5)
        assert svc.owners.expire_frames() == 1  # past the agreed retention (the job's work)
        inc2 = _incident(svc, board, "mall-1", seq=10)
        api.post(f"/api/incidents/{inc2}/frames", json={"purpose": "案件核查"}, headers=op)
        b = decode(Channel.SNAPSHOT_REQ, board.get().payload)
        api.put(f"/api/owners/{mall}/agreement", json=_terms("events"), headers=boss)
        _answer(board, b.req, b.event)
        st = wait_for(lambda: (s := svc.snapshots.status(b.req))["status"] != "pending" and s, 10)
        assert st["status"] == "denied" and st["bytes"] is None
    finally:
        board.close()


def test_a_stored_image_is_not_shown_once_the_owner_stops_sharing(city, broker):
    svc, api, op, boss = city
    mall = _org(svc, "mall-1")
    board = connect(broker.ports[0], "mall-1")
    try:
        board.subscribe(T.device("mall-1", Channel.SNAPSHOT_REQ))
        inc = _incident(svc, board, "mall-1")
        api.post(f"/api/incidents/{inc}/frames", json={"purpose": "案件核查"}, headers=op)
        a = decode(Channel.SNAPSHOT_REQ, board.get().payload)
        _answer(board, a.req, a.event)
        wait_for(lambda: svc.snapshots.status(a.req)["status"] == "ok", 10, "stored")
        assert api.get(f"/api/snapshots/{a.req}/image", headers=op).status_code == 200
        assert _bundle_frames(svc, inc) == [f"frames/{a.event}.jpg"]
        api.put(f"/api/owners/{mall}/agreement", json=_terms("events"), headers=boss)
        r = api.get(f"/api/snapshots/{a.req}/image", headers=op)
        assert r.status_code == 403 and "no longer shares" in r.json()["detail"]
        assert _bundle_frames(svc, inc) == []  # nor handed over in an evidence bundle
        assert svc.audit.search(action="denied", subject_id="mall-1")
        assert svc.owners.expire_frames() == 1  # and the retention job deletes it
    finally:
        board.close()


def _bundle_frames(svc, inc):
    data, _digest, _meta = svc.evidence.export(inc, "op", "case 2026-114 hand-over")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return sorted(n for n in z.namelist() if n.startswith("frames/"))


def _answer(board, req, event_id):
    data = base64.b64encode(_jpeg(event_id.encode())).decode()
    msg = SnapshotResponse(req=req, ts=1, event=event_id, width=4, height=3, data=data)
    board.publish(T.device("mall-1", Channel.SNAPSHOT), encode(msg))


def test_an_owner_sees_its_own_cameras_and_incidents_and_nothing_else(city, broker):
    svc, api, op, boss = city
    mall, comm = _org(svc, "mall-1"), _org(svc, "comm-1")
    for org, name in ((mall, "mall-owner"), (comm, "comm-owner")):
        r = api.post(f"/api/owners/{org}/accounts",
                     json={"username": name, "password": PASSWORD}, headers=boss)  # fmt: skip
        assert r.status_code == 201, r.text
    assert svc.audit.search(action="create_user")
    assert api.post(f"/api/owners/{mall}/accounts", json={"username": "x1", "password": PASSWORD},
                    headers=op).status_code == 403  # fmt: skip
    boards = {d: connect(broker.ports[0], d) for d in ("mall-1", "comm-1")}
    try:
        inc_mall = _incident(svc, boards["mall-1"], "mall-1")
        inc_comm = _incident(svc, boards["comm-1"], "comm-1")
    finally:
        for b in boards.values():
            b.close()
    m, c = _login(api, "mall-owner"), _login(api, "comm-owner")
    cams = api.get("/api/my-org/cameras", headers=m).json()
    assert sorted(x["id"] for x in cams) == ["mall-1", "mall-2"]
    assert "owner_org" not in cams[0] and "centre_id" not in cams[0]
    assert [i["id"] for i in api.get("/api/my-org/incidents", headers=m).json()] == [inc_mall]
    assert [i["id"] for i in api.get("/api/my-org/incidents", headers=c).json()] == [inc_comm]
    assert [x["id"] for x in api.get("/api/my-org/cameras", headers=c).json()] == ["comm-1"]
    me = api.get("/api/my-org", headers=m).json()
    assert me["org"]["name"] == "义乌国际商贸城有限公司" and me["stats"]["cameras"] == 2
    for path in (
        "/api/devices",
        "/api/incidents",
        "/api/dispatch/units",
        "/api/owners",
        f"/api/incidents/{inc_mall}",
        "/api/fleet/summary",
        "/api/owners/stats",
    ):
        assert api.get(path, headers=m).status_code == 403, path  # fmt: skip
    assert api.get("/api/my-org/cameras", headers=op).status_code == 403


def test_fleet_views_and_statistics_by_owner(city, broker):
    svc, api, op, boss = city
    mall = _org(svc, "mall-1")
    board = connect(broker.ports[0], "mall-2")
    try:
        _incident(svc, board, "mall-2")
    finally:
        board.close()
    devs = api.get(f"/api/devices?org_id={mall}", headers=op).json()
    assert sorted(d["id"] for d in devs) == ["mall-1", "mall-2"]
    assert all(d["org_id"] == mall for d in devs)
    summary = api.get("/api/fleet/summary?by=org_id", headers=op).json()
    assert sum(summary["groups"][str(mall)].values()) == 2
    stats = {s["org_id"]: s for s in api.get("/api/owners/stats", headers=op).json()}
    assert (stats[mall]["cameras"], stats[mall]["incidents_24h"], stats[mall]["incidents_7d"]) == (
        2,
        1,
        1,
    )
    assert stats[_org(svc, "gov-1")]["incidents_24h"] == 0
    assert sum(s["cameras"] for s in stats.values()) == len(CAMS)


#: What an owner's login may read without naming an object: its own page, who it is, its own
#: approval requests, and what is public anyway.
OWNER_READS = {
    "/api/health",
    "/api/auth/me",
    "/api/approvals",
    "/api/my-org",
    "/api/my-org/cameras",
    "/api/my-org/incidents",
    "/api/fraud/public/warnings.atom",
    "/api/enrolment/crl",
}


def test_an_owner_reaches_no_other_route(city):
    svc, api, _op, boss = city
    r = api.post(f"/api/owners/{_org(svc, 'comm-1')}/accounts",
                 json={"username": "comm-owner", "password": PASSWORD}, headers=boss)  # fmt: skip
    assert r.status_code == 201
    h = _login(api, "comm-owner")
    answered = {
        route.path: api.get(route.path, headers=h).status_code
        for route in iter_api_routes(api.app.routes)
        if "GET" in route.methods and "{" not in route.path and route.path.startswith("/api")
    }
    assert len(answered) > 40
    assert {p for p, status in answered.items() if status < 400} <= OWNER_READS
    assert api.post("/api/incidents-stream/tickets", headers=h).status_code == 403
