"""Sharing agreements with the organisations that own cameras (pure).

Most of the city's cameras belong to companies, communities, schools and hospitals; each
joined the network under an agreement saying what the centre may receive from them:

- ``events``: the detection events only (what happened where), never an image;
- ``snapshots``: also the frames of an incident's events, on request;
- ``live``: also the camera's current view on demand (the rules editor's "live view").

An agreement applies between ``valid_from`` and ``valid_to`` (either open) and, when
``hours_from``/``hours_to`` are set, only in those local hours of the day (a window may
wrap past midnight: 22–6). Outside its hours or its validity the centre receives events
only. ``retention_days`` bounds how long the centre keeps the frames it took.

An organisation has one agreement; a camera may carry its own, which then replaces the
organisation's. An organisation without any follows its kind (:func:`default_for`):
government cameras share everything, everyone else's frames on request (how the centre
worked before agreements were recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    """What the centre may receive from a camera, each level including those before it."""

    EVENTS = "events"
    SNAPSHOTS = "snapshots"
    LIVE = "live"

    @property
    def rank(self) -> int:
        """0 events, 1 snapshots, 2 live."""
        return _RANK[self]

    def allows(self, wanted: Level) -> bool:
        """True when this level includes ``wanted``."""
        return self.rank >= wanted.rank


_RANK = {Level.EVENTS: 0, Level.SNAPSHOTS: 1, Level.LIVE: 2}


class OrgKind(StrEnum):
    """What kind of organisation owns a camera."""

    GOVERNMENT = "government"
    COMPANY = "company"
    COMMUNITY = "community"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    OTHER = "other"


#: The older three-way ``owner_type`` label a device still carries for older callers.
OWNER_TYPE: dict[OrgKind, str] = {
    OrgKind.GOVERNMENT: "government",
    OrgKind.COMPANY: "company",
}


def owner_type_of(kind: str) -> str:
    """The ``owner_type`` label of an organisation kind (community for everyone else's)."""
    return OWNER_TYPE.get(OrgKind(kind), "community")


@dataclass(frozen=True)
class Agreement:
    """One agreement's terms (times are Unix seconds, hours local 0–24)."""

    level: Level
    hours_from: int | None = None
    hours_to: int | None = None
    retention_days: float | None = None
    valid_from: float | None = None
    valid_to: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Agreement:
        """From a ``sharing_agreements`` row."""
        return cls(
            Level(row["level"]),
            row.get("hours_from"),
            row.get("hours_to"),
            row.get("retention_days"),
            row.get("valid_from"),
            row.get("valid_to"),
        )


def default_for(kind: str | None) -> Agreement:
    """The terms of an organisation that has recorded none."""
    if kind == OrgKind.GOVERNMENT:
        return Agreement(Level.LIVE)
    return Agreement(Level.SNAPSHOTS)


def in_hours(hour: float, start: int | None, end: int | None) -> bool:
    """True when local ``hour`` (0–24) is inside [start, end); no window is all day."""
    if start is None or end is None or start == end:
        return True
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end  # wraps past midnight


def level_at(a: Agreement, ts: float, utc_offset_h: float) -> Level:
    """What the agreement lets the centre receive at ``ts``."""
    if (a.valid_from is not None and ts < a.valid_from) or (
        a.valid_to is not None and ts >= a.valid_to
    ):
        return Level.EVENTS
    hour = ((ts / 3600.0) + utc_offset_h) % 24.0
    if not in_hours(hour, a.hours_from, a.hours_to):
        return Level.EVENTS
    return a.level


def why_not(
    device_id: str, a: Agreement, ts: float, utc_offset_h: float, wanted: Level
) -> str | None:
    """Why the agreement does not let the centre take ``wanted`` from the camera at ``ts``
    (one sentence for the operator), or None when it does."""
    if level_at(a, ts, utc_offset_h).allows(wanted):
        return None
    what = "live view" if wanted is Level.LIVE else "frames"
    if (a.valid_from is not None and ts < a.valid_from) or (
        a.valid_to is not None and ts >= a.valid_to
    ):
        return f"camera {device_id}: its owner's agreement is not in force now ({what} refused)"
    if a.level.allows(wanted):
        return (
            f"camera {device_id}: its owner shares {what} only between "
            f"{a.hours_from}:00 and {a.hours_to}:00"
        )
    return f"camera {device_id}: its owner's agreement shares {a.level.value} only, not {what}"
