"""Incident service contract, operator actions through the API, stream, metrics, tuning."""

from __future__ import annotations

import json
import threading

import pytest

from coordinator.identity.auth import Role
from coordinator.incidents.status import ChangeKind
from protocol import Channel, Config, Topics, decode
from tests.harness.api import bearer
from tests.harness.core import (
    core_settings,
    count,
    event,
    inject,
    register,
    running_core,
    wait_count,
)
from tests.harness.mqtt import connect, wait_for


@pytest.fixture
def fleet(services):
    register(services)
    return services


def _one_incident(svc, dev="cam-0", track=1, n=1, **kw):
    evs = [event(dev, i + 1, track=track, **kw) for i in range(n)]
    inject(svc, evs)
    wait_for(
        lambda: count(svc, "select count(*) from events where id = ?", [evs[-1].id]), 10, "event"
    )
    return svc.db.query("select incident_id from events where id = ?", [evs[-1].id])[0][
        "incident_id"
    ]


def test_service_contract_for_dispatch(fleet):
    svc = fleet.incidents
    seen = []
    svc.on_change(lambda inc, change: seen.append((inc["id"], inc["status"], change)))
    iid = _one_incident(fleet)
    inc = svc.get(iid)
    for key in (
        "id",
        "status",
        "kind",
        "priority",
        "lat",
        "lon",
        "zone",
        "confidence",
        "created_at",
        "updated_at",
    ):
        assert key in inc, key
    assert isinstance(inc["id"], str) and 1 <= inc["priority"] <= 5 and inc["zone"] == "Z01"
    for st in ("dispatched", "en_route", "on_scene", "resolved"):
        out = svc.transition(iid, st, "unit-7", note=f"now {st}")
        assert out["status"] == st and out[f"{st}_at"] is not None
    with pytest.raises(ValueError, match="cannot move an incident from 'resolved'"):
        svc.transition(iid, "dispatched", "unit-7")
    assert svc.get("nope") is None
    svc.flush()
    assert [s[2] for s in seen] == ["created"] + ["transition"] * 4
    assert all(isinstance(s[2], ChangeKind) for s in seen)  # the named contract
    assert [s[1] for s in seen][-1] == "resolved"
    log = [h["action"] for h in svc.history(iid)]
    assert log == ["dispatched", "en_route", "on_scene", "resolved"]


def test_operator_actions_via_api(api, tokens, fleet):
    op = bearer(tokens[Role.OPERATOR])
    a = _one_incident(fleet, "cam-0", track=1)
    b = _one_incident(fleet, "cam-9", track=1)  # 2 km away: its own incident
    assert a != b
    r = api.post(f"/api/incidents/{a}/confirm", json={"note": "seen on screen"}, headers=op)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    r = api.post(f"/api/incidents/{a}/annotate", json={"text": "blue van"}, headers=op)
    assert r.status_code == 200 and r.json()["notes"] == 1
    # merge b into a, then undo it
    r = api.post(f"/api/incidents/{a}/merge", json={"sources": [b]}, headers=op)
    assert r.status_code == 200 and r.json()["event_count"] == 2, r.text
    assert api.get(f"/api/incidents/{b}", headers=op).json()["status"] == "merged"
    r = api.post(f"/api/incidents/{b}/unmerge", headers=op)
    assert r.status_code == 200 and r.json()["status"] == "new" and r.json()["event_count"] == 1
    assert api.get(f"/api/incidents/{a}", headers=op).json()["event_count"] == 1
    # split: a camera's events leave into a new incident
    c = _one_incident(fleet, "cam-1", track=5)  # nearby: auto-merged into a
    assert c == a
    r = api.post(f"/api/incidents/{a}/split", json={"device_ids": ["cam-1"]}, headers=op)
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] != a and new["devices"] == ["cam-1"] and new["event_count"] == 1
    hist = [h["action"] for h in api.get(f"/api/incidents/{a}", headers=op).json()["history"]]
    assert hist == ["confirmed", "note", "merge", "unmerge", "auto_merge", "split"]


@pytest.mark.parametrize(
    ("what", "path", "body", "status", "text"),
    [
        ("dismiss without a reason", "dismiss", {}, 422, "reason"),
        ("dismiss with a one-letter reason", "dismiss", {"reason": "x"}, 422, "reason"),
        ("unknown field in a body", "confirm", {"note": "a", "bogus": 1}, 422, "bogus"),
        ("status that is not a lifecycle step", "transition", {"status": "flying"}, 422, "status"),
        ("illegal lifecycle move", "transition", {"status": "on_scene"}, 409, "cannot move"),
        ("merge with an empty list", "merge", {"sources": []}, 422, "sources"),
        ("split with nothing to split", "split", {}, 409, "split needs"),
        ("notes of the wrong type", "annotate", {"text": ["a"]}, 422, "text"),
    ],
)
def test_bad_bodies_get_clear_errors_never_500(api, tokens, fleet, what, path, body, status, text):
    """Tried: {what}."""
    iid = _one_incident(fleet)
    r = api.post(f"/api/incidents/{iid}/{path}", json=body, headers=bearer(tokens[Role.OPERATOR]))
    assert r.status_code == status, r.text
    assert text in r.text


def test_unknown_incident_is_404(api, tokens):
    r = api.post("/api/incidents/x1/confirm", json={}, headers=bearer(tokens[Role.OPERATOR]))
    assert r.status_code == 404 and "no incident" in r.json()["detail"]


