"""100 of 100 frame requests to an online board are answered: the real centre, a real
Mosquitto, and the board's real Link answering from its real snapshot ring."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from coordinator.app import create_app
from coordinator.identity.auth import Role
from tests.harness.api import PASSWORD, bearer
from tests.harness.core import core_settings, register, running_core
from tests.harness.mqtt import wait_for
from tests.harness.ring_board import ring_board

N = 100


def test_every_request_to_an_online_board_is_answered(tmp_path, broker):
    port = broker.ports[0]
    settings = core_settings(tmp_path / "c", port, evidence_max_frames=N)
    with running_core(settings) as svc, ring_board(tmp_path / "b", port, "cam-0") as board:
        register(svc)
        svc.auth.create_user("op", PASSWORD, [Role.OPERATOR])
        ids = board.emit(N)
        q = "select count(*) n from events where incident_id is not null"
        wait_for(lambda: svc.db.query(q)[0]["n"] == N, 60, f"{N} events in incidents")
        incidents = [
            r["incident_id"] for r in svc.db.query("select distinct incident_id from events")
        ]
        with TestClient(create_app(svc)) as api:
            tok = api.post("/api/auth/login", json={"username": "op", "password": PASSWORD})
            h = bearer(tok.json()["access_token"])
            asked = 0
            for inc in incidents:
                r = api.post(f"/api/incidents/{inc}/frames", json={"purpose": "test"}, headers=h)
                assert r.status_code == 202, r.text
                asked += len(r.json()["requested"])
            assert asked == N
            done = "select count(*) n from snapshots where status != 'pending'"
            wait_for(lambda: svc.db.query(done)[0]["n"] == N, 120, f"{N} answers")
        rows = svc.db.query("select event_id, status, error, sha256 from snapshots")
        failed = [r for r in rows if r["status"] != "ok"]
        assert not failed, failed[:5]
        assert {r["event_id"] for r in rows} == set(ids)
        for r in rows:  # stored exactly as the board kept it
            assert r["sha256"] == hashlib.sha256(board.jpeg(r["event_id"])).hexdigest()
