"""Alarm handling beside the dispatch lifecycle: acknowledge, claim, assign, start, hold,
resume, close, reopen — on one incident or on a whole group of related alarms.

The handling state (:class:`HandlingState`) says where the *operators'* work on an alarm
stands; the lifecycle (new → confirmed → dispatched → en route → on scene → resolved) says
where the *incident* stands. Both are kept: a lifecycle step moves the handling along
when it implies one (a dispatched incident is in progress, a resolved one closed), an
operator moves the handling without touching the lifecycle, except that closing an
incident nobody was sent to resolves it. Every step is in the incident's action log
(and the audit log) with who did it.

A mixin of :class:`coordinator.incidents.service.IncidentService`, like
:mod:`.actions`; the transitions are pure functions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import sqlite_utils

from . import dispositions, grouping
from .actions import load_row, log_action, public_row
from .merge import IncidentConflict, check_transition
from .queue import SCAN_MAX, collapse
from .status import ChangeKind, HandlingState, IncidentStatus

if TYPE_CHECKING:
    from ..platform.db import Database
    from .merge import Inc

H = HandlingState
S = IncidentStatus
Action = Literal["acknowledge", "claim", "assign", "start", "hold", "resume", "close", "reopen"]
GroupAction = Literal["acknowledge", "close", "dismiss"]

#: action -> (handling states it may start from, the state it leads to; None: unchanged
#: except that a new alarm becomes acknowledged)
MOVES: dict[str, tuple[frozenset[str], str | None]] = {
    "acknowledge": (frozenset({H.NEW}), H.ACKNOWLEDGED),
    "claim": (frozenset({H.NEW, H.ACKNOWLEDGED, H.IN_PROGRESS, H.ON_HOLD}), None),
    "assign": (frozenset({H.NEW, H.ACKNOWLEDGED, H.IN_PROGRESS, H.ON_HOLD}), None),
    "start": (frozenset({H.NEW, H.ACKNOWLEDGED, H.ON_HOLD}), H.IN_PROGRESS),
    "hold": (frozenset({H.NEW, H.ACKNOWLEDGED, H.IN_PROGRESS}), H.ON_HOLD),
    "resume": (frozenset({H.ON_HOLD}), H.IN_PROGRESS),
    "close": (frozenset({H.NEW, H.ACKNOWLEDGED, H.IN_PROGRESS, H.ON_HOLD}), H.CLOSED),
    "reopen": (frozenset({H.CLOSED}), H.ACKNOWLEDGED),
}
#: The queue's default: incidents still needing someone (lifecycle not finished).
OPEN_STATUSES = (S.NEW, S.CONFIRMED, S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE)
#: Lifecycle statuses in which a unit is out: the alarm stays open until it is resolved.
UNIT_OUT = frozenset({S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE})


def plan(current: str, action: str) -> str:
    """The handling state ``action`` leads to from ``current``; IncidentConflict if none."""
    if action not in MOVES:
        raise IncidentConflict(f"unknown handling action {action!r}; actions are {sorted(MOVES)}")
    sources, target = MOVES[action]
    if current not in sources:
        raise IncidentConflict(
            f"cannot {action} an alarm that is {current!r}; "
            f"{action} works on {sorted(str(s) for s in sources)}"
        )
    if target is None:
        return H.ACKNOWLEDGED if current == H.NEW else current
    return target


def follow(handling: str, status: str) -> str | None:
    """The handling state a lifecycle move to ``status`` implies, or None (unchanged)."""
    if status == S.CONFIRMED and handling in (H.NEW, H.CLOSED):
        return H.ACKNOWLEDGED  # confirmed by an operator, or a dismissal undone
    if status in UNIT_OUT and handling in (H.NEW, H.ACKNOWLEDGED, H.ON_HOLD):
        return H.IN_PROGRESS
    if status in (S.RESOLVED, S.DISMISSED) and handling != H.CLOSED:
        return H.CLOSED
    return None


def closing_status(status: str) -> str | None:
    """The lifecycle status closing the alarm moves the incident to (None: it stays);
    IncidentConflict while a unit is out."""
    if status in UNIT_OUT:
        raise IncidentConflict(
            f"a unit is {status.replace('_', ' ')}: resolve the incident (or recall the unit) "
            "before closing its alarm"
        )
    return S.RESOLVED if status in (S.NEW, S.CONFIRMED) else None


def assignees(db: Database, matrix: Mapping[Any, Iterable[str]], perm: str) -> list[dict[str, str]]:
    """Active users whose roles hold ``perm`` (who an alarm may be assigned to)."""
    out = []
    for r in db.query(
        "select username, display_name, roles from users where active = 1 order by username"
    ):
        roles = json.loads(r["roles"] or "[]")
        if any(perm in matrix.get(role, ()) for role in roles):
            out.append({"username": r["username"], "display_name": r["display_name"] or ""})
    return out


class AlarmActions:
    """Handling steps on one incident and on a group of related alarms."""

    db: Database
    tuning: Any
    dispositions: dict[str, dispositions.Disposition]
    _incs: dict[str, Inc]

    def _emit(
        self, changes: Iterable[tuple[dict[str, Any], ChangeKind]]
    ) -> None:  # pragma: no cover
        raise NotImplementedError

    def _act(
        self, write: Callable[[sqlite_utils.Database], dict[str, Any]], change: ChangeKind
    ) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def handle(
        self,
        incident_id: str,
        action: str,
        actor: str,
        *,
        assignee: str | None = None,
        note: str | None = None,
        disposition: str | None = None,
        by_operator: bool = False,
    ) -> dict[str, Any]:
        """One handling step on one incident (IncidentConflict when it does not apply).

        Closing an alarm nobody was sent to resolves the incident: an operator names its
        disposition (DispositionInvalid without one); the note is its narrative."""
        if action == "assign" and not assignee:
            raise IncidentConflict("assign needs the operator to assign the alarm to")
        if action == "hold" and not (note and note.strip()):
            raise IncidentConflict("putting an alarm on hold needs a reason")
        resolution = self._resolution(action, disposition, note, by_operator)

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            row = load_row(db, incident_id)
            now = time.time()
            fields = self._step(db, row, action, actor, assignee, note, now, resolution=resolution)
            if row.get("group_id"):
                grouping.refresh(db, row["group_id"], now)
            return {**row, **fields}

        return self._act(write, ChangeKind.HANDLED)

    def _step(
        self,
        db: sqlite_utils.Database,
        row: dict[str, Any],
        action: str,
        actor: str,
        assignee: str | None,
        note: str | None,
        now: float,
        group: str | None = None,
        resolution: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Apply one step inside a write: update the row, log it; the changed fields."""
        current = row.get("handling") or H.NEW
        target = plan(current, action)
        who = row.get("assignee")
        if action == "claim" or (action == "start" and not who):
            who = actor
        elif action == "assign":
            who = assignee
        fields: dict[str, Any] = {
            "handling": target,
            "assignee": who,
            "handling_at": now,
            "updated_at": now,
        }
        if action == "close":
            status = closing_status(row["status"])
            if status is not None:
                if status == S.RESOLVED:
                    fields.update(resolution or {"disposition": dispositions.UNSPECIFIED})
                self._lifecycle(db, row, fields, status, actor, note or "closed by the operator")
        db.table("incidents").update(row["id"], fields)
        detail: dict[str, Any] = {"from": current, "to": target, "assignee": who, "note": note}
        if group:
            detail["group"] = group
        log_action(db, row["id"], actor, f"handling_{action}", detail)
        return fields

    def _lifecycle(
        self,
        db: sqlite_utils.Database,
        row: dict[str, Any],
        fields: dict[str, Any],
        status: str,
        actor: str,
        note: str,
    ) -> None:
        """Move the lifecycle with a handling step (fields updated by the caller)."""
        check_transition(row["status"], status)
        now = fields["handling_at"]
        fields.update({"status": status, f"{status}_at": now})
        if status == S.DISMISSED:
            fields["dismiss_reason"] = note
        detail = {"from": row["status"], "note": note}
        if status == S.RESOLVED:
            detail.update(disposition=fields.get("disposition"), narrative=fields.get("narrative"))
        log_action(db, row["id"], actor, status, detail)
        if row["id"] in self._incs:
            self._incs[row["id"]].status = status
        if status == S.DISMISSED and self.tuning is not None:
            self.tuning.on_dismissed(db, row["id"], now)

    def _resolution(
        self, action: str, code: str | None, note: str | None, by_operator: bool
    ) -> dict[str, Any] | None:
        """The disposition a closing step records when it resolves (checked before writing)."""
        if action != "close":
            return None
        code, text = dispositions.check(self.dispositions, code, note, operator=by_operator)
        return {"disposition": code, "narrative": text}

    def handle_group(
        self,
        group_id: str,
        action: str,
        actor: str,
        *,
        reason: str | None = None,
        disposition: str | None = None,
        by_operator: bool = False,
        allowed: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Acknowledge, close (with a disposition; the reason is its narrative) or dismiss
        (as a false alarm, with a reason) every member of a group that the step applies to
        and ``allowed`` admits (the caller's centres); the others are listed with why they
        were skipped."""
        if action not in ("acknowledge", "close", "dismiss"):
            raise IncidentConflict(f"unknown group action {action!r}")
        if action == "dismiss" and not (reason and reason.strip()):
            raise IncidentConflict("dismissing a group as false alarms needs a reason")
        resolution = self._resolution(action, disposition, reason, by_operator)

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            members = _members(db, group_id)
            now = time.time()
            changed: list[dict[str, Any]] = []
            skipped: list[dict[str, str]] = []
            for row in members:
                if allowed is not None and not allowed(row):
                    skipped.append({"id": row["id"], "reason": "outside your centres"})
                    continue
                try:
                    fields = self._group_step(
                        db, row, action, actor, reason, now, group_id, resolution
                    )
                except IncidentConflict as exc:
                    skipped.append({"id": row["id"], "reason": str(exc)})
                    continue
                changed.append({**row, **fields})
            group = grouping.refresh(db, group_id, now)
            if group is not None and action != "acknowledge" and group.get("closed_at"):
                db.table("incident_groups").update(group_id, {"closed_by": actor})
                group["closed_by"] = actor
            return {"group": group, "changed": changed, "skipped": skipped}

        out = self.db.write(write)
        self._emit((r, ChangeKind.HANDLED) for r in out["changed"])
        return {
            "group": group_view(out["group"]),
            "acted": len(out["changed"]),
            "skipped": out["skipped"],
        }

    def _group_step(
        self,
        db: sqlite_utils.Database,
        row: dict[str, Any],
        action: str,
        actor: str,
        reason: str | None,
        now: float,
        group_id: str,
        resolution: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if action != "dismiss":
            return self._step(
                db, row, action, actor, None, reason, now, group_id, resolution=resolution
            )
        if row["status"] not in (S.NEW, S.CONFIRMED):
            raise IncidentConflict(f"it is {row['status']}: only new or confirmed are dismissed")
        fields: dict[str, Any] = {"handling": H.CLOSED, "handling_at": now, "updated_at": now}
        self._lifecycle(db, row, fields, S.DISMISSED, actor, str(reason))
        db.table("incidents").update(row["id"], fields)
        detail = {"from": row.get("handling"), "to": H.CLOSED, "group": group_id, "note": reason}
        log_action(db, row["id"], actor, "handling_dismiss", detail)
        return fields

    # reads ------------------------------------------------------------------------------
    search: Callable[..., list[dict[str, Any]]]  # the service's

    def queue(
        self,
        *,
        status: Sequence[str] | None = None,
        zone: str | None = None,
        kind: Sequence[str] | None = None,
        priority: Sequence[int] | None = None,
        handling: Sequence[str] | None = None,
        limit: int = 200,
        scope: Any = None,
    ) -> dict[str, Any]:
        """The alarm queue: open incidents (or those of ``status``) within the caller's
        centres (``scope``), groups folded into one row each, in queue order; filters by
        zone, kind, priority and handling state."""
        rows = self.search(
            scope=scope,
            status=list(status or OPEN_STATUSES),
            zone=zone,
            kind=kind,
            priority=priority,
            handling=handling,
            limit=SCAN_MAX,
            order="queue",
        )
        groups = self.groups(sorted({r["group_id"] for r in rows if r.get("group_id")}), scope)
        out = collapse(rows, groups)
        return {
            "rows": out[:limit],
            "total": len(rows),
            "grouped": sum(1 for r in rows if r.get("group_id") in groups),
            "truncated": len(rows) >= SCAN_MAX,
        }

    def group(self, group_id: str, limit: int = 500, scope: Any = None) -> dict[str, Any] | None:
        """A group with its members in ``scope`` (most urgent first); None when it does not
        exist or has no member in scope (a centre sees nothing of another's groups)."""
        rows = self.db.query("select * from incident_groups where id = ?", [group_id])
        if not rows:
            return None
        frag, args = scope.sql() if scope is not None else ("1 = 1", [])
        members = self.db.query(
            f"select * from incidents where group_id = ? and status != 'merged' and {frag} "
            "order by priority, created_at limit ?",
            [group_id, *args, limit],
        )
        if scope is not None and not scope.city_wide and not members:
            return None
        out = {**_view(rows[0]), "members": [public_row(m) for m in members]}
        if scope is not None and not scope.city_wide:
            out["count"] = len(members)  # what the caller may see of it
        return out

    def groups(self, ids: Sequence[str], scope: Any = None) -> dict[str, dict[str, Any]]:
        """Groups by id (with how many members are still open), for the queue; with a
        ``scope`` the counts are of the members in it."""
        if not ids:
            return {}
        marks = ",".join("?" for _ in ids)
        rows = self.db.query(f"select * from incident_groups where id in ({marks})", list(ids))
        frag, args = scope.sql() if scope is not None else ("1 = 1", [])
        conn = self.db.read().conn
        open_counts = dict(
            conn.execute(
                f"select group_id, count(*) from incidents where group_id in ({marks}) "
                f"and handling != 'closed' and status != 'merged' and {frag} group by group_id",
                [*ids, *args],
            ).fetchall()
        )
        out = {r["id"]: {**_view(r), "open": open_counts.get(r["id"], 0)} for r in rows}
        if scope is not None and not scope.city_wide:
            seen = dict(
                conn.execute(
                    f"select group_id, count(*) from incidents where group_id in ({marks}) "
                    f"and status != 'merged' and {frag} group by group_id",
                    [*ids, *args],
                ).fetchall()
            )
            for gid, g in out.items():
                g["count"] = seen.get(gid, 0)
        return out


def _members(db: sqlite_utils.Database, group_id: str) -> list[dict[str, Any]]:
    if not db.execute("select 1 from incident_groups where id = ?", [group_id]).fetchone():
        from .actions import IncidentNotFound

        raise IncidentNotFound(f"no alarm group {group_id!r}")
    cur = db.execute(
        "select * from incidents where group_id = ? and status != 'merged' "
        "order by created_at limit 5000",
        [group_id],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def group_view(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A group row as the API shows it (kinds as a list); None stays None."""
    return None if row is None else _view(row)


def _view(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if isinstance(out.get("kinds"), str):
        out["kinds"] = json.loads(out["kinds"])
    return out
