"""The pending-dispatch queue, pre-emption proposals and coverage move-ups (pure).

No incident that needs a unit may wait without a visible reason. An incident *needs
dispatch* when it is confirmed (or further along) with no active order, or still new but
matched by the auto-dispatch policy (auto-dispatch could not place it). Each waiting
incident gets the reason it waits, worked out from the units the centre knows and the
incident's own dispatch history, and the queue is ordered by priority (1 first) and then
by how long it has waited.

A *pre-emption proposal* names a unit now committed to a lower-priority incident that
could be diverted, with what that costs: the incident it leaves goes back to the queue.
A *move-up* proposes an available unit from a zone that has units to spare for a zone that
has none left, as a CAD's coverage planner does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..incidents.status import CLOSED, IncidentStatus

#: Incident statuses a unit has been (or is about to be) committed in.
COMMITTED = frozenset(
    {
        IncidentStatus.CONFIRMED,
        IncidentStatus.DISPATCHED,
        IncidentStatus.EN_ROUTE,
        IncidentStatus.ON_SCENE,
    }
)
#: Order statuses a unit may be diverted from (arrived units are not moved).
DIVERTIBLE = frozenset({"offered", "accepted", "en_route"})


@dataclass(frozen=True)
class UnitView:
    """What the queue needs to know of one unit."""

    id: str
    mode: str
    status: str
    home_zone: str | None
    has_position: bool


def needs_dispatch(incident: Mapping[str, Any], auto_matched: bool) -> bool:
    """True when ``incident`` should have a unit (see the module docstring)."""
    status = incident.get("status")
    if status in CLOSED:
        return False
    if status == IncidentStatus.NEW:
        return auto_matched
    return status in COMMITTED


#: Facts a reason rests on, for the screen to word it in the reader's language.
ReasonArgs = dict[str, Any]


def unit_reason(
    units: Sequence[UnitView], modes: Sequence[str] = ()
) -> tuple[str, ReasonArgs] | None:
    """Why no unit can be offered, from the units alone (sentence, facts); None when one
    could be."""
    if not units:
        return "no patrol unit is defined", {"case": "none_defined"}
    fit = [u for u in units if not modes or u.mode in modes]
    if modes and not fit:
        return f"no unit of the needed mode ({', '.join(modes)})", {"modes": list(modes)}
    free = [u for u in fit if u.status == "available"]
    if not free:
        counts = Counter(u.status for u in fit)
        if counts.get("off_duty", 0) == len(fit):
            return "every unit is off duty", {"case": "all_off_duty"}
        busy = len(fit) - counts.get("off_duty", 0)
        what = f"of the needed mode ({', '.join(modes)}) " if modes else ""
        return f"all {busy} on-duty units {what}are busy", {"busy": busy, "modes": list(modes)}
    if not any(u.has_position for u in free):
        return f"{len(free)} available unit(s), none has reported a position", {"free": len(free)}
    return None


def history_reason(events: Sequence[Mapping[str, Any]]) -> tuple[str, ReasonArgs] | None:
    """The last thing dispatch tried for an incident, as a reason (None: nothing yet)."""
    for ev in reversed(events):
        kind, detail = ev.get("kind"), ev.get("detail") or ""
        if kind in ("no_unit", "auto_dispatch"):
            text = f"re-offer found no unit: {detail}" if detail else "re-offer found no unit"
            return text, {"event": "no_unit", "detail": detail}
        if kind in ("declined", "timed_out", "cancelled"):
            unit = ev.get("unit_id") or "?"
            text = f"order to {unit} {kind.replace('_', ' ')}" + (f": {detail}" if detail else "")
            return text, {"event": kind, "unit": unit, "detail": detail}
    return None


def waiting_reason(
    incident: Mapping[str, Any],
    units: Sequence[UnitView],
    events: Sequence[Mapping[str, Any]],
    modes: Sequence[str] = (),
) -> tuple[str, str, ReasonArgs]:
    """(code, sentence, facts) for why ``incident`` has no unit yet.

    The units come first (nothing can be sent), then what happened to earlier orders, then
    the plain case: a unit is free and the decision is the dispatcher's. The facts let a
    screen word the reason in its own language (the sentence is English).
    """
    blocked = unit_reason(units, modes)
    if blocked is not None:
        text, args = blocked
        code = "no_mode" if text.startswith("no unit of the needed mode") else "no_free_unit"
        if text.startswith("no patrol unit") or text.startswith("every unit"):
            code = "no_unit_on_duty"
        elif "none has reported a position" in text:
            code = "no_position"
        return code, text, args
    past = history_reason(events)
    if past is not None:
        return "order_ended", past[0] + "; a unit is free now: dispatch again", past[1]
    if incident.get("status") == IncidentStatus.NEW:
        return "auto_failed", "matched the auto-dispatch policy but was not placed", {}
    return "awaiting_dispatcher", "a unit is free; waiting for a dispatcher's decision", {}


def detected_ms(incident: Mapping[str, Any]) -> int | None:
    """Detection time of an incident in epoch ms (created_at in seconds or ms)."""
    v = incident.get("created_at")
    if not isinstance(v, int | float):
        return None
    return int(v if v > 1e11 else v * 1000)


def queue_order(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Priority first (1 is most urgent), then the longest wait, then the id (stable)."""
    return sorted(items, key=lambda i: (i["priority"], -i["waiting_s"], i["incident_id"]))


