"""Alarm management: handling beside the lifecycle, storms grouped into one row, a priority
model that spreads (with reasons), the queue's filters — through the service and the API."""

from __future__ import annotations

import math
import random
import time

import pytest
import sqlite_utils

from coordinator.bootstrap import open_services
from coordinator.identity.auth import Role
from coordinator.incidents import grouping, handling, priority
from coordinator.incidents import schema as incidents_schema
from coordinator.incidents.merge import IncidentConflict
from coordinator.settings import Settings
from tests.harness.api import bearer
from tests.harness.core import count, event, inject, register
from tests.harness.mqtt import wait_for

# pure rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "action", "target"),
    [
        ("new", "acknowledge", "acknowledged"),
        ("new", "claim", "acknowledged"),
        ("in_progress", "claim", "in_progress"),
        ("acknowledged", "start", "in_progress"),
        ("in_progress", "hold", "on_hold"),
        ("on_hold", "resume", "in_progress"),
        ("on_hold", "close", "closed"),
        ("closed", "reopen", "acknowledged"),
    ],
)
def test_handling_moves(current: str, action: str, target: str) -> None:
    assert handling.plan(current, action) == target


@pytest.mark.parametrize(
    ("current", "action"),
    [("acknowledged", "acknowledge"), ("closed", "claim"), ("new", "resume"), ("new", "reopen")],
)
def test_handling_refuses_moves_that_do_not_apply(current: str, action: str) -> None:
    with pytest.raises(IncidentConflict, match=f"cannot {action}"):
        handling.plan(current, action)


@pytest.mark.parametrize(
    ("handling_state", "status", "expected"),
    [
        ("new", "confirmed", "acknowledged"),
        ("acknowledged", "dispatched", "in_progress"),
        ("on_hold", "en_route", "in_progress"),
        ("in_progress", "resolved", "closed"),
        ("new", "dismissed", "closed"),
        ("closed", "confirmed", "acknowledged"),  # a dismissal undone
        ("in_progress", "on_scene", None),
    ],
)
def test_handling_follows_the_lifecycle(handling_state, status, expected) -> None:
    assert handling.follow(handling_state, status) == expected


def test_closing_is_refused_while_a_unit_is_out() -> None:
    assert handling.closing_status("new") == "resolved"
    assert handling.closing_status("resolved") is None
    with pytest.raises(IncidentConflict, match="unit is en route"):
        handling.closing_status("en_route")


def test_priority_reasons_explain_the_level() -> None:
    sig = priority.Signals("intrusion", 0.99, cameras=3, local_hour=2.5, real_before=1)
    level, reasons = priority.assess(sig)
    assert level == 1
    codes = {r["code"] for r in reasons}
    assert codes == {"kind", "confidence", "cameras", "night", "repeat"}
    alone, _ = priority.assess(priority.Signals("intrusion", 0.99, cameras=3, local_hour=2.5))
    assert alone == 2  # an unverified alarm alone stops one band short of the top
    day, _ = priority.assess(
        priority.Signals("intrusion", 0.99, cameras=3, local_hour=14, real_before=1)
    )
    assert day == 2  # the same alarm by day is not top priority
    noisy, why = priority.assess(
        priority.Signals("intrusion", 0.99, cameras=3, local_hour=2.5, false_alarm_rate=0.8)
    )
    assert noisy == 3 and "false_alarms" in {r["code"] for r in why}
    busy, why = priority.assess(priority.Signals("intrusion", 0.99, 3, 2.5, recent=12))
    assert busy == 3 and "busy" in {r["code"] for r in why}
    sensitive, _ = priority.assess(priority.Signals("intrusion", 0.99, 3, 14, zone_boost=1))
    assert sensitive == 2


