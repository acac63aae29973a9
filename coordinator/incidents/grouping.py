"""Groups of related alarms: a storm of one kind in one place becomes one queue row.

The written rule (settings ``alarms:``, defaults here): at least ``min_count`` open
alarms of one kind whose cameras lie within ``radius_m`` of each other's centre and that
arrived within ``window_s`` form a group. Later alarms of that kind within the radius of
the group's centre (the mean of its members, the newcomer counted), arriving within the
window of its newest member, join it. The centre moves by at most ``radius_m / members``
per join, so a group does not creep down a street.

Groups live in the database (``incident_groups``, and ``incidents.group_id`` on each
member), written on the one writer inside the ingest transaction: every API process reads
the same groups. The decisions are pure functions over plain data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from protocol import uuid7

from .merge import haversine_m
from .status import ACTIVE


@dataclass(frozen=True)
class GroupRule:
    """When related alarms become one row."""

    min_count: int = 5
    radius_m: float = 300.0
    window_s: float = 600.0


@dataclass(frozen=True)
class Alarm:
    """What grouping needs of one alarm."""

    id: str
    kind: str
    lat: float
    lon: float
    t: float


@dataclass(frozen=True)
class Group:
    """What grouping needs of one open group."""

    id: str
    kind: str
    lat: float
    lon: float
    last_t: float
    count: int = 1


def joins(group: Group, alarm: Alarm, rule: GroupRule) -> float | None:
    """Distance from the group's centre with ``alarm`` counted, when it may join, else None."""
    if group.kind != alarm.kind or alarm.t - group.last_t > rule.window_s:
        return None
    n = max(1, group.count)
    lat = (group.lat * n + alarm.lat) / (n + 1)
    lon = (group.lon * n + alarm.lon) / (n + 1)
    d = haversine_m(lat, lon, alarm.lat, alarm.lon)
    return d if d <= rule.radius_m else None


def best_group(groups: Sequence[Group], alarm: Alarm, rule: GroupRule) -> Group | None:
    """The nearest open group ``alarm`` may join."""
    best: tuple[float, str, Group] | None = None
    for g in groups:
        d = joins(g, alarm, rule)
        if d is not None and (best is None or (d, g.id) < best[:2]):
            best = (d, g.id, g)
    return None if best is None else best[2]


def forms(alarm: Alarm, others: Sequence[Alarm], rule: GroupRule) -> list[Alarm] | None:
    """The members of a new group ``alarm`` completes with ungrouped ``others``, or None.

    The group is the alarms of its kind, arrived within ``window_s`` of it, that lie within
    ``radius_m`` of their common centre (found by two mean steps from ``alarm``'s place,
    so a ring of cameras around a square groups as well as a cluster); ``alarm`` itself
    must be one of them, and the rule needs ``min_count`` counting it.
    """
    near = [
        o
        for o in others
        if o.id != alarm.id
        and o.kind == alarm.kind
        and abs(alarm.t - o.t) <= rule.window_s
        and haversine_m(alarm.lat, alarm.lon, o.lat, o.lon) <= 2 * rule.radius_m
    ]
    if len(near) + 1 < rule.min_count:
        return None
    members = [*near, alarm]
    for _ in range(2):
        lat, lon = centre(members)
        members = [
            m for m in [*near, alarm] if haversine_m(lat, lon, m.lat, m.lon) <= rule.radius_m
        ]
        if alarm not in members or len(members) < rule.min_count:
            return None
    return members


def centre(members: Sequence[Alarm]) -> tuple[float, float]:
    """Mean position of the members (the group's centre)."""
    return (
        sum(m.lat for m in members) / len(members),
        sum(m.lon for m in members) / len(members),
    )


