"""Snapshots on demand through a real broker: request, the board's answer, audited view."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.identity.auth import Role
from protocol import Channel, SnapshotResponse, Topics, decode, encode
from tests.harness.api import PASSWORD, bearer
from tests.harness.core import core_settings, event, register, running_core
from tests.harness.mqtt import connect, wait_for

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x00" * 32 + b"\xff\xd9"
T = Topics()


@pytest.fixture
def city(tmp_path, broker):
    with running_core(core_settings(tmp_path / "c", broker.ports[0])) as svc:
        register(svc)
        svc.auth.create_user("op", PASSWORD, [Role.OPERATOR])
        svc.auth.create_user("tech", PASSWORD, [Role.TECHNICIAN])
        with TestClient(create_app(svc)) as api:
            yield svc, api


def _token(api, user):
    return api.post("/api/auth/login", json={"username": user, "password": PASSWORD}).json()[
        "access_token"
    ]


def _incident_from(svc, board, dev="cam-0"):
    board.publish(T.device(dev, Channel.EVENT), encode(event(dev, 1, track=5)))
    return wait_for(lambda: svc.db.query("select id from incidents"), 10, "incident")[0]["id"]


def test_snapshot_requested_answered_and_viewed_with_audit(city, broker):
    svc, api = city
    board = connect(broker.ports[0], "cam-0")
    other = connect(broker.ports[0], "cam-1")
    try:
        board.subscribe(T.device("cam-0", Channel.SNAPSHOT_REQ))
        inc = _incident_from(svc, board)
        h = bearer(_token(api, "op"))
        r = api.post(f"/api/incidents/{inc}/snapshot", headers=h)
        assert r.status_code == 202, r.text
        req = r.json()["req"]
        asked = decode(Channel.SNAPSHOT_REQ, board.get().payload)
        assert asked.req == req
        # Another board answering the request is ignored; the asked board's answer is kept.
        forged = SnapshotResponse(
            req=req, ts=1, data=base64.b64encode(b"\xff\xd8evil\xff\xd9").decode()
        )
        other.publish(T.device("cam-1", Channel.SNAPSHOT), encode(forged))
        good = SnapshotResponse(
            req=req, ts=2, width=2, height=2, data=base64.b64encode(JPEG).decode()
        )
        board.publish(T.device("cam-0", Channel.SNAPSHOT), encode(good))
        st = wait_for(
            lambda: (
                api.get(f"/api/snapshots/{req}", headers=h).json()["status"] != "pending"
                and api.get(f"/api/snapshots/{req}", headers=h).json()
            ),
            10,
            "answer",
        )
        assert st["status"] == "ok" and st["device_id"] == "cam-0"
        img = api.get(f"/api/snapshots/{req}/image", headers=h)
        assert (
            img.status_code == 200
            and img.content == JPEG
            and img.headers["content-type"] == "image/jpeg"
        )
        assert svc.audit.search(action="view_snapshot", subject_id=req)
        assert svc.snapshots.rejected >= 1
    finally:
        board.close()
        other.close()


@pytest.mark.parametrize(
    "answer,reason",
    [
        (dict(ok=False, error="frame expired from the ring buffer"), "expired"),
        (dict(data=base64.b64encode(b"GIF89a not a jpeg").decode()), "not a JPEG"),
        (dict(data="%%% not base64 %%%"), "not a JPEG"),
    ],
)
def test_bad_answers_are_recorded_as_errors(city, broker, answer, reason):
    svc, api = city
    board = connect(broker.ports[0], "cam-0")
    try:
        board.subscribe(T.device("cam-0", Channel.SNAPSHOT_REQ))
        inc = _incident_from(svc, board)
        h = bearer(_token(api, "op"))
        req = api.post(f"/api/incidents/{inc}/snapshot", headers=h).json()["req"]
        board.publish(
            T.device("cam-0", Channel.SNAPSHOT), encode(SnapshotResponse(req=req, ts=3, **answer))
        )
        st = wait_for(
            lambda: (
                (s := api.get(f"/api/snapshots/{req}", headers=h).json())["status"] != "pending"
                and s
            ),
            10,
            "answer",
        )
        assert st["status"] == "error" and reason in st["error"]
        assert api.get(f"/api/snapshots/{req}/image", headers=h).status_code == 404
    finally:
        board.close()


def test_snapshot_of_unknown_incident_and_wrong_role(city):
    svc, api = city
    assert (
        api.post("/api/incidents/nope/snapshot", headers=bearer(_token(api, "op"))).status_code
        == 409
    )
    assert (
        api.post("/api/incidents/nope/snapshot", headers=bearer(_token(api, "tech"))).status_code
        == 403
    )
    assert api.get("/api/snapshots/0190", headers=bearer(_token(api, "op"))).status_code == 404
