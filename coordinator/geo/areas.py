"""The one area hierarchy: city → monitoring centre → police-station area → patrol zone.

Pure functions over the zones' attributes (no SQL, no HTTP). Incidents, cameras and units
take their centre from it, operators are scoped by it, and population jurisdiction and
statistics roll zones up through it. A patrol zone names its ``station`` (and may repeat the
station's ``centre``); a station names its ``centre``. A patrol zone without a station hangs
directly under its centre (the two-level files loaded before stations existed still load).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

CITY = "city"
#: Levels, top first; ``kind`` of an area in the zones GeoJSON.
LEVELS = ("city", "centre", "station", "patrol")


class ZoneAttrs(Protocol):
    """What the hierarchy reads of a zone (``zones.ZoneInfo``)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def centre(self) -> str | None: ...
    @property
    def station(self) -> str | None: ...
    @property
    def area_km2(self) -> float: ...


@dataclass(frozen=True)
class Area:
    """One node of the hierarchy."""

    id: str
    kind: str  # centre, station or patrol
    name: str
    parent: str  # "city" for a centre
    area_km2: float


class Hierarchy:
    """Parent links and roll-ups; build with :func:`build`."""

    def __init__(self, areas: dict[str, Area]) -> None:
        self.areas = areas
        self._children: dict[str, list[str]] = {}
        for a in areas.values():
            self._children.setdefault(a.parent, []).append(a.id)
        for kids in self._children.values():
            kids.sort()

    def centre_of(self, area_id: str | None) -> str | None:
        """The centre an area belongs to (a centre is its own), None when unknown."""
        a = self.areas.get(area_id or "")
        while a is not None and a.kind != "centre":
            a = self.areas.get(a.parent)
        return a.id if a else None

    def station_of(self, area_id: str | None) -> str | None:
        """The station area a patrol zone lies in (a station is its own), or None."""
        a = self.areas.get(area_id or "")
        if a is not None and a.kind == "patrol":
            a = self.areas.get(a.parent)
        return a.id if a is not None and a.kind == "station" else None

    def centres(self) -> list[str]:
        """Every centre id, sorted."""
        return list(self._children.get(CITY, []))

    def zones_under(self, area_ids: Iterable[str]) -> set[str]:
        """The patrol zones in these areas (any level; ``city`` is everything)."""
        out: set[str] = set()
        todo = list(area_ids)
        while todo:
            aid = todo.pop()
            a = self.areas.get(aid)
            if a is not None and a.kind == "patrol":
                out.add(aid)
            todo.extend(self._children.get(aid, []))
        return out

    def roll_up(self, counts: Mapping[str, int], level: str) -> dict[str, int]:
        """Per-zone counts summed to ``level`` (centre or station); unknown zones under '-'."""
        pick = self.centre_of if level == "centre" else self.station_of
        out: dict[str, int] = {}
        for zone, n in counts.items():
            key = pick(zone) or "-"
            out[key] = out.get(key, 0) + n
        return out

    def tree(self) -> dict[str, Any]:
        """The hierarchy as nested dicts, from the city down."""

        def node(aid: str) -> dict[str, Any]:
            a = self.areas[aid]
            return {
                "id": a.id,
                "kind": a.kind,
                "name": a.name,
                "area_km2": a.area_km2,
                "children": [node(c) for c in self._children.get(aid, [])],
            }

        return {
            "id": CITY,
            "kind": CITY,
            "name": CITY,
            "area_km2": round(
                sum(a.area_km2 for a in self.areas.values() if a.kind == "centre"), 4
            ),
            "children": [node(c) for c in self.centres()],
        }

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows (id, kind, name, parent, centre, area_km2) for the areas table."""
        return [
            {
                "id": a.id,
                "kind": a.kind,
                "name": a.name,
                "parent": a.parent,
                "centre": self.centre_of(a.id),
                "area_km2": a.area_km2,
            }
            for a in sorted(self.areas.values(), key=lambda a: (LEVELS.index(a.kind), a.id))
        ]


def build(infos: Iterable[ZoneAttrs]) -> tuple[Hierarchy, list[str]]:
    """The hierarchy of these zones and every inconsistency found (empty when sound).

    A station must name a known centre; a patrol zone's station must be a known station,
    and a centre it names must be that station's centre (a zone cannot answer to two
    centres). A patrol zone with neither station nor centre has no parent: it is reported.
    """
    by_id = {z.id: z for z in infos}
    problems: list[str] = []
    areas: dict[str, Area] = {}
    for z in by_id.values():
        if z.kind == "centre":
            areas[z.id] = Area(z.id, "centre", z.name, CITY, z.area_km2)
    for z in by_id.values():
        if z.kind != "station":
            continue
        if z.centre not in areas:
            problems.append(f"station {z.id}: centre {z.centre!r} is not a centre area")
            continue
        areas[z.id] = Area(z.id, "station", z.name, z.centre, z.area_km2)
    for z in by_id.values():
        if z.kind != "patrol":
            continue
        parent = _patrol_parent(z, areas, problems)
        if parent is not None:
            areas[z.id] = Area(z.id, "patrol", z.name, parent, z.area_km2)
    return Hierarchy(areas), problems


def _patrol_parent(z: ZoneAttrs, areas: dict[str, Area], problems: list[str]) -> str | None:
    if z.station is not None:
        st = areas.get(z.station)
        if st is None or st.kind != "station":
            problems.append(f"patrol zone {z.id}: station {z.station!r} is not a station area")
            return None
        if z.centre is not None and z.centre != st.parent:
            problems.append(
                f"patrol zone {z.id}: names centre {z.centre} but its station {st.id} "
                f"belongs to centre {st.parent}"
            )
            return None
        return st.id
    if z.centre is None:
        return None  # no centre areas at all: a city of patrol zones only
    if z.centre not in areas or areas[z.centre].kind != "centre":
        problems.append(f"patrol zone {z.id}: centre {z.centre!r} is not a centre area")
        return None
    return z.centre
