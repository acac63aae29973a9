"""Ranking core with literal candidates: ETA order, stale penalty, zone tie-break, coverage."""

from __future__ import annotations

import pytest

from coordinator.dispatch.ranking import (
    Candidate,
    RankPolicy,
    rank_units,
    stale_penalty,
    zone_counts,
)

P = RankPolicy(stale_after_s=120, stale_penalty_s=60, tie_s=15, coverage_margin_s=30)


def cand(uid, eta, zone="Z1", age=10.0, **kw):
    return Candidate(uid, uid.upper(), "car", zone, eta, age, **kw)


def ids(ranked):
    return [r.unit_id for r in ranked]


def test_fastest_first_with_reasons_and_top_k():
    out = rank_units([cand("b", 200), cand("a", 90), cand("c", 150)], "Z1", {"Z1": 3}, P, k=2)
    assert ids(out) == ["a", "c"]
    assert [r.rank for r in out] == [1, 2]
    assert out[0].reasons[0] == "ETA 1 min 30 s by road"
    assert "position 10 s old" in out[0].reasons
    assert "home zone Z1 = incident zone" in out[0].reasons


def test_stale_position_is_penalised_and_marked():
    assert stale_penalty(100, P) == 0
    assert stale_penalty(220, P) == 60 + 50
    assert stale_penalty(10_000, P) == P.stale_penalty_cap_s
    out = rank_units([cand("old", 100, age=300), cand("fresh", 150)], "Z1", {"Z1": 2}, P)
    assert ids(out) == ["fresh", "old"]
    assert out[1].stale and out[1].score_s == 100 + 60 + 90
    assert any("stale position" in r for r in out[1].reasons)


@pytest.mark.parametrize(
    ("other_eta", "winner"),
    [(110, "own"), (100, "own"), (99, "other")],  # own zone wins within tie_s (15 s)
)
def test_zone_ownership_breaks_near_ties(other_eta, winner):
    out = rank_units(
        [cand("own", 115, zone="Z1"), cand("other", other_eta, zone="Z2")],
        "Z1",
        {"Z1": 2, "Z2": 2},
        P,
    )
    assert out[0].unit_id == winner
    if winner == "own" and other_eta < 115:
        assert any("zone tie-break" in r for r in out[0].reasons)


def test_coverage_guard_keeps_a_zone_covered_when_a_near_equal_unit_exists():
    # "last" is the only available unit of Z2; "spare" (Z3 has two) is 20 s slower.
    units = [cand("last", 100, zone="Z2"), cand("spare", 120, zone="Z3")]
    out = rank_units(units, "Z1", {"Z2": 1, "Z3": 2}, P)
    assert ids(out) == ["spare", "last"]
    assert any("coverage guard" in r and "Z2" in r for r in out[0].reasons)


def test_coverage_guard_does_not_trade_real_time():
    units = [cand("last", 100, zone="Z2"), cand("spare", 131, zone="Z3")]
    assert ids(rank_units(units, "Z1", {"Z2": 1, "Z3": 2}, P)) == ["last", "spare"]


def test_coverage_guard_ignores_the_incident_zone_itself():
    units = [cand("last", 100, zone="Z1"), cand("spare", 110, zone="Z3")]
    assert ids(rank_units(units, "Z1", {"Z1": 1, "Z3": 2}, P)) == ["last", "spare"]


def test_incident_outside_every_zone_ranks_by_time_only():
    out = rank_units([cand("a", 120), cand("b", 110, zone="Z2")], None, {"Z1": 1, "Z2": 1}, P)
    assert ids(out) == ["b", "a"]
    assert "outside every patrol zone" in out[0].reasons


def test_estimates_say_so():
    out = rank_units(
        [cand("a", 300, method="estimate", note="unit off the road network")], "Z1", {"Z1": 1}, P
    )
    assert "estimated (straight line x detour)" in out[0].reasons[0]
    assert "unit off the road network" in out[0].reasons


def test_zone_counts_only_counts_available_units():
    assert zone_counts(
        [("Z1", "available"), ("Z1", "busy"), ("Z2", "available"), (None, "available")]
    ) == {"Z1": 1, "Z2": 1}


def test_no_candidates_gives_empty_list():
    assert rank_units([], "Z1", {}, P) == []
