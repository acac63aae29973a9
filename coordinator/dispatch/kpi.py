"""Dispatch KPIs over order rows (pure): detection→dispatch, dispatch→ack, dispatch→on scene.

Per incident, the clock starts at detection (the incident's creation) and at its *first*
order: a re-offer after a timeout counts against the centre, as it does for the caller.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

STANDARD_DISPATCH_S = 60.0  # 90% of calls dispatched within 60 s
STANDARD_TRAVEL_S = 240.0  # and travelling within 240 s


def pct(values: Sequence[float], p: float) -> float | None:
    """p-th percentile with linear interpolation, None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return round(s[lo] + (s[hi] - s[lo]) * (k - lo), 3)


def _stats(values: list[float], standard: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(values), "p50_s": pct(values, 50), "p90_s": pct(values, 90)}
    if standard is not None and values:
        out["within_standard"] = round(sum(v <= standard for v in values) / len(values), 4)
    return out


def kpis(
    orders: Iterable[dict[str, Any]],
    group_by: Sequence[str] = ("zone", "shift"),
    waiting: Iterable[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """KPI rows per group (keys of ``group_by``), from dispatch_orders rows.

    ``waiting`` are incidents that need a unit and never had an order (rows of the pending
    queue: ``zone``, ``waiting_s``): their detection→dispatch time counts *up to now*, so a
    queue of unanswered incidents lowers the share within standard instead of vanishing.
    """
    per_incident: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in orders:
        per_incident[o["incident_id"]].append(o)
    groups: dict[tuple[Any, ...], dict[str, list[float]]] = defaultdict(
        lambda: {"detect": [], "ack": [], "scene": []}
    )
    for rows in per_incident.values():
        rows.sort(key=lambda r: r["sent_ms"])
        first = rows[0]
        served = next((r for r in rows if r.get("ack_ms") and r["status"] != "declined"), None)
        key_row = served or first
        key = tuple(key_row.get(g) or "(none)" for g in group_by)
        g = groups[key]
        if first.get("detected_ms") is not None:
            g["detect"].append(max(0.0, (first["sent_ms"] - first["detected_ms"]) / 1000))
        if served is not None:
            g["ack"].append((served["ack_ms"] - served["sent_ms"]) / 1000)
            if served.get("on_scene_ms"):
                g["scene"].append((served["on_scene_ms"] - first["sent_ms"]) / 1000)
    pending: dict[tuple[Any, ...], int] = defaultdict(int)
    for w in waiting:
        key = tuple((w.get(g) if g == "zone" else None) or "(none)" for g in group_by)
        groups[key]["detect"].append(float(w["waiting_s"]))
        pending[key] += 1
    out = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        g = groups[key]
        out.append(
            {
                **dict(zip(group_by, key, strict=True)),
                "incidents": len(g["detect"]) or len(g["ack"]),
                "waiting": pending.get(key, 0),
                "detection_to_dispatch": _stats(g["detect"], STANDARD_DISPATCH_S),
                "dispatch_to_ack": _stats(g["ack"]),
                "dispatch_to_on_scene": _stats(g["scene"], STANDARD_TRAVEL_S),
            }
        )
    return out


def to_ms(value: Any) -> int | None:
    """Epoch ms from seconds, ms or an ISO-8601 string (incident services differ)."""
    if value is None:
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return int(value if value > 1e11 else value * 1000)
    if isinstance(value, str):
        from datetime import datetime

        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None
