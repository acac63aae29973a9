"""An incident's frames through a real broker: every event asked for, sharing terms honoured,
requests retried and timed out, answers checked, views audited, frames purged on retention."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.identity.auth import Role
from protocol import Channel, SnapshotResponse, Topics, decode, encode
from tests.harness.api import PASSWORD, bearer
from tests.harness.core import core_settings, event, register, running_core
from tests.harness.mqtt import connect, wait_for

T = Topics()


def _jpeg(tag: bytes) -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + tag + b"\x00" * 16 + b"\xff\xd9"


def _start(tmp_path, broker, **over):
    return running_core(core_settings(tmp_path / "c", broker.ports[0], **over))


@pytest.fixture
def city(tmp_path, broker):
    with _start(tmp_path, broker) as svc:
        register(svc)
        svc.auth.create_user("op", PASSWORD, [Role.OPERATOR])
        with TestClient(create_app(svc)) as api:
            tok = api.post("/api/auth/login", json={"username": "op", "password": PASSWORD})
            yield svc, api, bearer(tok.json()["access_token"])


def _incident(svc, board, dev, phases=("start", "update", "end")):
    evs = [event(dev, i + 1, track=5, phase=p) for i, p in enumerate(phases)]
    for e in evs:
        board.publish(T.device(dev, Channel.EVENT), encode(e))
    rows = wait_for(
        lambda: (
            (r := svc.db.query("select incident_id, count(*) n from events group by incident_id"))
            and r[0]["n"] == len(evs)
            and r
        ),
        10,
        "incident",
    )
    return rows[0]["incident_id"], [e.id for e in evs]


def _answer(board, dev, req, event_id, data: bytes | None = None, **kw):
    msg = SnapshotResponse(
        req=req,
        ts=1,
        event=event_id,
        width=4,
        height=3,
        data=base64.b64encode(data if data is not None else _jpeg(event_id.encode())).decode(),
        **kw,
    )
    board.publish(T.device(dev, Channel.SNAPSHOT), encode(msg))


def _settled(api, h, inc, n):
    return wait_for(
        lambda: (
            (fs := api.get(f"/api/incidents/{inc}/frames", headers=h).json())
            and len(fs) == n
            and all(f["status"] != "pending" for f in fs)
            and fs
        ),
        15,
        "frames answered",
    )


def test_every_event_of_the_incident_is_asked_for_and_boxes_come_as_metadata(city, broker):
    svc, api, h = city
    board = connect(broker.ports[0], "cam-0")
    try:
        board.subscribe(T.device("cam-0", Channel.SNAPSHOT_REQ))
        inc, ids = _incident(svc, board, "cam-0")
        r = api.post(f"/api/incidents/{inc}/frames", json={"purpose": "review"}, headers=h)
        assert r.status_code == 202, r.text
        body = r.json()
        assert {x["event_id"] for x in body["requested"]} == set(ids)
        assert body["refused"] == [] and body["already"] == 0
        asked = [decode(Channel.SNAPSHOT_REQ, board.get().payload) for _ in ids]
        for a in asked:
            _answer(board, "cam-0", a.req, a.event)
        frames = _settled(api, h, inc, 3)
        assert [f["phase"] for f in frames] == ["start", "update", "end"]
        for f in frames:
            want = _jpeg(f["event_id"].encode())
            assert f["status"] == "ok" and f["sha256"] == hashlib.sha256(want).hexdigest()
            assert f["boxes"] == [
                {
                    "event_id": f["event_id"],
                    "label": "person",
                    "kind": "intrusion",
                    "box": [100, 100, 300, 800],
                }
            ]
            img = api.get(
                f"/api/snapshots/{f['req']}/image", headers={**h, "X-Purpose": "case 17 review"}
            )
            assert img.content == want  # the image is never altered
        views = svc.audit.search(action="view_snapshot")
        assert len(views) == 3 and {v["purpose"] for v in views} == {"case 17 review"}
        assert (
            svc.audit.search(action="request_snapshots", subject_id=inc)[0]["purpose"] == "review"
        )
        # Asking again asks for nothing already stored.
        again = api.post(f"/api/incidents/{inc}/frames", json={}, headers=h).json()
        assert again["requested"] == [] and again["already"] == 3
    finally:
        board.close()


@pytest.mark.parametrize(
    "answer,why",
    [
        ("other-event", "asked about another event"),
        ("other-board", "sent by a board we did not ask"),
    ],
)
def test_answers_that_do_not_match_the_request_are_ignored(city, broker, answer, why):
    svc, api, h = city
    board = connect(broker.ports[0], "cam-0")
    other = connect(broker.ports[0], "cam-1")
    try:
        board.subscribe(T.device("cam-0", Channel.SNAPSHOT_REQ))
        inc, ids = _incident(svc, board, "cam-0", phases=("start", "end"))
        api.post(f"/api/incidents/{inc}/frames", json={}, headers=h)
        a = decode(Channel.SNAPSHOT_REQ, board.get().payload)
        wrong_event = next(i for i in ids if i != a.event)
        if answer == "other-event":
            _answer(board, "cam-0", a.req, wrong_event)
        else:
            _answer(other, "cam-1", a.req, a.event)
        wait_for(lambda: svc.snapshots.rejected >= 1, 10, why)
        assert svc.snapshots.status(a.req)["status"] == "pending"
        _answer(board, "cam-0", a.req, a.event)
        wait_for(lambda: svc.snapshots.status(a.req)["status"] == "ok", 10, "the answer")
    finally:
        board.close()
        other.close()


def test_unanswered_requests_are_sent_again_then_time_out(tmp_path, broker):
    with _start(tmp_path, broker, snapshot_attempts=3, snapshot_timeout_s=0.6) as svc:
        register(svc)
        board = connect(broker.ports[0], "cam-0")
        try:
            board.subscribe(T.device("cam-0", Channel.SNAPSHOT_REQ))
            inc, _ids = _incident(svc, board, "cam-0", phases=("start",))
            out = svc.snapshots.request_incident(inc, "op")
            req = out["requested"][0]["req"]
            first = decode(Channel.SNAPSHOT_REQ, board.get().payload)
            second = decode(Channel.SNAPSHOT_REQ, board.get(timeout=10).payload)
            assert first.req == second.req == req  # the same request: a late answer counts
            third = decode(Channel.SNAPSHOT_REQ, board.get(timeout=10).payload)
            assert third.req == req
            st = wait_for(
                lambda: (s := svc.snapshots.status(req))["status"] == "timeout" and s,
                10,
                "timeout",
            )
            assert st["attempts"] == 3 and "3 tries" in st["error"]
            # A straggler after the timeout is not stored.
            _answer(board, "cam-0", req, first.event)
            wait_for(lambda: svc.snapshots.rejected >= 1, 10, "late answer rejected")
            assert svc.snapshots.status(req)["status"] == "timeout"
        finally:
            board.close()


def test_a_retried_request_answered_late_is_kept(tmp_path, broker):
    with _start(tmp_path, broker, snapshot_attempts=5, snapshot_timeout_s=0.6) as svc:
        register(svc)
        board = connect(broker.ports[0], "cam-0")
        try:
            board.subscribe(T.device("cam-0", Channel.SNAPSHOT_REQ))
            inc, _ids = _incident(svc, board, "cam-0", phases=("start",))
            svc.snapshots.request_incident(inc, "op")
            board.get()  # the first send is lost on the board's side
            a = decode(Channel.SNAPSHOT_REQ, board.get(timeout=10).payload)
            _answer(board, "cam-0", a.req, a.event)
            st = wait_for(
                lambda: (s := svc.snapshots.status(a.req))["status"] == "ok" and s,
                10,
                "stored",
            )
            assert st["attempts"] >= 2
        finally:
            board.close()


@pytest.mark.parametrize(
    "owner,sharing,purpose,status,reason",
    [
        ("government", None, None, 202, None),
        ("company", None, None, 403, "only with a stated purpose"),
        ("company", None, "case 2026-114", 202, None),
        ("community", "none", "case 2026-114", 403, "does not share evidence frames"),
        ("government", "none", None, 403, "does not share evidence frames"),
    ],
)
def test_sharing_terms_refuse_with_a_reason(city, broker, owner, sharing, purpose, status, reason):
    svc, api, h = city
    dev = {
        "id": "cam-0",
        "owner_org": "Gate Co",
        "owner_type": owner,
        "lat": 29.306,
        "lon": 120.076,
    }
    svc.fleet.register({**dev, "evidence_sharing": sharing} if sharing else dev)
    board = connect(broker.ports[0], "cam-0")
    try:
        inc, _ids = _incident(svc, board, "cam-0", phases=("start",))
        r = api.post(f"/api/incidents/{inc}/frames", json={"purpose": purpose}, headers=h)
        assert r.status_code == status, r.text
        if reason:
            assert reason in r.json()["detail"]
            assert svc.db.query("select count(*) n from snapshots")[0]["n"] == 0
            entry = svc.audit.search(action="request_snapshots", subject_id=inc)[0]
            assert "cam-0" in entry["detail"]  # the refusal is on record
        one = api.post(f"/api/incidents/{inc}/snapshot", headers={**h, "X-Purpose": purpose or ""})
        assert one.status_code == status
    finally:
        board.close()


def test_a_mixed_incident_asks_the_willing_cameras_and_says_who_refused(city, broker):
    svc, api, h = city
    svc.fleet.register(
        {
            "id": "cam-1",
            "owner_org": "Mall",
            "owner_type": "company",
            "lat": 29.3066,
            "lon": 120.0766,
            "evidence_sharing": "none",
        }
    )
    board = connect(broker.ports[0], "cam-0")
    mall = connect(broker.ports[0], "cam-1")
    try:
        t = int(time.time() * 1000)
        board.publish(T.device("cam-0", Channel.EVENT), encode(event("cam-0", 1, track=1, ts=t)))
        mall.publish(T.device("cam-1", Channel.EVENT), encode(event("cam-1", 1, track=1, ts=t)))
        inc = wait_for(
            lambda: (r := svc.db.query("select id from incidents where event_count = 2")) and r,
            10,
            "a two-camera incident",
        )[0]["id"]
        body = api.post(f"/api/incidents/{inc}/frames", json={}, headers=h).json()
        assert [x["device_id"] for x in body["requested"]] == ["cam-0"]
        assert body["refused"] == [
            {
                "device_id": "cam-1",
                "sharing": "none",
                "reason": "camera cam-1 (company-owned) does not share evidence frames",
                "agreement": False,
            }
        ]
    finally:
        board.close()
        mall.close()


def test_frames_expire_after_the_retention(tmp_path, broker):
    with _start(tmp_path, broker, snapshot_retention_hours=1 / 3600) as svc:
        register(svc)
        board = connect(broker.ports[0], "cam-0")
        try:
            board.subscribe(T.device("cam-0", Channel.SNAPSHOT_REQ))
            inc, _ids = _incident(svc, board, "cam-0", phases=("start",))
            svc.snapshots.request_incident(inc, "op")
            a = decode(Channel.SNAPSHOT_REQ, board.get().payload)
            _answer(board, "cam-0", a.req, a.event)
            wait_for(lambda: svc.snapshots.status(a.req)["status"] == "ok", 10, "stored")
            svc.jobs.run_all()  # within the retention: kept
            assert svc.snapshots.frames(inc)
            wait_for(lambda: time.time() - svc.snapshots.status(a.req)["created_at"] > 1.2, 5)
            svc.jobs.run_all()  # the one scheduler's expiry job
            assert svc.snapshots.frames(inc) == []
            assert svc.db.query("select count(*) n from snapshots")[0]["n"] == 0
        finally:
            board.close()


def test_sharing_terms_are_set_per_camera_and_audited(city):
    svc, api, _h = city
    svc.auth.create_user("tech", PASSWORD, [Role.TECHNICIAN])
    tok = api.post("/api/auth/login", json={"username": "tech", "password": PASSWORD})
    tech = bearer(tok.json()["access_token"])
    body = {"evidence_sharing": "none", "note": "owner letter 2026-03"}
    r = api.put("/api/devices/cam-0/evidence-sharing", json=body, headers=tech)
    assert r.json() == {"device_id": "cam-0", "evidence_sharing": "none", "effective": "none"}
    assert svc.fleet.get("cam-0")["evidence_sharing"] == "none"
    entry = svc.audit.search(action="device_evidence_sharing", subject_id="cam-0")[0]
    assert "owner letter" in entry["detail"] and entry["actor"] == "tech"
    back = {"evidence_sharing": None, "note": "agreement renewed"}
    r = api.put("/api/devices/cam-0/evidence-sharing", json=back, headers=tech)
    assert r.json()["effective"] == "always"  # a government camera's default
    assert api.put("/api/devices/nope/evidence-sharing", json=back, headers=tech).status_code == 404
    assert api.put("/api/devices/cam-0/evidence-sharing", json=back, headers=_h).status_code == 403


def test_frames_follow_their_events_into_a_merged_incident(city, broker):
    svc, api, h = city
    board = connect(broker.ports[0], "cam-9")
    try:
        board.subscribe(T.device("cam-9", Channel.SNAPSHOT_REQ))
        first, ids = _incident(svc, board, "cam-9", phases=("start",))
        api.post(f"/api/incidents/{first}/frames", json={}, headers=h)
        a = decode(Channel.SNAPSHOT_REQ, board.get().payload)
        _answer(board, "cam-9", a.req, a.event)
        wait_for(lambda: svc.snapshots.status(a.req)["status"] == "ok", 10, "stored")
        other = connect(broker.ports[0], "cam-0")
        try:
            other.publish(T.device("cam-0", Channel.EVENT), encode(event("cam-0", 1, track=8)))
            target = wait_for(
                lambda: (
                    (r := svc.db.query("select id from incidents where id != ?", [first]))
                    and r[0]["id"]
                ),
                10,
                "a second incident",
            )
        finally:
            other.close()
        api.post(f"/api/incidents/{target}/merge", json={"sources": [first]}, headers=h)
        frames = api.get(f"/api/incidents/{target}/frames", headers=h).json()
        assert [f["event_id"] for f in frames] == ids
        again = api.post(f"/api/incidents/{target}/frames", json={}, headers=h).json()
        assert again["already"] == 1 and len(again["requested"]) == 1  # only cam-0's event
    finally:
        board.close()


def test_without_a_link_requests_are_not_sent_again_but_still_time_out(services):
    """A separate jobs process has no connected link: it only times requests out."""
    snaps = services.snapshots
    assert not snaps.can_send()
    now = time.time()
    old, fresh = now - snaps.timeout_s * snaps.attempts - 1, now - snaps.timeout_s - 1
    services.db.write(
        lambda d: d.table("snapshots").insert_all(
            [
                {
                    "req": r,
                    "incident_id": "i",
                    "device_id": "cam-0",
                    "event_id": "e",
                    "created_at": t,
                    "sent_at": t,
                    "attempts": 1,
                    "status": "pending",
                }
                for r, t in (("old", old), ("fresh", fresh))
            ]
        )
    )
    assert snaps.retry_due(now) == 1
    assert snaps.status("old")["status"] == "timeout"
    assert snaps.status("fresh")["status"] == "pending" and snaps.status("fresh")["attempts"] == 1
