"""The platform's figures, computed from the records (never kept as counters that drift):
trade filings, companies checked and profiled, frauds found early, losses avoided."""

from __future__ import annotations

from typing import Any

import sqlite_utils

#: One statement, each figure a count over an indexed column.
STATS_SQL = """
SELECT
  (SELECT count(*) FROM fraud_filings) AS filings,
  (SELECT count(*) FROM fraud_companies WHERE checked_ts IS NOT NULL) AS companies_checked,
  (SELECT count(*) FROM fraud_companies WHERE profiled_ts IS NOT NULL) AS companies_profiled,
  (SELECT count(*) FROM fraud_cases WHERE outcome = 'fraud_prevented') AS frauds_found_early,
  (SELECT coalesce(sum(losses_avoided_cents), 0) FROM fraud_cases
     WHERE outcome IS NOT NULL) AS losses_avoided_cents,
  (SELECT count(*) FROM fraud_cases WHERE status != 'closed') AS open_cases,
  (SELECT count(*) FROM fraud_tips WHERE status = 'new') AS new_tips
"""


def platform_stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """The platform's figures now."""
    cur = db.execute(STATS_SQL)
    row = dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))
    row["losses_avoided_yuan"] = row["losses_avoided_cents"] / 100
    return row
