"""Incident merging and priority: pure functions over plain data (no SQL, no MQTT).

An event joins an incident when it continues the same device's track, or when a
camera within ``radius_m`` saw a compatible kind within ``window_s`` (distance is between
*camera locations*: events say what happened where, never who). Everything else starts a
new incident. Rules are per kind and overridable from settings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..errors import Conflict
from . import status
from .status import IncidentStatus

EARTH_RADIUS_M = 6_371_008.8

#: Statuses an incident can still absorb cross-camera events in.
ACTIVE = status.ACTIVE
#: Statuses a same-track event still joins (a dismissed false alarm keeps its track quiet).
TRACK_JOINABLE = ACTIVE | {IncidentStatus.DISMISSED}


@dataclass(frozen=True)
class KindRule:
    """How events of one kind merge and rank."""

    window_s: float = 600.0
    radius_m: float = 150.0
    compatible: frozenset[str] = frozenset()
    base_priority: int = 3
    creates: bool = True  # False: the kind is informational and never opens an incident
    min_conf: float = 0.0  # below this an event is stored but opens no incident


DEFAULT_RULES: dict[str, KindRule] = {
    "intrusion": KindRule(
        compatible=frozenset({"intrusion", "line_crossing", "loitering"}), base_priority=2
    ),
    "line_crossing": KindRule(compatible=frozenset({"line_crossing", "intrusion"})),
    "loitering": KindRule(compatible=frozenset({"loitering", "intrusion"}), base_priority=3),
    "crowd": KindRule(window_s=900.0, radius_m=250.0, compatible=frozenset({"crowd"})),
    "presence": KindRule(
        window_s=300.0, compatible=frozenset({"presence"}), base_priority=5, creates=False
    ),
}


def rules_from(overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, KindRule]:
    """Default rules with per-kind overrides (``{"intrusion": {"window_s": 300}}``)."""
    rules = dict(DEFAULT_RULES)
    for kind, over in (overrides or {}).items():
        if kind not in rules:
            raise ValueError(f"incident_rules: unknown kind {kind!r}; kinds are {sorted(rules)}")
        bad = set(over) - set(KindRule.__dataclass_fields__)
        if bad:
            raise ValueError(f"incident_rules.{kind}: unknown fields {sorted(bad)}")
        vals = dict(over)
        if "compatible" in vals:
            vals["compatible"] = frozenset(vals["compatible"])
        rules[kind] = replace(rules[kind], **vals)
    return rules


@dataclass(frozen=True)
class Ev:
    """What the merge needs of one event: camera location, kind, track, time (s)."""

    id: str
    dev: str
    track: int
    kind: str
    conf: float
    t: float
    lat: float
    lon: float
    zone: str | None = None


@dataclass
class Inc:
    """What the merge needs of one incident."""

    id: str
    kind: str
    status: str
    first_t: float
    last_t: float
    points: dict[str, tuple[float, float]] = field(default_factory=dict)  # dev -> camera


Decision = tuple[Literal["track", "nearby", "new", "ignore"], str | None]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def compatible(a: str, b: str, rules: Mapping[str, KindRule]) -> bool:
    """True when kinds ``a`` and ``b`` may describe one incident (symmetric)."""
    ra, rb = rules.get(a), rules.get(b)
    return a == b or bool(ra and b in ra.compatible) or bool(rb and a in rb.compatible)


def distance_to(inc: Inc, lat: float, lon: float) -> float:
    """Distance from a camera to the incident's *first* camera.

    Measuring to the first camera, not the nearest one, stops chaining: on a dense street
    (cameras 60 m apart) "nearest camera" would grow one incident down the whole street.
    """
    first = next(iter(inc.points.values()), None)
    return math.inf if first is None else haversine_m(lat, lon, first[0], first[1])


def choose(
    ev: Ev, track_inc: Inc | None, candidates: Iterable[Inc], rules: Mapping[str, KindRule]
) -> Decision:
    """Decide where ``ev`` goes: its track's incident, a nearby one, a new one, or none.

    A track continues its incident only with a compatible kind (a crowd reading on the
    same track id is a different situation from an intrusion).
    """
    rule = rules.get(ev.kind, KindRule())
    if (
        track_inc is not None
        and track_inc.status in TRACK_JOINABLE
        and ev.t - track_inc.last_t <= rule.window_s
        and compatible(ev.kind, track_inc.kind, rules)
    ):
        return ("track", track_inc.id)
    if not rule.creates or ev.conf < rule.min_conf:
        return ("ignore", None)
    best: tuple[float, float, str] | None = None
    for inc in candidates:
        if inc.status not in ACTIVE or not compatible(ev.kind, inc.kind, rules):
            continue
        other = rules.get(inc.kind, rule)
        window = min(rule.window_s, other.window_s)
        # The event may be a little older than the incident's last event (out of order).
        if not (inc.first_t - window <= ev.t <= inc.last_t + window):
            continue
        d = distance_to(inc, ev.lat, ev.lon)
        if d > min(rule.radius_m, other.radius_m):
            continue
        key = (d, abs(ev.t - inc.last_t), inc.id)
        if best is None or key < best:
            best = key
    if best is not None:
        return ("nearby", best[2])
    return ("new", None)


def priority(
    kind: str,
    conf: float,
    zone: str | None,
    n_devices: int,
    rules: Mapping[str, KindRule],
    zone_boost: Mapping[str, int] | None = None,
) -> int:
    """Priority 1 (highest) .. 5 from kind, confidence, zone and corroboration."""
    p = rules.get(kind, KindRule()).base_priority
    if conf >= 0.85:
        p -= 1  # a confident detection is more likely real
    elif conf < 0.5:
        p += 1
    if n_devices >= 2:
        p -= 1  # seen by several cameras: corroborated
    if zone and zone_boost:
        p -= zone_boost.get(zone, 0)
    return max(1, min(5, p))


# Lifecycle -------------------------------------------------------------------------
_S = IncidentStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    _S.NEW: frozenset({_S.CONFIRMED, _S.DISMISSED, _S.DISPATCHED, _S.RESOLVED}),
    _S.CONFIRMED: frozenset({_S.DISMISSED, _S.DISPATCHED, _S.RESOLVED}),
    _S.DISMISSED: frozenset({_S.CONFIRMED}),  # a mistaken dismissal can be undone
    _S.DISPATCHED: frozenset({_S.EN_ROUTE, _S.ON_SCENE, _S.RESOLVED, _S.CONFIRMED}),
    _S.EN_ROUTE: frozenset({_S.ON_SCENE, _S.RESOLVED, _S.CONFIRMED}),
    _S.ON_SCENE: frozenset({_S.RESOLVED}),
    _S.RESOLVED: frozenset(),
    _S.MERGED: frozenset(),
}
STATUSES = frozenset(TRANSITIONS)


class IncidentConflict(Conflict, ValueError):
    """The incident is not in a state that allows this action (illegal move, merge, split)."""


def check_transition(current: str, target: str) -> None:
    """Raise IncidentConflict with a clear message when ``current -> target`` is not allowed."""
    if target not in STATUSES or target == IncidentStatus.MERGED:
        choices = sorted(str(s) for s in STATUSES - {IncidentStatus.MERGED})
        raise IncidentConflict(f"unknown status {str(target)!r}; statuses are {choices}")
    if target not in TRANSITIONS.get(current, frozenset()):
        allowed = sorted(str(s) for s in TRANSITIONS.get(current, frozenset()))
        raise IncidentConflict(
            f"cannot move an incident from {str(current)!r} to {str(target)!r}; "
            f"from {str(current)!r} it can go to {allowed or 'nothing (final)'}"
        )