def _demo_mix(n: int, seed: int = 5) -> list[priority.Signals]:
    """Alarms as the demo's simulated boards make them: kinds evenly, confidence 0.5-1,
    one to several cameras, any hour, a few sensitive zones and noisy cameras."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        out.append(
            priority.Signals(
                kind=rng.choice(["intrusion", "loitering", "line_crossing", "crowd"]),
                confidence=0.5 + rng.random() * 0.5,
                cameras=rng.choice([1, 1, 2, 3, 4, 6]),
                local_hour=rng.random() * 24,
                zone_boost=1 if rng.random() < 0.1 else 0,
                false_alarm_rate=rng.choice([None, None, None, 0.1, 0.5]),
                recent=rng.choice([0, 0, 1, 2, 4, 8]),
            )
        )
    return out


def test_priority_spreads_over_a_realistic_mix() -> None:
    levels = [priority.assess(s)[0] for s in _demo_mix(5000)]
    share = {p: levels.count(p) / len(levels) for p in range(1, 6)}
    assert share[1] <= 0.10, share  # the top means something
    assert sum(1 for p in share if share[p] >= 0.05) >= 3, share  # not all in one band


def test_old_priority_saturated_on_the_same_mix() -> None:
    """The baseline the model replaces: the step rule put most of this mix at the top."""
    from coordinator.incidents.merge import DEFAULT_RULES
    from coordinator.incidents.merge import priority as old

    mix = _demo_mix(2000)
    top = sum(old(s.kind, s.confidence, None, s.cameras, DEFAULT_RULES) == 1 for s in mix)
    assert top / len(mix) > 0.25


def test_grouping_forms_at_the_written_rule() -> None:
    rule = grouping.GroupRule(min_count=5, radius_m=300, window_s=600)
    a = [
        grouping.Alarm(f"a{i}", "intrusion", 29.30 + i * 0.0003, 120.07, 100.0 + i)
        for i in range(5)
    ]
    assert grouping.forms(a[4], a[:3], rule) is None  # four are not a group
    assert len(grouping.forms(a[4], a[:4], rule) or []) == 5
    far = grouping.Alarm("far", "intrusion", 29.32, 120.07, 101.0)
    other = grouping.Alarm("c", "crowd", 29.30, 120.07, 101.0)
    late = grouping.Alarm("late", "intrusion", 29.30, 120.07, 100.0 + 700)
    assert grouping.forms(a[4], [*a[:3], far, other, late], rule) is None
    # a ring of cameras 230 m around a square: opposite ones are 460 m apart, yet one group
    ring = [
        grouping.Alarm(f"r{k}", "loitering", 29.30 + 230 * math.cos(k * math.pi / 4) / 111_195,
                       120.07 + 230 * math.sin(k * math.pi / 4) / 96_990, 100.0 + k)
        for k in range(8)
    ]  # fmt: skip
    assert len(grouping.forms(ring[4], ring[:4], rule) or []) == 5
    assert grouping.forms(ring[4], ring[:4], grouping.GroupRule(radius_m=150)) is None
    # the other half of the ring arrives one by one: each joins the group it completes
    members = list(ring[:5])
    for alarm in ring[5:]:
        g = grouping.Group("g", "loitering", *grouping.centre(members), 104.0, len(members))
        assert grouping.joins(g, alarm, rule) is not None, alarm.id
        members.append(alarm)
    assert grouping.joins(g, ring[0].__class__("x", "loitering", 29.31, 120.07, 110), rule) is None


# through the service -------------------------------------------------------------------


def _storm_cams(n: int, radius_m: float, seed: int = 3) -> dict[str, tuple[float, float]]:
    rng = random.Random(seed)
    lat0, lon0 = 29.3060, 120.0760
    cams = {}
    for i in range(n):
        r, a = radius_m * math.sqrt(rng.random()), rng.random() * 2 * math.pi
        lat = lat0 + r * math.cos(a) / 111_195
        lon = lon0 + r * math.sin(a) / (111_195 * math.cos(math.radians(lat0)))
        cams[f"storm-{i:03d}"] = (lat, lon)
    return cams


@pytest.fixture
def storm_settings(tmp_path) -> Settings:
    # Each camera's alarm is its own incident (no cross-camera merge at this spacing), so
    # the storm is 100 incidents for the grouping rule to fold.
    return Settings.for_dev(
        tmp_path / "coord",
        argon2_memory_kib=4096,
        argon2_time_cost=1,
        incident_rules={"intrusion": {"radius_m": 1.0}},
    )


def _storm(svc, n: int = 100) -> list[str]:
    cams = _storm_cams(n, 200.0)
    register(svc, cams)
    evs = [event(dev, 1, track=1, conf=0.7) for dev in cams]
    inject(svc, evs)
    wait_for(lambda: count(svc, "select count(*) from incidents") >= n, 20, "storm incidents")
    return list(cams)


def test_a_storm_of_100_alarms_is_a_handful_of_rows(storm_settings) -> None:
    svc = open_services(storm_settings)
    try:
        _storm(svc)
        q = svc.incidents.queue(limit=500)
        assert q["total"] == 100
        assert len(q["rows"]) <= 5, [r["type"] for r in q["rows"]]
        groups = [r for r in q["rows"] if r["type"] == "group"]
        assert groups and sum(g["group"]["count"] for g in groups) >= 95
        g = groups[0]["group"]
        assert g["kinds"] == ["intrusion"] and g["first_ts"] <= g["last_ts"] and g["newest_id"]
        # the groups are rows in the database: another process reads the same queue
        other = sqlite_utils.Database(storm_settings.db_path)
        stored = other.execute("select count(*) from incidents where group_id is not null")
        assert stored.fetchone()[0] == sum(gr["group"]["count"] for gr in groups)
    finally:
        svc.close()


def test_acting_on_a_group_acts_on_its_members(storm_settings) -> None:
    svc = open_services(storm_settings)
    try:
        _storm(svc, 12)
        g = next(r for r in svc.incidents.queue()["rows"] if r["type"] == "group")["group"]
        members = svc.incidents.group(g["id"])["members"]
        svc.incidents.transition(members[0]["id"], "dispatched", "dispatcher")
        with pytest.raises(IncidentConflict, match="needs a reason"):
            svc.incidents.handle_group(g["id"], "dismiss", "operator", reason=" ")
        ack = svc.incidents.handle_group(g["id"], "acknowledge", "operator")
        assert ack["acted"] == g["count"] - 1  # the dispatched one is already in progress
        out = svc.incidents.handle_group(g["id"], "dismiss", "operator", reason="storm: rain")
        assert out["acted"] == g["count"] - 1
        assert [s["id"] for s in out["skipped"]] == [members[0]["id"]]
        after = svc.incidents.group(g["id"])
        dismissed = [m for m in after["members"] if m["status"] == "dismissed"]
        assert len(dismissed) == g["count"] - 1
        assert all(m["handling"] == "closed" and m["dismiss_reason"] for m in dismissed)
        assert after["closed_at"] is None  # one member still has a unit out
        log = [h["action"] for h in svc.incidents.history(dismissed[0]["id"])]
        assert log == ["handling_acknowledge", "dismissed", "handling_dismiss"]
    finally:
        svc.close()


def test_backfill_gives_existing_rows_their_handling(tmp_path) -> None:
    db = sqlite_utils.Database(tmp_path / "old.db")
    incidents_schema.incidents.apply(db, stop_before="m004_handling_and_groups")
    for i, st in enumerate(["new", "confirmed", "en_route", "resolved", "dismissed", "merged"]):
        db.table("incidents").insert({"id": f"i{i}", "kind": "intrusion", "status": st,
                                      "priority": 2, "created_at": 1.0, "event_count": 1})  # fmt: skip
    incidents_schema.incidents.apply(db)
    got = {r["id"]: r["handling"] for r in db.query("select id, handling from incidents")}
    assert got == {"i0": "new", "i1": "acknowledged", "i2": "in_progress",
                   "i3": "closed", "i4": "closed", "i5": "closed"}  # fmt: skip
    db.table("incidents").insert({"id": "n", "kind": "crowd", "status": "new", "priority": 3,
                                  "created_at": 2.0, "event_count": 1})  # fmt: skip
    assert db.table("incidents").get("n")["handling"] == "new"  # the column's default


# through the API -----------------------------------------------------------------------


def _incident(svc, dev: str = "cam-0", kind: str = "intrusion", conf: float = 0.8) -> str:
    e = event(dev, int(time.time() * 1000) % 100000, track=int(time.time() * 1e6) % 10**6,
              kind=kind, conf=conf)  # fmt: skip
    inject(svc, [e])
    wait_for(lambda: count(svc, "select count(*) from events where id = ? and incident_id "
                                "is not null", [e.id]), 10, "incident")  # fmt: skip
    return svc.db.query("select incident_id from events where id = ?", [e.id])[0]["incident_id"]


def test_handling_steps_via_api_are_logged(api, tokens, users, services) -> None:
    register(services)
    op = bearer(tokens[Role.OPERATOR])
    iid = _incident(services)
    inc = api.get(f"/api/incidents/{iid}", headers=op).json()
    assert inc["handling"] == "new" and inc["priority_reasons"][0]["code"] == "kind"
    url = f"/api/incidents/{iid}/handling"
    r = api.post(url, json={"action": "claim"}, headers=op)
    assert r.status_code == 200 and r.json()["assignee"] == users[Role.OPERATOR]
    assert r.json()["handling"] == "acknowledged" and r.json()["status"] == "new"
    r = api.post(url, json={"action": "assign", "assignee": "nobody"}, headers=op)
    assert r.status_code == 422 and "nobody" in r.json()["detail"]
    names = [a["username"] for a in api.get("/api/alarm-assignees", headers=op).json()]
    assert users[Role.DISPATCHER] in names and users[Role.MERCHANT] not in names
    r = api.post(url, json={"action": "assign", "assignee": users[Role.DISPATCHER]}, headers=op)
    assert r.json()["assignee"] == users[Role.DISPATCHER]
    assert api.post(url, json={"action": "hold"}, headers=op).status_code == 409  # no reason
    r = api.post(url, json={"action": "hold", "note": "caller rings back"}, headers=op)
    assert r.json()["handling"] == "on_hold"
    assert api.post(url, json={"action": "reopen"}, headers=op).status_code == 409
    r = api.post(url, json={"action": "close", "note": "guard checked: a tenant"}, headers=op)
    assert r.status_code == 422 and "disposition" in r.json()["detail"]  # resolving needs one
    body = {"action": "close", "note": "guard checked: a tenant", "disposition": "no_trace"}
    r = api.post(url, json=body, headers=op)
    assert r.json()["handling"] == "closed" and r.json()["status"] == "resolved"
    assert r.json()["disposition"] == "no_trace" and r.json()["narrative"].startswith("guard")
    hist = api.get(f"/api/incidents/{iid}", headers=op).json()["history"]
    assert [h["action"] for h in hist] == [
        "handling_claim", "handling_assign", "handling_hold", "resolved", "handling_close",
    ]  # fmt: skip
    assert hist[1]["actor"] == users[Role.OPERATOR]
    assert hist[1]["detail"]["assignee"] == users[Role.DISPATCHER]
    merchant = bearer(tokens[Role.MERCHANT])
    assert api.post(url, json={"action": "reopen"}, headers=merchant).status_code == 403


def test_queue_filters_by_zone_kind_priority_and_state(api, tokens, services) -> None:
    register(services)
    op = bearer(tokens[Role.OPERATOR])
    a = _incident(services, "cam-0", "intrusion", 0.95)
    b = _incident(services, "cam-9", "crowd", 0.6)
    services.incidents.handle(b, "acknowledge", "u-operator")

    def ids(**params) -> set[str]:
        r = api.get("/api/alarm-queue", params=params, headers=op)
        assert r.status_code == 200, r.text
        return {row["id"] for row in r.json()["rows"]}

    assert ids() == {a, b}
    assert ids(kind="crowd") == {b}
    assert ids(handling="acknowledged") == {b}
    assert ids(handling=["new", "on_hold"]) == {a}
    pa = services.incidents.get(a)["priority"]
    assert a in ids(priority=pa) and b not in ids(priority=pa)
    assert ids(zone="Z01") == {a, b} and ids(zone="Z09") == set()
    assert api.get("/api/alarm-queue", params={"priority": 9}, headers=op).status_code == 422
