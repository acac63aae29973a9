"""Recommendation: the I/O-free glue between units, the road network and the ranking core.

Reads the service's in-memory units and geo layers (no SQL, no MQTT); one reverse search
per travel mode present, vectorised ETAs, the pure :func:`ranking.rank_units`, then road
distances for the returned top-k only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..geo.project import haversine_m
from ..geo.road_graph import fallback_estimate_s
from .policy import rank_policy
from .ranking import Candidate, Ranked, rank_units, zone_counts


def recommend(
    svc: Any,
    incident: dict[str, Any],
    k: int | None = None,
    exclude: Iterable[str] = (),
    include: Iterable[str] = (),
) -> dict[str, Any]:
    """Top-k available units for ``incident`` (needs lat, lon) with reasons.

    ``include`` names units to rank even though they are committed elsewhere (the
    pre-emption proposals); units of a mode the incident's kind does not allow
    (``required_modes``) are skipped with that reason.
    """
    k = k or svc.settings.top_k
    modes = svc.settings.required_modes.get(str(incident.get("kind") or ""), [])
    forced = set(include)
    lat, lon = float(incident["lat"]), float(incident["lon"])
    zone = svc.incident_zone(incident)
    now = svc.now_ms()
    excluded = set(exclude)
    roads = svc.geo.roads
    skipped: list[dict[str, str]] = []
    with svc.units.lock:
        units = list(svc.units.units.values())
    per_zone = zone_counts((u.home_zone, u.status) for u in units)
    pool = []
    for u in units:
        if u.status != "available" and u.id not in forced:
            continue
        if modes and u.mode not in modes:
            skipped.append({"unit": u.id, "reason": f"{u.mode} does not answer this kind"})
        elif u.id in excluded:
            skipped.append({"unit": u.id, "reason": "already offered this incident"})
        elif u.lat is None or u.lon is None or u.pos_ms is None:
            skipped.append({"unit": u.id, "reason": "no position reported"})
        else:
            pool.append(u)
    reaches = {}
    if roads is not None:
        for mode in sorted({u.mode for u in pool}):
            reaches[mode] = roads.reach(lat, lon, mode, svc.settings.search_horizon_s)
    cands = []
    by_mode: dict[str, list[Any]] = {}
    for u in pool:
        age = max(0.0, (now - (u.pos_ms or now)) / 1000)
        if roads is None:
            straight = haversine_m(u.lat, u.lon, lat, lon)
            cands.append(
                Candidate(
                    u.id,
                    u.call_sign,
                    u.mode,
                    u.home_zone,
                    fallback_estimate_s(straight, u.mode),
                    age,
                    "estimate",
                    "no road network loaded",
                    straight * 1.4,
                )
            )
            continue
        # Read once: a position arriving on the MQTT thread may clear the cache meanwhile.
        snap = u.snap.get(u.mode)
        if snap is None:
            snap = roads.snap_edge(u.lat, u.lon, u.mode)
            u.snap[u.mode] = snap
        by_mode.setdefault(u.mode, []).append((u, age, snap))
    for mode, group in by_mode.items():
        snaps = [sn for _, _, sn in group]
        # Vectorised for the common case; route_from decides the special ones.
        etas = reaches[mode].batch_eta(snaps) if None not in snaps else [math.nan] * len(group)
        for (u, age, snap), eta in zip(group, etas, strict=True):
            if math.isfinite(eta):
                if eta >= 0:
                    cands.append(Candidate(u.id, u.call_sign, u.mode, u.home_zone, float(eta), age))
                else:
                    cands.append(
                        Candidate(
                            u.id,
                            u.call_sign,
                            u.mode,
                            u.home_zone,
                            float(-eta),
                            age,
                            "estimate",
                            "beyond the road search horizon",
                        )
                    )
                continue
            r = reaches[mode].route_from(
                u.lat,
                u.lon,
                with_distance=False,
                snapped=snap,
            )
            cands.append(
                Candidate(
                    u.id,
                    u.call_sign,
                    u.mode,
                    u.home_zone,
                    r.eta_s,
                    age,
                    r.method,
                    r.note,
                    r.distance_m,
                )
            )
    ranked = rank_units(cands, zone, per_zone, rank_policy(svc.settings), k)
    out = []
    for ranked_unit in ranked:
        d = ranked_view(ranked_unit)
        u = svc.units.units[ranked_unit.unit_id]
        if roads is not None and ranked_unit.method == "road" and u.lat is not None:
            route = reaches[u.mode].route_from(u.lat, u.lon or 0.0, snapped=u.snap.get(u.mode))
            d["distance_m"] = round(route.distance_m, 1)
            d["reasons"].insert(1, f"{d['distance_m'] / 1000:.2f} km by road")
        out.append(d)
    return {
        "incident": incident.get("id"),
        "zone": zone,
        "lat": lat,
        "lon": lon,
        "candidates": out,
        "skipped": skipped,
        "road_network": roads is not None,
    }


def ranked_view(r: Ranked) -> dict[str, Any]:
    return {
        "rank": r.rank,
        "unit": r.unit_id,
        "call_sign": r.call_sign,
        "mode": r.mode,
        "home_zone": r.home_zone,
        "eta_s": round(r.eta_s, 1),
        "score_s": round(r.score_s, 1),
        "distance_m": None if r.distance_m != r.distance_m else round(r.distance_m, 1),
        "method": r.method,
        "position_age_s": round(r.position_age_s, 1),
        "stale": r.stale,
        "reasons": list(r.reasons),
    }
