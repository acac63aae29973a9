"""Flood suppression for camera-down alerts: cameras that go down together are one alert.

The written rule (settings ``alarms:``): when at least ``min_count`` cameras that share a
key — the first of ``keys`` they have: street, then zone, then owner organisation —
go down (offline or stale) within ``window_s``, their alerts form one group ("12 cameras
down in zone Z003"). Further cameras with that key going down while the group is open and
within the window of its last member join it. The group closes when its last camera is
back. A key the registry does not have yet (``street`` until devices carry one) is
skipped, so new keys (a street, an owner organisation's id) only need a column.

Groups are rows (``device_alert_groups``, ``device_alerts.group_id``) written on the one
writer inside the transaction that opened the alerts: every process reads the same groups,
and the live stream carries one message per group instead of one per camera.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

Key = tuple[str, str]  # (dimension, value), e.g. ("zone", "Z003")
CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class DownRule:
    """When cameras down together become one alert."""

    min_count: int = 5
    window_s: float = 300.0
    keys: tuple[str, ...] = ("street", "zone", "owner_org")


def keys_of(device: Mapping[str, Any], keys: Sequence[str]) -> list[Key]:
    """The grouping keys a device has, in the rule's order."""
    return [(k, str(device[k])) for k in keys if device.get(k) not in (None, "")]


def plan(
    new: Sequence[tuple[int, Mapping[str, Any]]],
    open_groups: Mapping[Key, int],
    pool: Sequence[tuple[int, Mapping[str, Any]]],
    rule: DownRule,
) -> tuple[dict[int, int], dict[Key, list[int]]]:
    """Which alerts join open groups, and which groups form.

    ``new``: just-opened alerts (id, device row); ``open_groups``: key → group id of open
    groups still within the window; ``pool``: every open ungrouped alert within the window
    (the new ones included). Returns (alert id → joined group id, key → members of a new
    group). An alert joins at most one group: the first of its keys that has one.
    """
    joined: dict[int, int] = {}
    for aid, dev in new:
        for key in keys_of(dev, rule.keys):
            if key in open_groups:
                joined[aid] = open_groups[key]
                break
    formed: dict[Key, list[int]] = {}
    taken = set(joined)
    for dim in rule.keys:
        buckets: dict[Key, list[int]] = {}
        for aid, dev in pool:
            if aid in taken or dev.get(dim) in (None, ""):
                continue
            buckets.setdefault((dim, str(dev[dim])), []).append(aid)
        for key, ids in sorted(buckets.items()):
            if len(ids) >= rule.min_count:
                formed[key] = sorted(ids)
                taken.update(ids)
    return joined, formed


def label(dim: str, value: str, count: int) -> str:
    """The group's sentence, e.g. '12 cameras down in zone Z003'."""
    where = {
        "street": f"on {value}",
        "zone": f"in zone {value}",
        "owner_org": f"of {value}",
        "owner_type": f"owned by {value} owners",
    }.get(dim, f"with {dim} {value}")
    return f"{count} camera{'s' if count != 1 else ''} down {where}"


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