# inside the ingest transaction (the one writer) -----------------------------------------
def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    dlat = radius_m / 111_000
    dlon = dlat / max(0.1, math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def _open_groups(db: sqlite_utils.Database, a: Alarm, rule: GroupRule) -> list[Group]:
    lat0, lat1, lon0, lon1 = _box(a.lat, a.lon, 2 * rule.radius_m)
    rows = db.execute(
        "select id, kind, lat, lon, last_ts, count from incident_groups where kind = ? and "
        "closed_at is null and last_ts >= ? and lat between ? and ? and lon between ? and ?",
        [a.kind, a.t - rule.window_s, lat0, lat1, lon0, lon1],
    ).fetchall()
    return [Group(*r) for r in rows]


def _ungrouped(db: sqlite_utils.Database, a: Alarm, rule: GroupRule) -> list[Alarm]:
    lat0, lat1, lon0, lon1 = _box(a.lat, a.lon, 2 * rule.radius_m)  # as far as forms() looks
    marks = ",".join("?" for _ in ACTIVE)
    rows = db.execute(
        "select id, kind, lat, lon, coalesce(first_ts, created_at) from incidents "
        "where kind = ? and group_id is null and handling != 'closed' "
        f"and status in ({marks}) and created_at >= ? "
        "and lat between ? and ? and lon between ? and ? limit 1000",
        [a.kind, *ACTIVE, a.t - rule.window_s, lat0, lat1, lon0, lon1],
    ).fetchall()
    return [Alarm(*r) for r in rows]


def place(
    db: sqlite_utils.Database, rows: Sequence[dict[str, Any]], rule: GroupRule, now: float
) -> set[str]:
    """Put newly opened incident rows into groups (in place: ``group_id``); the ids of the
    groups that changed. Rows without a position are left alone."""
    changed: set[str] = set()
    for row in rows:
        if row.get("lat") is None or row.get("lon") is None or row.get("group_id"):
            continue
        a = Alarm(row["id"], row["kind"], row["lat"], row["lon"], row.get("first_ts") or now)
        g = best_group(_open_groups(db, a, rule), a, rule)
        if g is not None:
            _attach(db, g.id, [a.id], now)
            row["group_id"] = g.id
            changed.add(g.id)
            continue
        members = forms(a, _ungrouped(db, a, rule), rule)
        if members is None:
            continue
        gid = uuid7()
        lat, lon = centre(members)
        db.table("incident_groups").insert(
            {
                "id": gid,
                "kind": a.kind,
                "kinds": json.dumps([a.kind]),
                "zone": row.get("zone"),
                "lat": lat,
                "lon": lon,
                "first_ts": min(m.t for m in members),
                "last_ts": max(m.t for m in members),
                "count": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        _attach(db, gid, [m.id for m in members], now)
        row["group_id"] = gid
        changed.add(gid)
    return changed


def _attach(db: sqlite_utils.Database, gid: str, ids: Sequence[str], now: float) -> None:
    marks = ",".join("?" for _ in ids)
    db.execute(f"update incidents set group_id = ? where id in ({marks})", [gid, *ids])
    refresh(db, gid, now)


def refresh(db: sqlite_utils.Database, gid: str, now: float) -> dict[str, Any] | None:
    """Recount a group from its members (count, kinds, span, newest, best priority); a
    group whose members are all closed is closed. Returns the group row."""
    members = db.execute(
        "select id, kind, zone, priority, coalesce(first_ts, created_at), "
        "coalesce(last_ts, created_at), handling, lat, lon from incidents "
        "where group_id = ? and status != 'merged' order by created_at",
        [gid],
    ).fetchall()
    if not members:
        return None
    kinds = sorted({m[1] for m in members})
    zones = sorted({m[2] for m in members if m[2]})
    fields: dict[str, Any] = {
        "count": len(members),
        "kinds": json.dumps(kinds),
        "zone": ",".join(zones)[:200] or None,
        "priority": min(m[3] or 5 for m in members),
        "first_ts": min(m[4] for m in members),
        "last_ts": max(m[5] for m in members),
        "newest_id": members[-1][0],
        "updated_at": now,
    }
    placed = [m for m in members if m[7] is not None and m[8] is not None]
    if placed:
        fields["lat"] = sum(m[7] for m in placed) / len(placed)
        fields["lon"] = sum(m[8] for m in placed) / len(placed)
    if all(m[6] == "closed" for m in members):
        fields["closed_at"] = now
    db.table("incident_groups").update(gid, fields)
    cur = db.execute("select * from incident_groups where id = ?", [gid])
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
