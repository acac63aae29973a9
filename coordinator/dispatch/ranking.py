"""Unit ranking: plain functions over plain data (no SQL, MQTT or HTTP).

Order of decisions, each one explained in the candidate's ``reasons``:
1. the travel estimate (road network, else straight line x detour / speed);
2. a stale position is penalised (the unit may have moved away since) and marked;
3. zone ownership breaks near-ties: a unit of the incident's zone wins over one that is
   at most ``tie_s`` faster;
4. the coverage guard: if the first unit is the last available one of another zone and
   a unit whose departure empties no zone is at most ``coverage_margin_s`` slower, that
   one goes first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class RankPolicy:
    """Tuning of the ranking (seconds)."""

    stale_after_s: float = 120.0
    stale_penalty_s: float = 60.0  # flat, plus half the age beyond stale_after_s
    stale_penalty_cap_s: float = 600.0
    tie_s: float = 15.0
    coverage_margin_s: float = 30.0


@dataclass(frozen=True)
class Candidate:
    """An available unit with its travel estimate to the incident."""

    unit_id: str
    call_sign: str
    mode: str
    home_zone: str | None
    eta_s: float
    position_age_s: float
    method: str = "road"  # "road" | "estimate"
    note: str | None = None
    distance_m: float = math.nan


@dataclass(frozen=True)
class Ranked:
    """A candidate with its ranking score (penalised ETA) and the reasons shown."""

    unit_id: str
    call_sign: str
    mode: str
    home_zone: str | None
    eta_s: float
    score_s: float
    distance_m: float
    method: str
    position_age_s: float
    stale: bool
    rank: int = 0
    reasons: tuple[str, ...] = field(default_factory=tuple)


def fmt_s(seconds: float) -> str:
    """'3 min 05 s' style duration for the reasons shown to dispatchers."""
    if not math.isfinite(seconds):
        return "unknown"
    s = int(round(seconds))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def stale_penalty(age_s: float, policy: RankPolicy) -> float:
    """Seconds added to a unit's ETA for the age of its last position (0 when fresh)."""
    if age_s <= policy.stale_after_s:
        return 0.0
    extra = policy.stale_penalty_s + 0.5 * (age_s - policy.stale_after_s)
    return min(extra, policy.stale_penalty_cap_s)


def _score(c: Candidate, policy: RankPolicy) -> Ranked:
    penalty = stale_penalty(c.position_age_s, policy)
    return Ranked(
        c.unit_id,
        c.call_sign,
        c.mode,
        c.home_zone,
        c.eta_s,
        c.eta_s + penalty,
        c.distance_m,
        c.method,
        c.position_age_s,
        penalty > 0,
    )


def _reasons(r: Ranked, c: Candidate) -> tuple[str, ...]:
    # Built for the returned top-k only: formatting 500 reason lists costs more than ranking.
    how = "by road" if c.method == "road" else "estimated (straight line x detour)"
    out = [f"ETA {fmt_s(c.eta_s)} {how}"]
    if c.note:
        out.append(c.note)
    out.append(f"position {fmt_s(c.position_age_s)} old")
    if r.stale:
        out.append(f"stale position: +{fmt_s(r.score_s - r.eta_s)} penalty")
    return tuple(out)


def zone_counts(units: Iterable[tuple[str | None, str]]) -> dict[str, int]:
    """Available units per home zone, from (home_zone, status) pairs."""
    out: dict[str, int] = {}
    for zone, status in units:
        if zone and status == "available":
            out[zone] = out.get(zone, 0) + 1
    return out


def rank_units(
    candidates: Iterable[Candidate],
    incident_zone: str | None,
    available_per_zone: Mapping[str, int],
    policy: RankPolicy | None = None,
    k: int = 5,
) -> list[Ranked]:
    """Rank available units for an incident; return the top ``k`` with reasons."""
    policy = policy or RankPolicy()
    by_id = {c.unit_id: c for c in candidates}
    scored = [_score(c, policy) for c in by_id.values()]

    def key(r: Ranked) -> tuple[float, bool, str]:
        own = incident_zone is not None and r.home_zone == incident_zone
        return (r.score_s - (policy.tie_s if own else 0.0), not own, r.unit_id)

    ranked = sorted(scored, key=key)
    notes: dict[str, list[str]] = {}
    if ranked and incident_zone is not None:
        by_time = min(scored, key=lambda r: (r.score_s, r.unit_id))
        if ranked[0] is not by_time:
            notes.setdefault(ranked[0].unit_id, []).append(
                f"zone tie-break: own zone {incident_zone}, within {fmt_s(policy.tie_s)} "
                f"of {by_time.call_sign}"
            )
    ranked = _coverage_guard(ranked, incident_zone, available_per_zone, policy, notes)
    out = []
    for i, r in enumerate(ranked[:k]):
        zone_note = (
            "outside every patrol zone"
            if incident_zone is None
            else f"home zone {r.home_zone} = incident zone"
            if r.home_zone == incident_zone
            else f"home zone {r.home_zone or 'none'} (incident in {incident_zone})"
        )
        reasons = (*_reasons(r, by_id[r.unit_id]), *notes.get(r.unit_id, ()), zone_note)
        out.append(replace(r, rank=i + 1, reasons=reasons))
    return out


def empties_zone(
    r: Ranked, incident_zone: str | None, available_per_zone: Mapping[str, int]
) -> bool:
    """True when sending ``r`` leaves its home zone (not the incident's) with no unit."""
    if r.home_zone is None or r.home_zone == incident_zone:
        return False
    return available_per_zone.get(r.home_zone, 0) <= 1


def _coverage_guard(
    ranked: list[Ranked],
    incident_zone: str | None,
    available_per_zone: Mapping[str, int],
    policy: RankPolicy,
    notes: dict[str, list[str]],
) -> list[Ranked]:
    if len(ranked) < 2 or not empties_zone(ranked[0], incident_zone, available_per_zone):
        return ranked
    first = ranked[0]
    for i, alt in enumerate(ranked[1:], start=1):
        if alt.score_s > first.score_s + policy.coverage_margin_s:
            break
        if not empties_zone(alt, incident_zone, available_per_zone):
            notes.setdefault(alt.unit_id, []).append(
                f"coverage guard: {first.call_sign} is the last available unit of zone "
                f"{first.home_zone}; this unit is only "
                f"{fmt_s(max(0.0, alt.score_s - first.score_s))} slower"
            )
            return [alt, first, *ranked[1:i], *ranked[i + 1 :]]
    return ranked
