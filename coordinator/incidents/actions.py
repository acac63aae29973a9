"""Operator actions on incidents: annotate, merge, unmerge, split (reversible, logged).

A mixin of :class:`coordinator.incidents.IncidentService`; it uses the service's database,
its in-memory index (marked dirty after a merge or split, rebuilt lazily on the writer
thread) and its change notifications.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import sqlite_utils

from protocol import uuid7

from ..errors import NotFound
from ..identity.audit import AuditService
from .merge import IncidentConflict
from .status import ChangeKind, IncidentStatus

if TYPE_CHECKING:
    from ..platform.db import Database
    from .merge import Inc


class IncidentNotFound(NotFound, LookupError):
    """No incident with that id."""


class IncidentActions:
    """Annotate, merge, unmerge and split; every action is logged and audited."""

    db: Database
    _incs: dict[str, Inc]
    _dirty: bool

    def _emit(
        self, changes: Iterable[tuple[dict[str, Any], ChangeKind]]
    ) -> None:  # pragma: no cover
        raise NotImplementedError

    def _act(
        self, write: Callable[[sqlite_utils.Database], dict[str, Any]], change: ChangeKind
    ) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def _recompute(
        self, db: sqlite_utils.Database, inc_id: str
    ) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def annotate(self, incident_id: str, actor: str, text: str) -> dict[str, Any]:
        """Add an operator note to the incident log."""

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            row = load_row(db, incident_id)
            now = time.time()
            log_action(db, row["id"], actor, "note", {"text": text})
            db.table("incidents").update(
                row["id"], {"notes": (row["notes"] or 0) + 1, "updated_at": now}
            )
            return {**row, "notes": (row["notes"] or 0) + 1, "updated_at": now}

        return self._act(write, ChangeKind.ANNOTATED)

    def merge(self, target_id: str, source_ids: list[str], actor: str) -> dict[str, Any]:
        """Merge incidents into ``target_id``; each source can be restored with unmerge()."""
        if not source_ids or target_id in source_ids:
            raise IncidentConflict("merge needs other incidents than the target")

        def write(db: sqlite_utils.Database) -> list[dict[str, Any]]:
            target = load_row(db, target_id)
            if target["status"] == IncidentStatus.MERGED:
                raise IncidentConflict(f"incident {target_id} is itself merged into another")
            out = []
            for sid in source_ids:
                src = load_row(db, sid)
                if src["status"] == IncidentStatus.MERGED:
                    raise IncidentConflict(f"incident {sid} is already merged")
                db.execute(
                    "update events set incident_id = ?, merged_from = coalesce(merged_from, ?) "
                    "where incident_id = ?",
                    [target_id, sid, sid],
                )
                now = time.time()
                db.table("incidents").update(
                    sid,
                    {"status": IncidentStatus.MERGED, "merged_into": target_id, "updated_at": now},
                )
                log_action(
                    db, sid, actor, "merged_into", {"target": target_id, "was": src["status"]}
                )
                log_action(db, target_id, actor, "merge", {"source": sid, "was": src["status"]})
                self._incs.pop(sid, None)
                out.append({**src, "status": IncidentStatus.MERGED, "merged_into": target_id})
            out.insert(0, self._recompute(db, target_id))
            self._dirty = True  # track map points at the sources: rebuild lazily
            return out

        changes = self.db.write(write)
        self._emit(
            [
                (
                    c,
                    ChangeKind.MERGED
                    if c["status"] == IncidentStatus.MERGED
                    else ChangeKind.UPDATED,
                )
                for c in changes
            ]
        )
        return public_row(changes[0])

    def unmerge(self, source_id: str, actor: str) -> dict[str, Any]:
        """Undo a merge: the source incident gets its own events and status back."""

        def write(db: sqlite_utils.Database) -> list[dict[str, Any]]:
            src = load_row(db, source_id)
            if src["status"] != IncidentStatus.MERGED:
                raise IncidentConflict(f"incident {source_id} is not merged")
            target = src["merged_into"]
            was = db.execute(
                "select detail from incident_log where incident_id = ? and action = 'merged_into' "
                "order by id desc limit 1",
                [source_id],
            ).fetchone()
            status = json.loads(was[0])["was"] if was else IncidentStatus.NEW
            db.execute(
                "update events set incident_id = ?, merged_from = null "
                "where incident_id = ? and merged_from = ?",
                [source_id, target, source_id],
            )
            db.table("incidents").update(source_id, {"status": status, "merged_into": None})
            log_action(db, source_id, actor, "unmerged", {"from": target})
            log_action(db, target, actor, "unmerge", {"source": source_id})
            self._dirty = True
            return [self._recompute(db, source_id), self._recompute(db, target)]

        changes = self.db.write(write)
        self._emit([(c, ChangeKind.UPDATED) for c in changes])
        return public_row(changes[0])

    def split(
        self,
        incident_id: str,
        actor: str,
        *,
        device_ids: list[str] | None = None,
        event_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Move the events of some devices (or some events) into a new incident."""
        if not device_ids and not event_ids:
            raise IncidentConflict("split needs device_ids or event_ids")

        def write(db: sqlite_utils.Database) -> list[dict[str, Any]]:
            row = load_row(db, incident_id)
            if row["status"] == IncidentStatus.MERGED:
                raise IncidentConflict(f"incident {incident_id} is merged; unmerge it instead")
            col, vals = ("dev", device_ids) if device_ids else ("id", event_ids)
            assert vals is not None
            marks = ",".join("?" for _ in vals)
            moving = db.execute(
                f"select count(*) from events where incident_id = ? and {col} in ({marks})",
                [incident_id, *vals],
            ).fetchone()[0]
            total = row["event_count"]
            if moving == 0:
                raise IncidentConflict("none of those devices/events belong to this incident")
            if moving >= total:
                raise IncidentConflict("split would leave the incident empty")
            new_id = uuid7()
            now = time.time()
            db.table("incidents").insert(
                {
                    **row,
                    "id": new_id,
                    "status": IncidentStatus.NEW,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            db.execute(
                f"update events set incident_id = ?, merged_from = null "
                f"where incident_id = ? and {col} in ({marks})",
                [new_id, incident_id, *vals],
            )
            log_action(db, incident_id, actor, "split", {"new": new_id, col: vals})
            log_action(db, new_id, actor, "split_from", {"source": incident_id, col: vals})
            self._dirty = True
            return [self._recompute(db, new_id), self._recompute(db, incident_id)]

        changes = self.db.write(write)
        self._emit([(changes[0], ChangeKind.CREATED), (changes[1], ChangeKind.UPDATED)])
        return public_row(changes[0])


def load_row(db: sqlite_utils.Database, incident_id: str) -> dict[str, Any]:
    """The incident row inside a write transaction, or IncidentNotFound."""
    cur = db.execute("select * from incidents where id = ?", [str(incident_id)])
    row = cur.fetchone()
    if row is None:
        raise IncidentNotFound(f"no incident {incident_id!r}")
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def log_action(
    db: sqlite_utils.Database, inc_id: str, actor: str, action: str, detail: dict[str, Any]
) -> None:
    """Append to the incident's log (and the audit log for operator actions)."""
    db.conn.execute(
        "insert into incident_log (incident_id, ts, actor, action, detail) values (?,?,?,?,?)",
        [inc_id, time.time(), actor, action, json.dumps(detail, default=str)],
    )
    if action not in ("auto_merge", "note"):
        AuditService.append(
            db, AuditService.entry(actor, f"incident_{action}", "incident", inc_id, detail=detail)
        )


def public_row(row: dict[str, Any]) -> dict[str, Any]:
    """An incident row as the API and callbacks see it (devices as a list)."""
    out = dict(row)
    out.pop("call_key", None)  # a call's idempotency key: the service's, not the reader's
    if isinstance(out.get("devices"), str):
        out["devices"] = json.loads(out["devices"])
    if isinstance(out.get("priority_reasons"), str):
        out["priority_reasons"] = json.loads(out["priority_reasons"])
    return out
