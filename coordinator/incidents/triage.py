"""Triage on the ingest path: each new or grown incident gets its priority (with reasons)
from :mod:`.priority`, and each new one its group from :mod:`.grouping`.

Called by the incident service inside the ingest transaction (the one writer), so the
priority, its reasons and the group are committed with the events that caused them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlite_utils

from ..settings import AlarmSettings
from . import grouping, priority
from .status import ChangeKind


class Triage:
    """Priority model and alarm grouping, as the settings describe them."""

    def __init__(self, settings: AlarmSettings, zone_boost: Mapping[str, int] | None = None):
        self.model = priority.Model(
            top_score=settings.top_priority_score,
            night_start=settings.night_start_hour,
            night_end=settings.night_end_hour,
            utc_offset_h=settings.utc_offset_h,
        )
        self.rule = grouping.GroupRule(
            min_count=settings.group_min,
            radius_m=settings.group_radius_m,
            window_s=settings.group_window_s,
        )
        self.zone_boost = dict(zone_boost or {})
        self.stats = priority.OutcomeStats()

    def rank(
        self,
        db: sqlite_utils.Database,
        row: dict[str, Any],
        now: float,
        batch: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Set ``priority`` and ``priority_reasons`` of an incident row, in place and stored
        (``batch``: events of this transaction not stored yet)."""
        self.stats.refresh(db.conn, now)
        mix = priority.mix_of(db.conn, row["id"], batch)
        sig = priority.signals_of(row, self.stats, self.model, self.zone_boost, mix)
        level, reasons = priority.assess(sig, self.model)
        raised = raise_of(row.get("priority_reasons"))
        if raised is not None and raised["level"] < level:  # a call-taker's raise holds
            level = raised["level"]
            reasons.insert(0, raised)
        row["priority"] = level
        row["priority_reasons"] = json.dumps(reasons)
        db.execute(
            "update incidents set priority = ?, priority_reasons = ? where id = ?",
            [level, row["priority_reasons"], row["id"]],
        )

    def on_assigned(
        self,
        db: sqlite_utils.Database,
        changes: Sequence[tuple[dict[str, Any], ChangeKind]],
        now: float,
        batch: Sequence[Mapping[str, Any]] = (),
    ) -> set[str]:
        """Rank every changed incident (``batch``: the transaction's events, not stored
        yet), group the new ones; the ids of changed groups."""
        for row, _change in changes:
            self.rank(db, row, now, batch)
        created = [row for row, change in changes if change == ChangeKind.CREATED]
        for row in created:
            row.setdefault("handling", "new")
        groups = grouping.place(db, created, self.rule, now)
        # A grown member may raise its group's priority or stretch its span.
        for row, change in changes:
            if change != ChangeKind.CREATED and row.get("group_id"):
                groups.add(row["group_id"])
        for gid in groups:
            grouping.refresh(db, gid, now)
        return groups


def raise_of(reasons: Any) -> dict[str, Any] | None:
    """The call-taker's raise among an incident's stored reasons (JSON or a list), if any."""
    if isinstance(reasons, str):
        reasons = json.loads(reasons or "[]")
    for r in reasons or []:
        if isinstance(r, dict) and r.get("code") == "raised" and isinstance(r.get("level"), int):
            return r
    return None
