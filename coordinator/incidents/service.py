"""Incidents: events merged across tracks and nearby cameras, with a logged lifecycle.

The merge decisions are :mod:`coordinator.incidents.merge`'s pure functions; this module keeps the
small in-memory index they need (recent incidents on a spatial grid, device+track →
incident) and the SQL. The index is touched only on the writer thread (inside write
tasks), so it needs no lock; if a write fails it is rebuilt from the database.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import sqlite_utils

from protocol import uuid7

from ..fleet.service import FleetService
from ..geo.centres import Scope
from ..platform.bus import Unsubscribe, remover
from ..platform.db import Database
from ..platform.notify import Notifier
from . import dispositions, grouping, merge
from .actions import IncidentActions, load_row, log_action, public_row
from .actions import IncidentNotFound as IncidentNotFound  # re-export
from .calls import CallActions
from .handling import AlarmActions, follow
from .handover import CentreActions
from .merge import Ev, Inc, IncidentConflict
from .status import ChangeKind, IncidentStatus

log = logging.getLogger(__name__)
ChangeCallback = Callable[[dict[str, Any], ChangeKind], None]


class IncidentService(IncidentActions, CentreActions, AlarmActions, CallActions):
    """Merges ingested events into incidents; operator and dispatch actions on them."""

    def __init__(
        self,
        db: Database,
        fleet: FleetService,
        *,
        rules: dict[str, merge.KindRule] | None = None,
        zone_boost: dict[str, int] | None = None,
    ) -> None:
        self.db = db
        self.fleet = fleet
        self.rules = rules or dict(merge.DEFAULT_RULES)
        self.zone_boost = zone_boost or {}
        self.max_window = max(r.window_s for r in self.rules.values())
        self._cell_deg = max(r.radius_m for r in self.rules.values()) / 111_000
        self._callbacks: list[ChangeCallback] = []
        self._notifier = Notifier("incidents")
        self.tuning: Any = None  # set by the composition root: proposals from dismissals
        #: (lat, lon, zone) → street and zone name; set by the composition root (geo).
        self.address_of: Callable[[float, float, str | None], str | None] = lambda *_: None
        self.triage: Any = None  # set by the composition root: priority model and grouping
        #: How incidents end (data: ``dispositions.json``); every resolution records one.
        self.dispositions = dispositions.load()
        self._reset()
        self._dirty = True

    # contract for other domains ---------------------------------------------------------
    def on_change(self, callback: ChangeCallback) -> Unsubscribe:
        """Call ``callback(incident, change)`` after commit for every create/update/transition.

        ``change`` is ``created``, ``updated`` (new events, merge/split recount),
        ``transition`` (lifecycle step), ``annotated`` or ``merged`` (absorbed by another).
        Callbacks run in order on one notifier thread and may call the service. Returns a
        callable that removes the callback again.
        """
        self._callbacks.append(callback)
        return remover(self._callbacks, callback)

    def get(self, incident_id: str) -> dict[str, Any] | None:
        """The incident as a dict, or None."""
        rows = self.db.query("select * from incidents where id = ?", [str(incident_id)])
        return public_row(rows[0]) if rows else None

    def transition(
        self,
        incident_id: str,
        status: str,
        actor: str,
        note: str | None = None,
        *,
        disposition: str | None = None,
        narrative: str | None = None,
        by_operator: bool = False,
    ) -> dict[str, Any]:
        """Move an incident along its lifecycle; IncidentConflict on an illegal move.

        Resolving records a disposition and a narrative (the note when no narrative is
        given): an operator must name a code of the catalogue (DispositionInvalid
        otherwise); an automatic path (a unit clearing its order) records ``unspecified``.
        """
        if status == IncidentStatus.DISMISSED and not (note and note.strip()):
            raise IncidentConflict("dismissing an incident needs a reason")
        resolution: dict[str, Any] = {}
        if status == IncidentStatus.RESOLVED:
            code, text = dispositions.check(
                self.dispositions, disposition, narrative or note, operator=by_operator
            )
            resolution = {"disposition": code, "narrative": text}

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            row = load_row(db, incident_id)
            merge.check_transition(row["status"], status)
            now = time.time()
            fields = {"status": status, f"{status}_at": now, "updated_at": now}
            if status == IncidentStatus.DISMISSED:
                fields["dismiss_reason"] = note
            fields.update(resolution)
            handling = follow(row.get("handling") or "new", status)
            if handling is not None:  # the alarm's handling follows its lifecycle
                fields.update(handling=handling, handling_at=now)
            db.table("incidents").update(row["id"], fields)
            detail = {"from": row["status"], "note": note, **resolution}
            if handling is not None:
                detail["handling"] = handling
            log_action(db, row["id"], actor, status, detail)
            if row.get("group_id"):
                grouping.refresh(db, row["group_id"], now)
            if row["id"] in self._incs:
                self._incs[row["id"]].status = status
            if status == IncidentStatus.DISMISSED and self.tuning is not None:
                self.tuning.on_dismissed(db, row["id"], now)
            return {**row, **fields}

        return self._act(write, ChangeKind.TRANSITION)

    # operator actions -------------------------------------------------------------------
    def confirm(self, incident_id: str, actor: str, note: str | None = None) -> dict[str, Any]:
        """Operator confirms a new incident as real."""
        return self.transition(incident_id, IncidentStatus.CONFIRMED, actor, note)

    def dismiss(self, incident_id: str, actor: str, reason: str) -> dict[str, Any]:
        """Operator dismisses an incident as a false alarm, with a reason."""
        return self.transition(incident_id, IncidentStatus.DISMISSED, actor, reason)

    def set_disposition(
        self, incident_id: str, code: str, narrative: str | None, actor: str
    ) -> dict[str, Any]:
        """Record or correct how a resolved incident ended (logged with the previous code)."""
        code, text = dispositions.check(self.dispositions, code, narrative, operator=True)

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            row = load_row(db, incident_id)
            if row["status"] != IncidentStatus.RESOLVED:
                raise IncidentConflict(
                    f"incident {incident_id} is {row['status']}: only a resolved incident has "
                    "a disposition (resolve it with one)"
                )
            fields = {"disposition": code, "narrative": text or row.get("narrative")}
            fields["updated_at"] = time.time()
            db.table("incidents").update(row["id"], fields)
            detail = {"from": row.get("disposition"), "disposition": code, "narrative": text}
            log_action(db, row["id"], actor, "disposition", detail)
            return {**row, **fields}

        return self._act(write, ChangeKind.ANNOTATED)

    def disposition_counts(
        self, *, since: float | None = None, until: float | None = None, scope: Scope | None = None
    ) -> list[dict[str, Any]]:
        """Resolutions by disposition within ``scope`` (resolved between since and until)."""
        where, params = ["status = 'resolved'"], []
        if scope is not None:
            frag, args = scope.sql()
            where.append(frag)
            params += args
        for op, val in ((">=", since), ("<", until)):
            if val is not None:
                where.append(f"resolved_at {op} ?")
                params.append(val)
        rows = (
            self.db.read()
            .conn.execute(
                f"select disposition, count(*) from incidents where {' and '.join(where)} "
                "group by disposition",
                params,
            )
            .fetchall()
        )
        return dispositions.counts([(r[0], r[1]) for r in rows], self.dispositions)

    # reads ------------------------------------------------------------------------------
    def search(
        self,
        *,
        status: Sequence[str] | None = None,
        zone: str | None = None,
        since: float | None = None,
        limit: int = 200,
        centre: str | None = None,
        scope: Scope | None = None,
        kind: Sequence[str] | None = None,
        priority: Sequence[int] | None = None,
        handling: Sequence[str] | None = None,
        order: Literal["urgent", "queue"] = "urgent",
    ) -> list[dict[str, Any]]:
        """Incidents by status/zone/centre/kind/priority/handling within ``scope``, most
        urgent and newest first (or in queue order)."""
        where: list[str] = ["status != 'merged'"]
        params: list[Any] = []
        if scope is not None:
            frag, args = scope.sql()
            where.append(frag)
            params += args
        if centre:
            where.append("centre_id = ?")
            params.append(centre)
        if status:
            where.append(f"status in ({','.join('?' for _ in status)})")
            params += status
        if zone:
            where.append("zone = ?")
            params.append(zone)
        if since is not None:
            where.append("updated_at >= ?")
            params.append(since)
        for col, vals in (("kind", kind), ("priority", priority), ("handling", handling)):
            if vals:
                where.append(f"{col} in ({','.join('?' for _ in vals)})")
                params += list(vals)
        sql = f"select * from incidents where {' and '.join(where)} "
        # "queue": a row keeps its place while it grows (first seen, not last updated)
        sql += "order by " + (
            "priority, created_at, id" if order == "queue" else "priority, updated_at desc"
        )
        sql += " limit ?"
        return [public_row(r) for r in self.db.query(sql, [*params, min(limit, 5000)])]

    def history(self, incident_id: str) -> list[dict[str, Any]]:
        """The incident's log (actions, merges, splits, notes), oldest first."""
        rows = self.db.query(
            "select * from incident_log where incident_id = ? order by id", [incident_id]
        )
        for r in rows:
            r["detail"] = json.loads(r["detail"]) if r["detail"] else None
        return rows

    def events(self, incident_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """The incident's events, oldest first."""
        return self.db.query(
            "select * from events where incident_id = ? order by t limit ?", [incident_id, limit]
        )

    # ingest path (writer thread) --------------------------------------------------------
    def assign(
        self, db: sqlite_utils.Database, events: list[dict[str, Any]], now: float
    ) -> list[tuple[dict[str, Any], ChangeKind]]:
        """Give each new event row an ``incident_id`` (in place); return incident changes."""
        if self._dirty:
            self._rebuild(db, now)
        created: set[str] = set()
        touched: dict[str, dict[str, Any]] = {}
        for e in events:
            loc = self.fleet.location(e["dev"])
            if loc is None:
                continue  # unknown device accepted by settings: no location, no incident
            ev = Ev(
                e["id"],
                e["dev"],
                e["track"],
                e["kind"],
                e["conf"],
                e["t"],
                loc["lat"],
                loc["lon"],
                loc.get("zone"),
            )
            key = (ev.dev, ev.track)
            decision, inc_id = merge.choose(
                ev, self._incs.get(self._tracks.get(key, "")), self._near(ev), self.rules
            )
            if decision == "ignore":
                continue
            if decision == "new":
                inc_id = uuid7()
                inc = Inc(inc_id, ev.kind, IncidentStatus.NEW, ev.t, ev.t, {})
                self._incs[inc_id] = inc
                created.add(inc_id)
                touched[inc_id] = {"kind": ev.kind, "n": 0, "conf": 0.0, "zone": ev.zone}
            assert inc_id is not None
            inc = self._incs[inc_id]
            if ev.dev not in inc.points:
                if decision == "nearby":
                    log_action(
                        db, inc_id, "system", "auto_merge", {"device": ev.dev, "event": ev.id}
                    )
                if not inc.points:
                    self._index(inc_id, ev.lat, ev.lon)  # only the first camera anchors it
                inc.points[ev.dev] = (ev.lat, ev.lon)
            inc.first_t, inc.last_t = min(inc.first_t, ev.t), max(inc.last_t, ev.t)
            self._tracks[key] = inc_id
            e["incident_id"] = inc_id
            agg = touched.setdefault(inc_id, {"n": 0, "conf": 0.0})
            agg["n"] += 1
            agg["conf"] = max(agg["conf"], ev.conf)
            if (
                merge.DEFAULT_RULES.get(ev.kind, merge.KindRule()).base_priority
                < self.rules.get(inc.kind, merge.KindRule()).base_priority
            ):
                inc.kind = ev.kind  # the most serious kind names the incident
        changes = []
        for inc_id, agg in touched.items():
            changes.append(
                (
                    self._store(db, inc_id, agg, inc_id in created, now),
                    ChangeKind.CREATED if inc_id in created else ChangeKind.UPDATED,
                )
            )
        if self.triage is not None:  # priority with reasons, groups of related alarms
            self.triage.on_assigned(db, changes, now, events)
        if len(self._incs) > 50_000 or now - self._pruned > 60:
            self._prune(now)
        return changes

    def publish_changes(self, changes: list[tuple[dict[str, Any], ChangeKind]]) -> None:
        """Deliver committed changes to the on_change callbacks (in order, off-thread)."""
        self._emit(changes)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until queued callbacks have run."""
        return self._notifier.flush(timeout)

    def close(self) -> None:
        """Stop the notifier thread."""
        self._notifier.close()

    def mark_dirty(self) -> None:
        """Rebuild the in-memory index before the next assignment (after a failed write)."""
        self._dirty = True

    # internals --------------------------------------------------------------------------
    def _act(
        self, write: Callable[[sqlite_utils.Database], dict[str, Any]], change: ChangeKind
    ) -> dict[str, Any]:
        row = self.db.write(write)
        self._emit([(row, change)])
        return public_row(row)

    def _emit(self, changes: Iterable[tuple[dict[str, Any], ChangeKind]]) -> None:
        if not self._callbacks:
            return
        for row, change in changes:
            inc = public_row(row)
            for cb in list(self._callbacks):
                self._notifier.post(cb, inc, change)

    def _store(
        self, db: sqlite_utils.Database, inc_id: str, agg: dict[str, Any], new: bool, now: float
    ) -> dict[str, Any]:
        inc = self._incs[inc_id]
        lat = sum(p[0] for p in inc.points.values()) / len(inc.points)
        lon = sum(p[1] for p in inc.points.values()) / len(inc.points)
        if new:
            row = {
                "id": inc_id,
                "kind": inc.kind,
                "status": IncidentStatus.NEW,
                "lat": lat,
                "lon": lon,
                "zone": agg.get("zone"),
                "confidence": agg["conf"],
                "event_count": agg["n"],
                "devices": json.dumps(list(inc.points)),
                "first_ts": inc.first_t,
                "last_ts": inc.last_t,
                "created_at": now,
                "updated_at": now,
                "notes": 0,
                # The first event's camera decides; a later merge across a border keeps it.
                "centre_id": self.fleet.centre_of(next(iter(inc.points))),
                "address": self.address_of(lat, lon, agg.get("zone")),
            }
            row["priority"] = merge.priority(
                inc.kind, agg["conf"], row["zone"], len(inc.points), self.rules, self.zone_boost
            )
            cols = list(row)
            db.conn.execute(
                f"insert into incidents ({','.join(cols)}) values ({','.join('?' * len(cols))})",
                [row[c] for c in cols],
            )
            return row
        old = db.execute("select * from incidents where id = ?", [inc_id]).fetchone()
        cols = [d[0] for d in db.execute("select * from incidents limit 0").description]
        row = dict(zip(cols, old, strict=True))
        conf = max(row["confidence"] or 0.0, agg["conf"])
        row.update(
            kind=inc.kind,
            lat=lat,
            lon=lon,
            confidence=conf,
            event_count=row["event_count"] + agg["n"],
            devices=json.dumps(list(inc.points)),
            first_ts=inc.first_t,
            last_ts=inc.last_t,
            updated_at=now,
            priority=merge.priority(
                inc.kind, conf, row["zone"], len(inc.points), self.rules, self.zone_boost
            ),
        )
        db.execute(
            "update incidents set kind=?, lat=?, lon=?, confidence=?, event_count=?, devices=?, "
            "first_ts=?, last_ts=?, updated_at=?, priority=? where id=?",
            [
                row["kind"],
                lat,
                lon,
                conf,
                row["event_count"],
                row["devices"],
                inc.first_t,
                inc.last_t,
                now,
                row["priority"],
                inc_id,
            ],
        )
        return row

    def _recompute(self, db: sqlite_utils.Database, inc_id: str) -> dict[str, Any]:
        """Recount an incident from its events (after a merge or split)."""
        n, first, last, conf = db.execute(
            "select count(*), min(t), max(t), max(conf) from events where incident_id = ?", [inc_id]
        ).fetchone()
        devs = [
            r[0]
            for r in db.execute("select distinct dev from events where incident_id = ?", [inc_id])
        ]
        pts = [p for p in (self.fleet.location(d) for d in devs) if p]
        row = dict(load_row(db, inc_id))
        row.update(
            event_count=n,
            first_ts=first,
            last_ts=last,
            confidence=conf or 0.0,
            devices=json.dumps(sorted(devs)),
            updated_at=time.time(),
        )
        if pts:
            row["lat"] = sum(p["lat"] for p in pts) / len(pts)
            row["lon"] = sum(p["lon"] for p in pts) / len(pts)
        row["priority"] = merge.priority(
            row["kind"], row["confidence"], row["zone"], len(devs), self.rules, self.zone_boost
        )
        db.table("incidents").update(
            inc_id,
            {
                k: row[k]
                for k in (
                    "event_count",
                    "first_ts",
                    "last_ts",
                    "confidence",
                    "devices",
                    "updated_at",
                    "lat",
                    "lon",
                    "priority",
                )
            },
        )
        if self.triage is not None:
            self.triage.rank(db, row, row["updated_at"])
        return row

    def _reset(self) -> None:
        self._incs: dict[str, Inc] = {}
        self._tracks: dict[tuple[str, int], str] = {}
        self._grid: dict[tuple[int, int], set[str]] = {}
        self._pruned = 0.0

    def _rebuild(self, db: sqlite_utils.Database, now: float) -> None:
        self._reset()
        since = now - self.max_window * 2
        marks = ",".join("?" for _ in merge.TRACK_JOINABLE)
        for r in db.execute(
            f"select id, kind, status, first_ts, last_ts, devices from incidents "
            f"where last_ts >= ? and status in ({marks})",
            [since, *merge.TRACK_JOINABLE],
        ).fetchall():
            inc = Inc(r[0], r[1], r[2], r[3], r[4], {})
            for d in json.loads(r[5] or "[]"):
                loc = self.fleet.location(d)
                if loc:
                    if not inc.points:
                        self._index(inc.id, loc["lat"], loc["lon"])
                    inc.points[d] = (loc["lat"], loc["lon"])
            self._incs[inc.id] = inc
        for dev, track, inc_id in db.execute(
            "select dev, track, incident_id from events where t >= ? and incident_id is not null "
            "order by t",
            [since],
        ):
            self._tracks[(dev, track)] = inc_id
        self._dirty = False
        self._pruned = now

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        lon_deg = self._cell_deg / max(0.1, math.cos(math.radians(lat)))
        return (math.floor(lat / self._cell_deg), math.floor(lon / lon_deg))

    def _index(self, inc_id: str, lat: float, lon: float) -> None:
        self._grid.setdefault(self._cell(lat, lon), set()).add(inc_id)

    def _near(self, ev: Ev) -> list[Inc]:
        cy, cx = self._cell(ev.lat, ev.lon)
        out = []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for inc_id in self._grid.get((cy + dy, cx + dx), ()):
                    inc = self._incs.get(inc_id)
                    if inc is not None:
                        out.append(inc)
        return out

    def _prune(self, now: float) -> None:
        # Incidents idle for twice the longest window can no longer absorb anything.
        cutoff = now - 2 * self.max_window
        old = {i for i, inc in self._incs.items() if inc.last_t < cutoff}
        for i in old:
            del self._incs[i]
        if old:
            self._tracks = {k: v for k, v in self._tracks.items() if v not in old}
            for cell in list(self._grid):
                self._grid[cell] -= old
                if not self._grid[cell]:
                    del self._grid[cell]
        self._pruned = now
