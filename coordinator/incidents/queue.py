"""The operators' alarm queue: incidents, with the members of a group folded into one row.

Pure: :func:`collapse` takes incident rows already filtered and in queue order (priority,
then first seen — a row does not move because it grew) and the groups they belong to, and
returns one row per ungrouped incident and one per group, placed where its most urgent
matching member stands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Incident rows read at most for one queue answer (the answer says when it was cut).
SCAN_MAX = 5000


def collapse(
    rows: Sequence[Mapping[str, Any]], groups: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Queue rows: ``{"type": "incident", "incident": …}`` or ``{"type": "group", …}``."""
    out: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        gid = r.get("group_id")
        g = groups.get(gid) if gid else None
        if g is None:
            out.append(
                {
                    "type": "incident",
                    "id": r["id"],
                    "priority": r["priority"],
                    "since": r.get("created_at"),
                    "incident": dict(r),
                    "group": None,
                    "matching": 1,
                }
            )
            continue
        if gid in seen:
            seen[gid]["matching"] += 1
            continue
        row = {
            "type": "group",
            "id": gid,
            "priority": min(r["priority"], g.get("priority") or 5),
            "since": g.get("created_at"),
            "incident": None,
            "group": dict(g),
            "matching": 1,
        }
        seen[str(gid)] = row
        out.append(row)
    return out