def pending_item(
    incident: Mapping[str, Any],
    now_ms: int,
    reason: tuple[str, str, ReasonArgs],
    zone: str | None,
) -> dict[str, Any]:
    """One row of the pending-dispatch queue."""
    det = detected_ms(incident) or now_ms
    return {
        "incident_id": str(incident["id"]),
        "kind": incident.get("kind"),
        "status": incident.get("status"),
        "priority": int(incident.get("priority") or 3),
        "zone": zone,
        "centre_id": incident.get("centre_id"),
        "lat": incident.get("lat"),
        "lon": incident.get("lon"),
        "detected_ms": det,
        "waiting_s": round(max(0.0, (now_ms - det) / 1000), 1),
        "reason_code": reason[0],
        "reason": reason[1],
        "reason_args": reason[2],
    }


def preemptible(
    incident: Mapping[str, Any], active_orders: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Active orders a unit could be diverted from: lower priority, not yet on scene."""
    pri = int(incident.get("priority") or 3)
    return [
        o
        for o in active_orders
        if o["status"] in DIVERTIBLE
        and o["incident_id"] != incident.get("id")
        and int(o.get("priority") or 3) > pri
    ]


def move_ups(
    zones: Sequence[str],
    units: Sequence[UnitView],
    centroids: Mapping[str, tuple[float, float]],
    positions: Mapping[str, tuple[float, float]],
    distance: Any,
) -> list[dict[str, Any]]:
    """For each zone with no available unit, the nearest spare unit of a zone that keeps one.

    A unit is *spare* when its home zone has at least two available units (moving it does
    not empty another zone). ``distance(a, b)`` gives metres between (lat, lon) pairs.
    """
    free = [u for u in units if u.status == "available"]
    per_zone = Counter(u.home_zone for u in free)
    spare = [u for u in free if u.id in positions and per_zone[u.home_zone] >= 2]
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    for zone in sorted(z for z in zones if per_zone.get(z, 0) == 0 and z in centroids):
        target = centroids[zone]
        options = [u for u in spare if u.id not in taken and per_zone[u.home_zone] >= 2]
        if not options:
            out.append({"zone": zone, "available": 0, "unit": None, "from_zone": None})
            continue
        best = min(options, key=lambda u: (distance(positions[u.id], target), u.id))
        taken.add(best.id)
        per_zone[best.home_zone] -= 1
        out.append(
            {
                "zone": zone,
                "available": 0,
                "unit": best.id,
                "from_zone": best.home_zone,
                "distance_m": round(distance(positions[best.id], target), 1),
            }
        )
    return out
