"""Evidence export: the bundle's hashes verify, tampering shows, and every export is audited."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.identity.auth import Role
from coordinator.incidents.evidence import build_bundle, verify_bundle
from protocol import Channel, SnapshotResponse, Topics, decode, encode
from tests.harness.api import PASSWORD, bearer
from tests.harness.core import core_settings, event, register, running_core
from tests.harness.mqtt import connect, wait_for

T = Topics()
FILES = {"frames/a.jpg": b"\xff\xd8\xff frame a", "events.json": b"[]\n", "actions.json": b"[]\n"}


def _rezip(data: bytes, change) -> bytes:
    """A copy of the zip with ``change(files)`` applied to its {name: bytes}."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        files = {n: z.read(n) for n in z.namelist()}
    change(files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    return buf.getvalue()


def test_bundle_lists_every_file_with_its_hash_and_hashes_its_manifest():
    data, digest = build_bundle(FILES, {"incident_id": "i1", "exported_at": 1795000000.0})
    assert verify_bundle(data) == []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = z.read("manifest.json")
        assert z.read("manifest.json.sha256").decode() == f"{digest}  manifest.json\n"
        listed = {f["path"]: f for f in json.loads(manifest)["files"]}
    assert hashlib.sha256(manifest).hexdigest() == digest
    assert set(listed) == set(FILES)
    for path, body in FILES.items():
        assert listed[path]["sha256"] == hashlib.sha256(body).hexdigest()
        assert listed[path]["bytes"] == len(body)


@pytest.mark.parametrize(
    "change,problem",
    [
        (
            lambda f: f.update({"frames/a.jpg": b"\xff\xd8\xff edited"}),
            "frames/a.jpg does not match",
        ),
        (lambda f: f.pop("events.json"), "events.json is missing"),
        (lambda f: f.update({"frames/b.jpg": b"\xff\xd8\xff planted"}), "frames/b.jpg is not in"),
        (
            lambda f: f.update({"manifest.json": f["manifest.json"].replace(b"i1", b"i2")}),
            "manifest.json does not match",
        ),
    ],
)
def test_tampering_is_found(change, problem):
    data, _ = build_bundle(FILES, {"incident_id": "i1", "exported_at": 1795000000.0})
    problems = verify_bundle(_rezip(data, change))
    assert any(problem in p for p in problems), problems


def test_export_over_the_api_holds_frames_events_and_log_and_is_audited(tmp_path, broker):
    with running_core(core_settings(tmp_path / "c", broker.ports[0])) as svc:
        register(svc)
        svc.auth.create_user("op", PASSWORD, [Role.OPERATOR])
        svc.auth.create_user("disp", PASSWORD, [Role.DISPATCHER])
        board = connect(broker.ports[0], "cam-0")
        with TestClient(create_app(svc)) as api:
            tok = api.post("/api/auth/login", json={"username": "op", "password": PASSWORD})
            h = bearer(tok.json()["access_token"])
            try:
                board.subscribe(T.device("cam-0", Channel.SNAPSHOT_REQ))
                evs = [event("cam-0", 1, track=3), event("cam-0", 2, track=3, phase="end")]
                for e in evs:
                    board.publish(T.device("cam-0", Channel.EVENT), encode(e))
                inc = wait_for(
                    lambda: (
                        (r := svc.db.query("select id from incidents where event_count = 2")) and r
                    ),
                    10,
                    "incident",
                )[0]["id"]
                api.post(f"/api/incidents/{inc}/confirm", json={"note": "seen"}, headers=h)
                api.post(f"/api/incidents/{inc}/frames", json={"purpose": "case 9"}, headers=h)
                jpegs = {}
                for _ in evs:
                    a = decode(Channel.SNAPSHOT_REQ, board.get().payload)
                    jpegs[a.event] = b"\xff\xd8\xff\xe0" + a.event.encode() + b"\xff\xd9"
                    board.publish(
                        T.device("cam-0", Channel.SNAPSHOT),
                        encode(
                            SnapshotResponse(
                                req=a.req,
                                ts=1,
                                event=a.event,
                                data=base64.b64encode(jpegs[a.event]).decode(),
                            )
                        ),
                    )
                wait_for(
                    lambda: (
                        svc.db.query("select count(*) n from snapshots where status = 'ok'")[0]["n"]
                        == 2
                    ),
                    10,
                    "frames stored",
                )
                r = api.post(
                    f"/api/incidents/{inc}/evidence",
                    json={"purpose": "hand-over to prosecutor, case 9"},
                    headers=h,
                )
                assert r.status_code == 200, r.text
                assert r.headers["content-type"] == "application/zip"
                assert verify_bundle(r.content) == []
                with zipfile.ZipFile(io.BytesIO(r.content)) as z:
                    for eid, jpeg in jpegs.items():
                        assert z.read(f"frames/{eid}.jpg") == jpeg  # unaltered
                    events = json.loads(z.read("events.json"))
                    actions = json.loads(z.read("actions.json"))
                    manifest = json.loads(z.read("manifest.json"))
                    digest = hashlib.sha256(z.read("manifest.json")).hexdigest()
                assert [e["id"] for e in events] == [e.id for e in evs]
                assert events[0]["box"] == [100, 100, 300, 800]
                assert any(a["action"] == "confirmed" and a["actor"] == "op" for a in actions)
                assert manifest["exported_by"] == "op" and manifest["frames"] == 2
                assert r.headers["x-manifest-sha256"] == digest
                entry = svc.audit.search(action="export_evidence", subject_id=inc)[0]
                assert entry["purpose"] == "hand-over to prosecutor, case 9"
                assert json.loads(entry["detail"])["manifest_sha256"] == digest
                # A purpose is required; a dispatcher cannot export; unknown incident is 404.
                assert (
                    api.post(f"/api/incidents/{inc}/evidence", json={}, headers=h).status_code
                    == 422
                )
                tok2 = api.post("/api/auth/login", json={"username": "disp", "password": PASSWORD})
                h2 = bearer(tok2.json()["access_token"])
                denied = api.post(
                    f"/api/incidents/{inc}/evidence", json={"purpose": "curious"}, headers=h2
                )
                assert denied.status_code == 403
                missing = api.post(
                    "/api/incidents/nope/evidence", json={"purpose": "x" * 5}, headers=h
                )
                assert missing.status_code == 404
            finally:
                board.close()
