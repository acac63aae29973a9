"""Pure merge, priority and lifecycle functions, tested with literal inputs."""

from __future__ import annotations

import pytest

from coordinator.incidents.merge import (
    DEFAULT_RULES,
    Ev,
    Inc,
    check_transition,
    choose,
    compatible,
    haversine_m,
    priority,
    rules_from,
)

A = (29.3060, 120.0760)
B_90M = (29.3066, 120.0766)  # ~88 m from A
C_2KM = (29.3240, 120.0900)


def ev(dev="cam-a", track=1, kind="intrusion", t=1000.0, at=A, conf=0.8):
    return Ev("e1", dev, track, kind, conf, t, at[0], at[1])


def inc(iid="i1", kind="intrusion", status="new", first=1000.0, last=1000.0, at=A, dev="cam-a"):
    return Inc(iid, kind, status, first, last, {dev: at})


def test_haversine_known_distance():
    assert haversine_m(*A, *B_90M) == pytest.approx(88, abs=3)
    assert haversine_m(0, 0, 0, 1) == pytest.approx(111_195, rel=1e-3)


@pytest.mark.parametrize(
    ("event", "track_inc", "cands", "expected"),
    [
        # same device and track within the window joins its incident
        (ev(t=1300), inc(), [], ("track", "i1")),
        # same track but past the window starts a new incident
        (ev(t=1000 + 601), inc(), [], ("new", None)),
        # a dismissed incident keeps absorbing its own track (no alarm spam)
        (ev(t=1100), inc(status="dismissed"), [], ("track", "i1")),
        # a resolved incident does not: a new one starts
        (ev(t=1100), inc(status="resolved"), [], ("new", None)),
        # nearby camera, compatible kind, in window
        (ev(dev="cam-b", at=B_90M, kind="line_crossing", t=1200), None, [inc()], ("nearby", "i1")),
        # far camera: new
        (ev(dev="cam-c", at=C_2KM, t=1200), None, [inc()], ("new", None)),
        # nearby but incompatible kind (crowd vs intrusion): new
        (ev(dev="cam-b", at=B_90M, kind="crowd", t=1200), None, [inc()], ("new", None)),
        # nearby, compatible, but 11 minutes later: new
        (ev(dev="cam-b", at=B_90M, t=1000 + 660), None, [inc()], ("new", None)),
        # nearby candidate that is already dismissed is not joined across cameras
        (ev(dev="cam-b", at=B_90M), None, [inc(status="dismissed")], ("new", None)),
        # presence is informational: never opens an incident
        (ev(kind="presence"), None, [], ("ignore", None)),
    ],
)
def test_choose(event, track_inc, cands, expected):
    assert choose(event, track_inc, cands, DEFAULT_RULES) == expected


def test_choose_prefers_the_nearest_candidate():
    near = inc("near", at=B_90M, dev="cam-b")
    far = inc("far", at=(29.3070, 120.0770), dev="cam-x")  # ~140 m from A
    assert choose(ev(), None, [far, near], DEFAULT_RULES) == ("nearby", "near")


def test_compatible_is_symmetric():
    assert compatible("loitering", "intrusion", DEFAULT_RULES)
    assert compatible("intrusion", "loitering", DEFAULT_RULES)
    assert not compatible("crowd", "intrusion", DEFAULT_RULES)


def test_rules_overrides_and_their_errors():
    r = rules_from({"intrusion": {"window_s": 60, "radius_m": 50}})
    assert r["intrusion"].window_s == 60 and r["intrusion"].radius_m == 50
    assert choose(ev(dev="cam-b", at=B_90M), None, [inc()], r) == ("new", None)
    with pytest.raises(ValueError, match="unknown kind"):
        rules_from({"arson": {}})
    with pytest.raises(ValueError, match="unknown fields"):
        rules_from({"crowd": {"radius": 5}})


@pytest.mark.parametrize(
    ("kind", "conf", "zone", "n", "boost", "expected"),
    [
        ("intrusion", 0.7, None, 1, {}, 2),
        ("intrusion", 0.9, None, 1, {}, 1),
        ("intrusion", 0.9, None, 3, {}, 1),  # clamped at 1
        ("loitering", 0.6, None, 1, {}, 3),
        ("loitering", 0.6, None, 2, {}, 2),  # corroborated by a second camera
        ("loitering", 0.6, "school", 1, {"school": 1}, 2),
        ("line_crossing", 0.3, None, 1, {}, 4),
        ("presence", 0.3, None, 1, {}, 5),  # clamped at 5
    ],
)
def test_priority(kind, conf, zone, n, boost, expected):
    assert priority(kind, conf, zone, n, DEFAULT_RULES, boost) == expected


@pytest.mark.parametrize(
    ("cur", "to", "ok"),
    [
        ("new", "confirmed", True),
        ("new", "dispatched", True),
        ("confirmed", "dispatched", True),
        ("dispatched", "en_route", True),
        ("en_route", "on_scene", True),
        ("on_scene", "resolved", True),
        ("dismissed", "confirmed", True),
        ("new", "on_scene", False),
        ("resolved", "new", False),
        ("resolved", "confirmed", False),
        ("dismissed", "dispatched", False),
        ("new", "merged", False),
        ("new", "flying", False),
    ],
)
def test_transitions(cur, to, ok):
    if ok:
        check_transition(cur, to)
    else:
        with pytest.raises(ValueError, match="cannot move|unknown status"):
            check_transition(cur, to)
