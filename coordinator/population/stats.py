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
#: Dimensions kept as running counters (pop_counts, schema m003): read in a few rows.
COUNTED = ("zone", "origin", "nationality", "registration_status")
#: Dimensions of the (small) request table, grouped on the fly.
GROUPED = {
    "request_category": ("pop_requests", "category"),
    "request_status": ("pop_requests", "status"),
}
DIMENSIONS = (*COUNTED, *GROUPED)


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
