"""Flood suppression: cameras that go down together are one alert, by the written rule."""

from __future__ import annotations

import time

import pytest

from coordinator.fleet.alert_groups import DownRule, label, plan
from coordinator.fleet.service import DeviceIn
from coordinator.identity.auth import Role
from protocol import Health, State
from tests.harness.api import bearer

RULE = DownRule(min_count=5, window_s=300, keys=("street", "zone", "owner_org"))


def _dev(zone: str, owner: str, street: str | None = None) -> dict:
    return {"zone": zone, "owner_org": owner, "street": street}


def test_five_cameras_of_one_zone_form_a_group_four_do_not() -> None:
    pool = [(i, _dev("Z3", f"org-{i}")) for i in range(5)]
    joined, formed = plan(pool, {}, pool, RULE)
    assert joined == {} and formed == {("zone", "Z3"): [0, 1, 2, 3, 4]}
    _, formed = plan(pool[:4], {}, pool[:4], RULE)
    assert formed == {}


def test_street_comes_before_zone_and_owner_catches_the_rest() -> None:
    on_street = [(i, _dev(f"Z{i}", "org-a", "Jiangbin Rd")) for i in range(5)]
    scattered = [(10 + i, _dev(f"Z{i}", "Futian Co.")) for i in range(6)]
    pool = on_street + scattered
    _, formed = plan(pool, {}, pool, RULE)
    assert formed == {
        ("street", "Jiangbin Rd"): [0, 1, 2, 3, 4],
        ("owner_org", "Futian Co."): [10, 11, 12, 13, 14, 15],
    }


def test_a_camera_joins_the_open_group_of_its_key() -> None:
    new = [(99, _dev("Z3", "org-x"))]
    joined, formed = plan(new, {("zone", "Z3"): 7}, new, RULE)
    assert joined == {99: 7} and formed == {}
    assert label("zone", "Z3", 12) == "12 cameras down in zone Z3"
    assert label("owner_org", "Futian Co.", 1) == "1 camera down of Futian Co."


@pytest.fixture
def fleet(services):
    f = services.fleet
    cams = []
    for i in range(40):
        zone, owner = ("ZA", f"org-{i}") if i < 12 else (f"Z{i}", "Choucheng Community")
        if i >= 30:
            zone, owner = f"Q{i}", f"solo-{i}"  # nothing in common: stay single alerts
        cams.append({"id": f"c{i:02d}", "owner_org": owner, "owner_type": "company",
                     "lat": 29.3 + i * 0.001, "lon": 120.07, "zone": zone})  # fmt: skip
    f.upsert_many([DeviceIn(**c) for c in cams])
    now = time.time()
    on = State(status="online", ts=int(now * 1000))
    services.db.write(lambda db: [f.apply_state(db, c["id"], on, now) for c in cams])
    return services


def test_a_stale_wave_is_a_few_grouped_alerts_and_a_few_stream_messages(fleet, api, tokens):
    f = fleet.fleet
    seen: list[dict] = []
    f.on_alert(seen.append)
    later = time.time() + f.health_stale_s + 5
    opened = f.check_stale(later)
    assert len(opened) == 40
    assert len(seen) == 10 + 2  # 10 single cameras, 2 groups: not 40 messages
    view = f.alert_groups()
    labels = sorted(g["label"] for g in view["groups"])
    assert labels == ["12 cameras down in zone ZA", "18 cameras down of Choucheng Community"]
    assert view["open"] == 40 and view["grouped"] == 30 and len(view["singles"]) == 10
    r = bearer(tokens[Role.OPERATOR])
    body = api.get("/api/fleet/alert-groups", headers=r).json()
    assert {g["open_count"] for g in body["groups"]} == {12, 18}
    # the cameras of zone ZA come back: their group closes, one message for it
    seen.clear()
    h = Health(ts=int(later * 1000), fps=8.0, inference_ms=40.0)
    closed = fleet.db.write(
        lambda db: [a for i in range(12) for a in f.apply_health(db, f"c{i:02d}", h, later + 1)]
    )
    f.emit(closed)
    assert len(closed) == 12 and len(seen) == 1  # one message for the group, not twelve
    assert seen[0]["group"]["open_count"] == 0 and seen[0]["group"]["closed_at"]
    view = f.alert_groups()
    assert [g["label"] for g in view["groups"]] == ["18 cameras down of Choucheng Community"]
