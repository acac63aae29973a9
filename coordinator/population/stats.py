"""Statistics from aggregates only: counts by zone, origin and status.

Groups smaller than :data:`MIN_CELL` are reported as ``"<5"`` so a table of counts
cannot single anyone out. There is nothing to group by ethnicity or religion: those
fields do not exist.
"""

from __future__ import annotations

from typing import Any

from .common import Actor, Ctx

MIN_CELL = 5
DIMENSIONS = {
    "zone": ("pop_persons", "zone", "status = 'active'"),
    "origin": ("pop_persons", "origin", "status = 'active'"),
    "nationality": ("pop_persons", "nationality", "status = 'active'"),
    "registration_status": ("pop_registrations", "status", "1"),
    "request_category": ("pop_requests", "category", "1"),
    "request_status": ("pop_requests", "status", "1"),
}


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
                raise ValueError(f"unknown dimension {d[:30]!r}; one of {', '.join(DIMENSIONS)}")
            table, col, where = DIMENSIONS[d]
            rows = self.ctx.db.query(
                f"select {col} as k, count(*) as n from {table} where {where} "
                "group by k order by n desc"
            )
            out[d] = {str(r["k"]): suppress(r["n"]) for r in rows}
        q = self.ctx.db.query
        out["totals"] = {
            "persons": q("select count(*) n from pop_persons where status = 'active'")[0]["n"],
            "registered": q("select count(*) n from pop_registrations where status = 'registered'")[
                0
            ]["n"],
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