class DownGrouping:
    """Groups camera-down alerts inside the transaction that opens or closes them."""

    def __init__(self, rule: DownRule) -> None:
        self.rule = rule

    @classmethod
    def from_settings(cls, alarms: Any) -> DownGrouping:
        """From the ``alarms:`` settings."""
        return cls(
            DownRule(
                alarms.down_group_min, alarms.down_group_window_s, tuple(alarms.down_group_keys)
            )
        )

    def _devices(self, db: sqlite_utils.Database, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        have = {d[0] for d in db.execute("select * from devices limit 0").description}
        cols = ["id", *(k for k in self.rule.keys if k in have)]
        out: dict[str, dict[str, Any]] = {}
        for part in _chunks(sorted(set(ids))):
            marks = ",".join("?" for _ in part)
            cur = db.execute(f"select {','.join(cols)} from devices where id in ({marks})", part)
            for r in cur.fetchall():
                out[r[0]] = dict(zip(cols, r, strict=True))
        return out

    def opened(
        self, db: sqlite_utils.Database, alerts: list[dict[str, Any]], now: float
    ) -> list[dict[str, Any]]:
        """Group just-opened alerts (rows with id, device_id); sets ``group`` on each grouped
        one (the group row after the change). Returns the alerts."""
        if not alerts:
            return alerts
        since = now - self.rule.window_s
        open_groups = {
            (d, v): gid
            for gid, d, v in db.execute(
                "select id, dim, value from device_alert_groups "
                "where closed_at is null and last_at >= ?",
                [since],
            ).fetchall()
        }
        recent = db.execute(
            "select id, device_id from device_alerts where closed_at is null and "
            "group_id is null and opened_at >= ?",
            [since],
        ).fetchall()
        devs = self._devices(db, [a["device_id"] for a in alerts] + [r[1] for r in recent])
        new = [(a["id"], devs.get(a["device_id"], {})) for a in alerts]
        pool = [(aid, devs.get(dev, {})) for aid, dev in recent]
        joined, formed = plan(new, open_groups, pool, self.rule)
        members: dict[int, list[int]] = {}
        for aid, gid in joined.items():
            members.setdefault(gid, []).append(aid)
        for (dim, value), ids in formed.items():
            new_id = (
                db.table("device_alert_groups")
                .insert({"dim": dim, "value": value, "opened_at": now, "last_at": now, "count": 0})
                .last_pk
            )
            members[int(str(new_id))] = ids
        rows = self._attach(db, members, now)
        by_alert = {aid: rows[gid] for gid, ids in members.items() for aid in ids}
        for a in alerts:
            if a["id"] in by_alert:
                a["group"] = by_alert[a["id"]]
        return alerts

    def _attach(
        self, db: sqlite_utils.Database, members: Mapping[int, Sequence[int]], now: float
    ) -> dict[int, dict[str, Any]]:
        for gid, ids in members.items():
            for part in _chunks(list(ids)):
                marks = ",".join("?" for _ in part)
                db.execute(
                    f"update device_alerts set group_id = ? where id in ({marks})", [gid, *part]
                )
        return {gid: recount(db, gid, now, joined=True) for gid in members}

    def closed(
        self, db: sqlite_utils.Database, alerts: list[dict[str, Any]], now: float
    ) -> list[dict[str, Any]]:
        """Recount the groups of just-closed alerts (a group with no camera down closes);
        sets ``group`` on each grouped one. Returns the alerts."""
        ids = [a["id"] for a in alerts]
        gids: dict[int, int] = {}
        for part in _chunks(ids):
            marks = ",".join("?" for _ in part)
            gids.update(
                db.execute(
                    f"select id, group_id from device_alerts where id in ({marks}) "
                    "and group_id is not null",
                    part,
                ).fetchall()
            )
        rows = {gid: recount(db, gid, now) for gid in set(gids.values())}
        for a in alerts:
            if a["id"] in gids:
                a["group"] = rows[gids[a["id"]]]
        return alerts


def recount(
    db: sqlite_utils.Database, gid: int, now: float, joined: bool = False
) -> dict[str, Any]:
    """Recount a group from its alerts; it closes when none is open. Returns its row."""
    total, still = db.execute(
        "select count(*), coalesce(sum(case when closed_at is null then 1 else 0 end), 0) "
        "from device_alerts where group_id = ?",
        [gid],
    ).fetchone()
    fields: dict[str, Any] = {"count": total, "open_count": still}
    if joined:
        fields["last_at"] = now
    fields["closed_at"] = now if still == 0 else None
    db.table("device_alert_groups").update(gid, fields)
    cur = db.execute("select * from device_alert_groups where id = ?", [gid])
    row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    row["label"] = label(row["dim"], row["value"], row["open_count"] or 0)
    return row


def collapse(alerts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Alert changes for the live stream: a grouped alert's change becomes one message per
    group (its latest state), an ungrouped one passes as it is."""
    out: list[dict[str, Any]] = []
    groups: dict[int, dict[str, Any]] = {}
    for a in alerts:
        g = a.get("group")
        if g is None:
            out.append(a)
        else:
            seen = groups.get(g["id"], {}).get("device_ids", [])
            ids = [*seen, a["device_id"]] if a.get("device_id") else seen
            # the members of this change: whose centres the stream tells (not the message)
            groups[g["id"]] = {"change": "group", "kind": "group", "group": g, "device_ids": ids}
    return out + list(groups.values())
