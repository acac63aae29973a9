"""Pure cores: the order/ack state machine and the KPI computation, with literal rows."""

from __future__ import annotations

import pytest

from coordinator.dispatch.kpi import kpis, to_ms
from coordinator.dispatch.orders import apply_ack, incident_steps
from coordinator.dispatch.policy import AutoPolicy, AutoRule


@pytest.mark.parametrize(
    ("current", "ack", "outcome", "new", "reoffer"),
    [
        ("offered", "accepted", "applied", "accepted", False),
        ("offered", "declined", "applied", "declined", True),
        ("offered", "on_scene", "applied", "on_scene", False),  # skipped steps are fine
        ("accepted", "accepted", "duplicate", None, False),
        ("en_route", "accepted", "out_of_order", None, False),
        ("accepted", "declined", "refused", None, False),
        ("timed_out", "accepted", "late", None, False),
        ("cancelled", "en_route", "late", None, False),
        ("cleared", "cleared", "duplicate", None, False),
        ("declined", "declined", "duplicate", None, False),
    ],
)
def test_ack_state_machine(current, ack, outcome, new, reoffer):
    v = apply_ack(current, ack)
    assert (v.outcome, v.new_status, v.reoffer) == (outcome, new, reoffer)


def test_incident_steps_fill_in_skipped_statuses():
    assert incident_steps("offered", "on_scene") == ("dispatched", "en_route", "on_scene")
    assert incident_steps("en_route", "cleared") == ("on_scene", "resolved")
    assert incident_steps("offered", "declined") == ()


def row(inc, sent, *, zone="Z1", shift="day", status="cleared", ack=None, scene=None, detected=0):
    return {
        "incident_id": inc,
        "zone": zone,
        "shift": shift,
        "status": status,
        "sent_ms": sent,
        "ack_ms": ack,
        "on_scene_ms": scene,
        "detected_ms": detected,
    }


def test_kpis_per_zone_and_shift_count_from_the_first_order():
    rows = [
        # incident a: first offer timed out at 10 s, the second unit acked 2 s after its offer
        row("a", 10_000, status="timed_out", shift="night"),
        row("a", 40_000, ack=42_000, scene=200_000),
        row("b", 5_000, ack=6_000, scene=65_000),
        row("c", 1_000, zone=None, ack=3_000),
    ]
    out = {(r["zone"], r["shift"]): r for r in kpis(rows)}
    z1 = out[("Z1", "day")]
    assert z1["incidents"] == 2
    assert z1["detection_to_dispatch"]["p50_s"] == pytest.approx(7.5)  # 10 s and 5 s
    assert z1["dispatch_to_ack"]["n"] == 2
    # on scene measured from the FIRST offer: 190 s for a, 60 s for b
    assert z1["dispatch_to_on_scene"]["p90_s"] == pytest.approx(60 + 0.9 * 130)
    assert z1["dispatch_to_on_scene"]["within_standard"] == 1.0
    assert out[("(none)", "day")]["dispatch_to_on_scene"]["n"] == 0


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (1_700_000_000, 1_700_000_000_000),
        (1_700_000_000_123, 1_700_000_000_123),
        ("2023-11-14T22:13:20Z", 1_700_000_000_000),
        ("yesterday", None),
        (None, None),
    ],
)
def test_incident_times_in_any_common_form(value, ms):
    assert to_ms(value) == ms


def test_auto_policy_matching():
    p = AutoPolicy(
        enabled=True, rules=[AutoRule(kind="intrusion", min_confidence=0.7, max_priority=2)]
    )
    assert p.matches({"kind": "intrusion", "confidence": 0.7, "priority": 1})
    assert not p.matches({"kind": "intrusion", "confidence": 0.7, "priority": 3})
    assert not p.matches({"kind": "intrusion", "confidence": None})
    assert not AutoPolicy(enabled=False, rules=p.rules).matches(
        {"kind": "intrusion", "confidence": 1.0}
    )