def test_device_registration_api(api, tokens):
    tech = bearer(tokens[Role.TECHNICIAN])
    body = {
        "id": "cam-77",
        "owner_org": "Futian Market Co.",
        "owner_type": "company",
        "lat": 29.33,
        "lon": 120.1,
        "heading": 90,
        "zone": "Z02",
        "profile": "pi5",
        "cert_fingerprint": "ab" * 32,
        "cert_not_after": "2026-12-01T00:00:00Z",
    }
    r = api.post("/api/devices", json=body, headers=tech)
    assert r.status_code == 201, r.text
    got = api.get("/api/devices/cam-77", headers=tech).json()
    assert got["owner_type"] == "company" and got["cert_not_after"].startswith("2026-12-01")
    assert api.get("/api/devices/cam-78", headers=tech).status_code == 404
    r = api.post("/api/devices", json={**body, "owner_type": "alien", "lat": 123}, headers=tech)
    assert r.status_code == 422 and "owner_type" in r.text and "lat" in r.text
    r = api.post("/api/devices", json=body, headers=bearer(tokens[Role.OPERATOR]))
    assert r.status_code == 403


def test_cert_expiry_and_fleet_summary(api, tokens, services):
    import datetime as dt

    fleet = services.fleet
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=300)
    for dev, na, owner in (("c-soon", soon, "community"), ("c-later", later, "government")):
        fleet.register(
            {
                "id": dev,
                "owner_org": "o",
                "owner_type": owner,
                "lat": 1,
                "lon": 1,
                "zone": "Z9",
                "cert_not_after": na.isoformat(),
            }
        )
    op = bearer(tokens[Role.OPERATOR])
    exp = api.get("/api/fleet/cert-expiry", headers=op).json()
    assert [d["id"] for d in exp] == ["c-soon"] and 9 <= exp[0]["cert_days_left"] <= 10
    s = api.get("/api/fleet/summary?by=owner_type", headers=op).json()
    assert s["groups"]["community"]["cert_expiring"] == 1
    assert s["total"]["unknown"] == 2
    assert api.get("/api/fleet/summary?by=colour", headers=op).status_code == 422


def test_stream_delivers_changes_and_checks_roles(api, tokens, fleet):
    assert (
        api.get(
            "/api/incidents-stream?max_s=0.1", headers=bearer(tokens[Role.TECHNICIAN])
        ).status_code
        == 403
    )
    assert api.get("/api/incidents-stream?max_s=0.1").status_code == 401
    got: list[str] = []

    def later():
        wait_for(lambda: fleet.stream.streams == 1, 5, "stream subscribed")
        _one_incident(fleet)

    t = threading.Thread(target=later)
    # The dashboard's way: a single-use ticket minted with the header, then ?ticket=.
    ticket = api.post("/api/incidents-stream/tickets", headers=bearer(tokens[Role.OPERATOR]))
    assert ticket.status_code == 200
    with api.stream("GET", f"/api/incidents-stream?max_s=3&ticket={ticket.json()['ticket']}") as r:
        assert r.status_code == 200
        t.start()
        for line in r.iter_lines():
            if line.startswith("data: "):
                got.append(line[6:])
                break
    t.join()
    msg = json.loads(got[0])
    assert msg["change"] == "created" and msg["incident"]["status"] == "new"


def test_metrics_exposes_ingest_and_fleet(api, tokens, fleet):
    _one_incident(fleet)
    wait_for(lambda: fleet.ingest.stats.stored == 1, 5, "stored")
    text = api.get("/metrics", headers=bearer(tokens[Role.OPERATOR])).text
    assert "citywatch_events_stored_total 1.0" in text
    assert 'citywatch_devices{status="unknown"} 4.0' in text
    assert 'citywatch_incidents_open{status="new"} 1.0' in text


def test_dismissals_propose_a_threshold_that_is_pushed_as_retained_config(tmp_path, broker):
    settings = core_settings(tmp_path / "c", broker.ports[0], false_alarm_min_dismissals=3)
    with running_core(settings) as svc:
        register(svc)
        inc = svc.incidents
        for track in (1, 2, 3):
            iid = _one_incident(svc, "cam-0", track=track, ts=None)
            # separate incidents: move time apart by dismissing before the next one
            inc.dismiss(iid, "op", "shadow of a tree")
        props = svc.tuning.proposals()
        assert len(props) == 1, svc.db.query("select id, status from incidents")
        p = props[0]
        assert (p["device_id"], p["rule"], p["label"]) == ("cam-0", "intrusion", "person")
        assert p["current"] == 0.5 and p["proposed"] == 0.6 and p["rate"] == 1.0
        svc.tuning.decide(p["id"], True, "op")
        board = connect(broker.ports[0], "cam-0-sub")
        try:
            board.subscribe(Topics().device("cam-0", Channel.CONFIG))
            m = board.get(10)
            assert m.retain
            cfg = decode(Channel.CONFIG, m.payload)
            # Revision 1 is the profile's defaults (seeded at registration); the approval is
            # revision 2: the threshold moves, every zone stays.
            seeded = svc.camrules.revisions("cam-0")[-1]["rules"]
            assert isinstance(cfg, Config) and cfg.rev == 2
            assert cfg.thresholds == {**seeded["thresholds"], "person": 0.6}
            assert [z.name for z in cfg.zones] == [z["name"] for z in seeded["zones"]]
        finally:
            board.close()
        with pytest.raises(ValueError, match="already approved"):
            svc.tuning.decide(p["id"], False, "op")
        wait_count(svc, "select count(*) from audit_log where action = 'threshold_approved'", 1)


def test_api_status_names_are_the_incident_statuses():
    from typing import get_args

    from coordinator.incidents.api import Status
    from coordinator.incidents.status import IncidentStatus

    assert set(get_args(Status)) == {s.value for s in IncidentStatus}
