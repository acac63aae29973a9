"""Statistics from aggregates only: counts by zone, origin and status.

Groups smaller than :data:`MIN_CELL` are reported as ``"<5"`` so a table of counts
cannot single anyone out. There is nothing to group by ethnicity or religion: those
fields do not exist.
"""

from __future__ import annotations

from typing import Any

from ..errors import Invalid
from .common import Actor, Ctx

MIN_CELL = 5
#: An area count withheld because it would reveal a hidden small cell below it.
SECONDARY = "suppressed"
#: Dimensions kept as running counters (pop_counts, schema m003): read in a few rows.
COUNTED = ("zone", "origin", "nationality", "registration_status", "hukou", "zone_hukou")
#: Dimensions of the (small) request table, grouped on the fly.
GROUPED = {
    "request_category": ("pop_requests", "category"),
    "request_status": ("pop_requests", "status"),
}
#: Dimensions rolled up from the zone counts through the area hierarchy.
ROLLED = ("centre", "station")
#: Persons by hukou status per station or centre ("S001|migrant"), rolled up the same way.
ROLLED_HUKOU = {"station_hukou": "station", "centre_hukou": "centre"}
DIMENSIONS = (*COUNTED, *GROUPED, *ROLLED, *ROLLED_HUKOU)


def suppress(n: int) -> int | str:
    """Small cells hidden: a count below MIN_CELL becomes '<5'."""
    return n if n >= MIN_CELL else f"<{MIN_CELL}"


class Stats:
    """Aggregate counts."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def summary(self, actor: Actor, by: list[str] | None = None) -> dict[str, Any]:
        """Counts per dimension (all by default) plus totals and overdue requests."""
        dims = by or list(DIMENSIONS)
        out: dict[str, Any] = {}
        for d in dims:
            if d not in DIMENSIONS:
                raise Invalid(f"unknown dimension {d[:30]!r}; one of {', '.join(DIMENSIONS)}")
            if d in ROLLED:
                out[d] = self._rolled(d)
                continue
            if d in ROLLED_HUKOU:
                out[d] = self._rolled_hukou(ROLLED_HUKOU[d])
                continue
            if d == "zone_hukou":
                out[d] = protect_table(self._zone_hukou())
                continue
            if d in GROUPED:
                table, col = GROUPED[d]
                rows = self.ctx.db.query(
                    f"select {col} as k, count(*) as n from {table} group by k order by n desc"
                )
            else:
                rows = self.ctx.db.query(
                    "select k, n from pop_counts where dim = ? and n > 0 order by n desc", [d]
                )
            out[d] = {str(r["k"]): suppress(r["n"]) for r in rows}
        q = self.ctx.db.query
        counted = "select coalesce(sum(n), 0) n from pop_counts where dim = ?"
        out["totals"] = {
            "persons": q(counted, ["zone"])[0]["n"],
            "registered": q(counted + " and k = 'registered'", ["registration_status"])[0]["n"],
            "visitors_current": q("select count(*) n from pop_visitors where departed_at is null")[
                0
            ]["n"],
            "visitors_late": q("select count(*) n from pop_visitors where late = 1")[0]["n"],
            "requests_overdue": q(
                "select count(*) n from pop_requests where status in "
                "('open','assigned','in_progress') and due_at < ?",
                [self.ctx.now()],
            )[0]["n"],
            "duplicates_open": q("select count(*) n from pop_dup_candidates where status = 'open'")[
                0
            ]["n"],
        }
        self.ctx.audit.record(actor, "stats", "population_aggregate", None, None, {"by": dims})
        return out

    def _rolled(self, level: str) -> dict[str, int | str]:
        """Persons per centre or station: exact zone counts summed, then small cells hidden.

        A sum would give away the small zone cells hidden below it (the sum minus the zones
        shown), so an area whose hidden zones hold 1 to 4 persons is suppressed too, and a
        centre with a suppressed station is suppressed (secondary suppression)."""
        areas = self.ctx.areas()
        if areas is None:
            return {}
        zones = {
            str(r["k"]): int(r["n"])
            for r in self.ctx.db.query("select k, n from pop_counts where dim = 'zone' and n > 0")
        }
        return _roll(areas, zones, level)

    def _rolled_hukou(self, level: str) -> dict[str, int | str]:
        """Persons per station or centre and hukou status, each status rolled and
        suppressed on its own (keys ``area|status``)."""
        areas = self.ctx.areas()
        if areas is None:
            return {}
        cells: dict[tuple[str, str], int] = {}
        for (zone, status), n in self._zone_hukou().items():
            area = areas.roll_up({zone: n}, level)
            for a, m in area.items():
                cells[(a, status)] = cells.get((a, status), 0) + m
        # the area totals (the station/centre dimension) are rolled from the same zones,
        # so protecting the area × status table keeps them from giving a cell back
        return protect_table(cells)

    def _zone_hukou(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for r in self.ctx.db.query(
            "select k, n from pop_counts where dim = 'zone_hukou' and n > 0"
        ):
            zone, _, status = str(r["k"]).rpartition("|")
            out[(zone, status)] = int(r["n"])
        return out


def _roll(areas: Any, zones: dict[str, int], level: str) -> dict[str, int | str]:
    """Zone counts summed to ``level``, small cells and leaky sums hidden."""
    blocked = _leaky(areas, zones, level)
    if level == "centre":
        stations = _leaky(areas, zones, "station")
        blocked |= set(areas.roll_up(dict.fromkeys(stations, 1), "centre"))
    rolled = areas.roll_up(zones, level)
    return {
        k: SECONDARY if k in blocked and n >= MIN_CELL else suppress(n)
        for k, n in sorted(rolled.items(), key=lambda kv: -kv[1])
    }


def protect_table(cells: dict[tuple[str, str], int]) -> dict[str, int | str]:
    """A two-way table (row, column → count) with its small cells hidden so that no row
    or column total, shown elsewhere, gives one back: where a row's or column's hidden
    cells sum to 1–4, its smallest shown cell is withheld too (secondary suppression),
    until no line leaks. Keys come back as ``row|column``."""
    hidden = {k for k, n in cells.items() if n < MIN_CELL}
    changed = True
    while changed:
        changed = False
        for axis in (0, 1):
            lines: dict[str, list[tuple[str, str]]] = {}
            for k in cells:
                lines.setdefault(k[axis], []).append(k)
            for keys in lines.values():
                gap = sum(cells[k] for k in keys if k in hidden)
                shown = sorted((cells[k], k) for k in keys if k not in hidden)
                if 0 < gap < MIN_CELL and shown:
                    hidden.add(shown[0][1])
                    changed = True
    return {
        f"{r}|{c}": (SECONDARY if n >= MIN_CELL else suppress(n)) if (r, c) in hidden else n
        for (r, c), n in sorted(cells.items())
    }


def _leaky(areas: Any, zones: dict[str, int], level: str) -> set[str]:
    """Areas whose sum minus their shown zones would reveal a small hidden group."""
    hidden = areas.roll_up({z: n for z, n in zones.items() if n < MIN_CELL}, level)
    return {k for k, n in hidden.items() if 0 < n < MIN_CELL}
