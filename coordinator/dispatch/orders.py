"""Dispatch-order lifecycle: a pure state machine for acknowledgements.

An order is ``offered`` when sent, then moves forward only: ``accepted`` → ``en_route`` →
``on_scene`` → ``cleared``. ``declined``, ``timed_out`` and ``cancelled`` end it. Units
may skip steps (an ``on_scene`` without ``en_route`` is accepted: radios drop messages),
never go back; a repeated status is a duplicate, an ack to an ended order is late. Each
verdict is recorded with the order's events and none of them loses data.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..incidents.status import IncidentStatus

FORWARD = ("offered", "accepted", "en_route", "on_scene", "cleared")
ENDED = frozenset({"declined", "timed_out", "cancelled", "cleared"})
ACTIVE = frozenset({"offered", "accepted", "en_route", "on_scene"})
#: Unit status codes (see docs/dispatch.md) implied by an order's status.
UNIT_STATUS_FOR = {
    "offered": "available",  # an offer does not commit the unit until it accepts
    "accepted": "dispatched",
    "en_route": "en_route",
    "on_scene": "on_scene",
    "cleared": "available",
    "declined": "available",
}
_S = IncidentStatus
#: Incident lifecycle steps each order status reaches.
INCIDENT_STEPS = {
    "accepted": (_S.DISPATCHED,),
    "en_route": (_S.DISPATCHED, _S.EN_ROUTE),
    "on_scene": (_S.DISPATCHED, _S.EN_ROUTE, _S.ON_SCENE),
    "cleared": (_S.DISPATCHED, _S.EN_ROUTE, _S.ON_SCENE, _S.RESOLVED),
}
#: Order columns holding the time each status was reached.
TIME_COLUMN = {
    "accepted": "ack_ms",
    "declined": "ack_ms",
    "en_route": "en_route_ms",
    "on_scene": "on_scene_ms",
    "cleared": "cleared_ms",
}


@dataclass(frozen=True)
class Verdict:
    """What an acknowledgement does to an order."""

    outcome: str  # applied | duplicate | late | out_of_order | refused
    new_status: str | None = None
    reoffer: bool = False
    reason: str = ""


def apply_ack(current: str, ack: str) -> Verdict:
    """Decide the effect of ack status ``ack`` on an order in status ``current``."""
    if current in ENDED:
        if current == ack:
            return Verdict("duplicate", reason=f"order already {current}")
        return Verdict("late", reason=f"order already {current}; {ack} ignored")
    if ack == "declined":
        if current == "offered":
            return Verdict("applied", "declined", reoffer=True)
        return Verdict("refused", reason=f"cannot decline an order already {current}")
    new, cur = FORWARD.index(ack), FORWARD.index(current)
    if new == cur:
        return Verdict("duplicate", reason=f"order already {current}")
    if new < cur:
        return Verdict("out_of_order", reason=f"{ack} after {current} ignored")
    return Verdict("applied", ack)


def incident_steps(previous: str, new: str) -> tuple[str, ...]:
    """Incident statuses to pass through when an order moves from ``previous`` to ``new``."""
    done = set(INCIDENT_STEPS.get(previous, ()))
    return tuple(s for s in INCIDENT_STEPS.get(new, ()) if s not in done)
