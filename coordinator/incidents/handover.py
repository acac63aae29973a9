"""Which monitoring centre owns an incident, and handing it to another (logged).

An incident belongs to the centre of its first event's camera (a merge across a boundary
keeps the first centre). It moves only by a handover: an operator hands it over, or a
dispatcher sends a unit of another centre (mutual aid), which is logged as a handover
entry without moving the incident. A mixin of :class:`IncidentService`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlite_utils

from ..errors import Invalid
from .actions import load_row, log_action
from .merge import IncidentConflict
from .status import CLOSED, ChangeKind

if TYPE_CHECKING:
    from ..platform.db import Database

#: (lat, lon, zone) → centre, from geo's hierarchy.
Locator = Callable[[float, float, str | None], str | None]


class CentreActions:
    """Handover and mutual-aid entries; backfill of incidents without a centre."""

    db: Database

    def _act(
        self, write: Callable[[sqlite_utils.Database], dict[str, Any]], change: ChangeKind
    ) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def handover(
        self,
        incident_id: str,
        to_centre: str,
        actor: str,
        reason: str,
        known_centres: list[str],
    ) -> dict[str, Any]:
        """Hand an open incident to another centre: its queue and its scope move there."""
        if to_centre not in known_centres:
            raise Invalid(f"{to_centre!r} is not a monitoring centre of this city")
        if not reason.strip():
            raise Invalid("a handover needs a reason")

        def write(db: sqlite_utils.Database) -> dict[str, Any]:
            row = load_row(db, incident_id)
            if row["status"] in CLOSED:
                raise IncidentConflict(f"incident {incident_id} is {row['status']}")
            if row.get("centre_id") == to_centre:
                raise IncidentConflict(f"incident {incident_id} already belongs to {to_centre}")
            now = time.time()
            db.table("incidents").update(row["id"], {"centre_id": to_centre, "updated_at": now})
            log_action(
                db,
                row["id"],
                actor,
                "handover",
                {"from": row.get("centre_id"), "to": to_centre, "reason": reason.strip()},
            )
            # ``handed_from`` rides on the change only, so the old centre's screens drop it.
            return {**row, "centre_id": to_centre, "updated_at": now,
                    "handed_from": row.get("centre_id")}  # fmt: skip

        return self._act(write, ChangeKind.TRANSITION)

    def log_mutual_aid(
        self, incident_id: str, actor: str, unit_id: str, unit_centre: str, inc_centre: str | None
    ) -> None:
        """Log that a unit of another centre was sent (the incident stays where it is)."""
        detail = {"unit": unit_id, "unit_centre": unit_centre, "incident_centre": inc_centre}
        self.db.write(lambda db: log_action(db, incident_id, actor, "mutual_aid", detail))

    def assign_centres(self, locate: Locator) -> int:
        """Give every incident without a centre the centre of its place (after a zones
        load); incidents that have one keep it. Returns how many were filled."""
        rows = self.db.query(
            "select id, lat, lon, zone from incidents where centre_id is null and lat is not null"
        )
        found = [(c, r["id"]) for r in rows if (c := locate(r["lat"], r["lon"], r["zone"]))]
        if found:
            self.db.write(
                lambda db: db.conn.executemany(
                    "update incidents set centre_id = ? where id = ?", found
                )
            )
        return len(found)
