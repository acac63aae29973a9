"""Patrol units: registry (memory + SQLite), positions from MQTT, status codes.

Status codes (documented for dispatchers in docs/dispatch.md):
``available`` may be offered orders; ``dispatched`` accepted an order; ``en_route``
travelling; ``on_scene`` arrived; ``busy`` occupied with something else; ``off_duty``
outside its shift. Order-driven statuses (dispatched/en_route/on_scene) change only
through acknowledgements; a unit's own position report may set available/busy/off_duty.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from protocol import UnitPosition, is_valid_id

from ..errors import Invalid, NotFound
from ..geo.road_graph import MODES
from ..platform.db import Database

UNIT_STATUSES = ("available", "dispatched", "en_route", "on_scene", "busy", "off_duty")
ORDER_DRIVEN = frozenset({"dispatched", "en_route", "on_scene"})
SELF_REPORTED = frozenset({"available", "busy", "off_duty"})
MAX_CLOCK_SKEW_MS = 60_000


class UnitError(Invalid, ValueError):
    """A unit definition or position report is invalid; the message says why."""


class UnitNotFound(NotFound, UnitError):
    """A report from a unit the centre does not know."""


@dataclass
class Unit:
    """One patrol unit as the centre knows it."""

    id: str
    call_sign: str
    mode: str
    home_zone: str | None = None
    shift: str | None = None
    status: str = "available"
    lat: float | None = None
    lon: float | None = None
    pos_ms: int | None = None
    status_ms: int = 0
    created_ms: int = 0
    centre_id: str | None = None
    snap: dict[str, Any] = field(default_factory=dict, repr=False)  # mode -> EdgeSnap

    def row(self) -> dict[str, Any]:
        """The unit as a database row."""
        d = asdict(self)
        d.pop("snap")
        return d

    def view(self, now_ms: int, stale_after_s: float) -> dict[str, Any]:
        """The unit for the API, with its position age and staleness."""
        d = self.row()
        age = None if self.pos_ms is None else max(0.0, (now_ms - self.pos_ms) / 1000)
        d["position_age_s"] = age
        d["position_stale"] = age is None or age > stale_after_s
        return d


def validate_unit(data: dict[str, Any]) -> Unit:
    """Build a Unit from API/seed data; UnitError names the bad field."""
    uid = data.get("id")
    if not isinstance(uid, str) or not is_valid_id(uid):
        raise UnitError(f"id {uid!r} is not a valid unit id")
    cs = data.get("call_sign")
    if not isinstance(cs, str) or not 1 <= len(cs.strip()) <= 32:
        raise UnitError("call_sign must be 1..32 characters")
    if data.get("mode") not in MODES:
        raise UnitError(f"mode {data.get('mode')!r} is not one of {', '.join(MODES)}")
    status = data.get("status", "off_duty")
    if status not in SELF_REPORTED:
        raise UnitError(f"initial status {status!r} must be available, busy or off_duty")
    for key in ("home_zone", "shift"):
        v = data.get(key)
        if v is not None and (not isinstance(v, str) or not is_valid_id(v)):
            raise UnitError(f"{key} {v!r} is not a valid id")
    return Unit(uid, cs.strip(), data["mode"], data.get("home_zone"), data.get("shift"), status)


class UnitRegistry:
    """Units in memory (ranking reads them often), every change persisted."""

    def __init__(self, db: Database, clock: Any = time.time) -> None:
        self.db = db
        self.clock = clock
        self.lock = threading.RLock()
        self.units: dict[str, Unit] = {}
        #: home zone → monitoring centre (geo's hierarchy), set by the dispatch service.
        self.centre_of_zone: Callable[[str | None], str | None] = lambda zone: None
        for r in db.query("select * from units"):
            self.units[r["id"]] = Unit(**r)

    def now_ms(self) -> int:
        """The centre's clock in epoch ms."""
        return int(self.clock() * 1000)

    def upsert(self, data: dict[str, Any]) -> Unit:
        """Create or redefine a unit (keeps its position and an order-driven status)."""
        unit = validate_unit(data)
        unit.centre_id = self.centre_of_zone(unit.home_zone)
        now = self.now_ms()
        with self.lock:
            old = self.units.get(unit.id)
            if old is not None:
                unit.lat, unit.lon, unit.pos_ms = old.lat, old.lon, old.pos_ms
                unit.created_ms = old.created_ms
                if old.status in ORDER_DRIVEN:
                    unit.status = old.status
            else:
                unit.created_ms = now
            unit.status_ms = now
            self.units[unit.id] = unit
            row = unit.row()
        self.db.write(
            lambda db: (
                db.table("units").upsert(row, pk="id"),
                db.table("unit_log").insert(
                    {"unit_id": unit.id, "ts_ms": now, "status": unit.status, "source": "define"}
                ),
            )
        )
        return unit

    def assign_centres(self) -> int:
        """Re-derive every unit's centre from its home zone (after a zones load)."""
        with self.lock:
            moved = [
                (c, u.id)
                for u in self.units.values()
                if (c := self.centre_of_zone(u.home_zone)) != u.centre_id
            ]
            for c, uid in moved:
                self.units[uid].centre_id = c
        if moved:
            self.db.write(
                lambda db: db.conn.executemany("update units set centre_id = ? where id = ?", moved)
            )
        return len(moved)

    def get(self, unit_id: str) -> Unit | None:
        """A unit, or None."""
        return self.units.get(unit_id)

    def set_status(self, unit: Unit, status: str, source: str, db: Any | None = None) -> None:
        """Change a unit's status (inside a caller's write transaction when ``db`` given)."""
        now = self.now_ms()
        unit.status, unit.status_ms = status, now

        def fn(d: Any) -> None:
            d.table("units").update(unit.id, {"status": status, "status_ms": now})
            d.table("unit_log").insert(
                {"unit_id": unit.id, "ts_ms": now, "status": status, "source": source}
            )

        if db is not None:
            fn(db)
        else:
            self.db.write(fn)

    def apply_position(self, unit_id: str, pos: UnitPosition) -> tuple[Unit, str | None]:
        """Record a position; return the unit and the self-reported status to apply, if any.

        Raises UnitError for an unknown unit, a report from the future (clock skew) or
        one older than the position already held (a late QoS 0 message).
        """
        now = self.now_ms()
        with self.lock:
            unit = self.units.get(unit_id)
            if unit is None:
                raise UnitNotFound(f"position from unknown unit {unit_id}")
            if pos.ts > now + MAX_CLOCK_SKEW_MS:
                raise UnitError(
                    f"position of {unit_id} is {(pos.ts - now) / 1000:.0f} s in "
                    "the future (unit clock wrong?)"
                )
            if unit.pos_ms is not None and pos.ts < unit.pos_ms:
                raise UnitError(f"late position of {unit_id} ignored (older than the last)")
            if not (math.isfinite(pos.lat) and math.isfinite(pos.lon)):
                raise UnitError("position is not finite")
            unit.lat, unit.lon, unit.pos_ms = pos.lat, pos.lon, pos.ts
            unit.snap.clear()
        self.db.submit(
            lambda d: d.table("units").update(
                unit_id, {"lat": pos.lat, "lon": pos.lon, "pos_ms": pos.ts}
            )
        )
        reported = pos.status if pos.status in SELF_REPORTED else None
        if unit.status in ORDER_DRIVEN and reported != "off_duty":
            # An order is running: only acks move the status (or the unit leaving duty).
            reported = None
        return unit, reported if reported != unit.status else None
