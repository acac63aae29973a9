"""Alias linking on literal records and on a generated market with ground truth."""

from __future__ import annotations

import pytest

from coordinator.fraud.linking import BlockIndex, LinkConfig, Record, UnionFind, clusters, resolve
from coordinator.fraud.normalize import Kind, company_name, keys_for
from devtools.fraud_data import generate


def rec(rid: int, names: list[str], **ids: list[str]) -> Record:
    """A record from typed identifiers (normalised as the service does)."""
    nm, keys = set(), set()
    for kind, raws in [("name", names), *ids.items()]:
        for raw in raws:
            for k, v in keys_for(kind, raw):
                (nm.add(v) if k == Kind.NAME else keys.add((str(k), v)))
    return Record(rid, frozenset(nm), frozenset(keys))


def test_shared_name_alone_never_links() -> None:
    """Identical names, nothing else shared: no candidate at all, not even for review."""
    a = rec(1, ["Lvhang Trading Co., Ltd."], phones=[])
    b = rec(2, ["绿航贸易有限公司"], phones=[])
    a = rec(1, ["Lvhang Trading Co., Ltd."], phone=["13800138000"])
    b = rec(2, ["绿航贸易有限公司"], phone=["13900139000"])
    res = resolve([a, b])
    assert res.candidates == []
    assert res.clusters[1] != res.clusters[2]


def test_phone_and_contact_link_automatically_with_evidence() -> None:
    """The vest pattern: new name, same phone (other format) and same contact → auto link."""
    old = rec(1, ["Green Airline Trading Co."], phone=["+86 138-0013-8000"], contact=["王小明"])
    new = rec(
        2, ["Wobicha Import & Export Ltd"], phone=["0086 13800138000"], contact=["Xiaoming Wang"]
    )
    res = resolve([old, new])
    [c] = res.candidates
    assert c.band == "auto"
    kinds = {k for k, _, _ in c.evidence.shared}
    assert kinds == {"phone", "contact"}
    assert c.evidence.name_score == 0  # the names differ; identifiers did it
    assert res.clusters[1] == res.clusters[2] == 1


def test_single_phone_goes_to_review_not_auto() -> None:
    """One shared phone is a lead for an investigator, not proof."""
    res = resolve(
        [rec(1, ["Alpha Co"], phone=["13800138000"]), rec(2, ["Beta Co"], phone=["13800138000"])]
    )
    [c] = res.candidates
    assert c.band == "review"
    assert res.clusters[1] != res.clusters[2]


def test_known_false_positive_never_chains() -> None:
    """A logistics agent's phone and address given by three companies links none of them."""
    agent = {"phone": ["0579-8518 0000"], "address": ["No. 1 Futian Road, Room 100, Yiwu"]}
    recs = [rec(i, [f"Company {i}"], **agent) for i in (1, 2, 3)]
    fps = keys_for("phone", "0579-8518 0000") + keys_for("address", agent["address"][0])
    assert len({c for c in resolve(recs).clusters.values()}) == 1  # unlisted: they chain
    res = resolve(recs, false_positives=[(str(k), v) for k, v in fps])
    assert res.candidates == []
    assert len(set(res.clusters.values())) == 3


def test_market_wide_identifier_is_ignored_past_max_block() -> None:
    """An unlisted hotline given by more companies than max_block is treated as market-wide."""
    cfg = LinkConfig(max_block=3)
    recs = [rec(i, [f"Firm {i}"], phone=["0579-85180000"], contact=["Li Lei"]) for i in range(1, 6)]
    res = resolve(recs, cfg)
    assert res.candidates == [] and res.pairs_compared == 0
    assert ("phone", "+8657985180000") in res.excluded_keys


def test_decisions_override_the_score_both_ways() -> None:
    """A rejected auto link splits the cluster; a confirmed review link joins it."""
    a = rec(1, ["A"], phone=["13800138000"], contact=["Li Lei"])
    b = rec(2, ["B"], phone=["13800138000"], contact=["Li Lei"])
    c = rec(3, ["C"], email=["x@cco.com"])
    d = rec(4, ["D"], email=["x@cco.com"], phone=["13700137000"])
    e = rec(5, ["E"], phone=["13700137000"])
    res = resolve([a, b, c, d, e], decisions={(1, 2): "rejected", (4, 5): "confirmed"})
    assert res.clusters[1] != res.clusters[2]
    assert res.clusters[3] == res.clusters[4] == res.clusters[5]


def test_incremental_index_agrees_with_full_resolution() -> None:
    """Adding records one by one to the block index finds the same candidates."""
    m = generate(300, seed=3)
    recs = [rec_from(c) for c in m.companies]
    full = {(c.a, c.b, c.band) for c in resolve(recs).candidates}
    idx = BlockIndex(LinkConfig())
    inc = set()
    for r in recs:
        idx.add(r)
        inc |= {(c.a, c.b, c.band) for c in idx.candidates_for(r)}
    assert inc == full


def rec_from(c) -> Record:  # noqa: ANN001
    """Record of a generated company."""
    nm, keys = set(), set()
    for kind, raw in c.identifiers:
        for k, v in keys_for(kind, raw):
            (nm.add(v) if k == Kind.NAME else keys.add((str(k), v)))
    return Record(c.id, frozenset(nm), frozenset(keys))


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_market_precision_and_recall(seed: int) -> None:
    """On a generated market with vests, duplicates, look-alike names and shared agents, the
    linker reaches the issue's targets (P >= 99 %, R >= 95 %)."""
    m = generate(800, seed=seed)
    fps = [(str(k), v) for kind, raw in m.false_positives for k, v in keys_for(kind, raw)]
    res = resolve([rec_from(c) for c in m.companies], false_positives=fps)
    pred = set()
    members: dict[int, list[int]] = {}
    for i, cl in res.clusters.items():
        members.setdefault(cl, []).append(i)
    for ids in members.values():
        ids.sort()
        pred |= {(a, b) for j, a in enumerate(ids) for b in ids[j + 1 :]}
    truth = m.truth_pairs()
    tp = len(pred & truth)
    assert truth, "the generator made no aliases"
    assert tp / len(pred) >= 0.99
    assert tp / len(truth) >= 0.95
    assert res.pairs_compared < res.pairs_possible / 100  # blocking does its job


def test_generator_has_its_traps() -> None:
    """Vests, look-alike names and agent identifiers are all present."""
    m = generate(500, seed=4)
    assert any(c.vest_of for c in m.companies)
    assert m.false_positives
    entities_by_name: dict[str, set[int]] = {}
    for c in m.companies:
        for k, raw in c.identifiers:
            if k == "name":
                entities_by_name.setdefault(company_name(raw), set()).add(c.entity)
    # look-alike names: one name key held by unrelated entities (the name-only trap)
    assert any(len(e) > 1 for e in entities_by_name.values())
    assert len(m.companies) > 500 and m.filings


def test_union_find() -> None:
    """Union-find merges transitively and labels by smallest id."""
    uf = UnionFind()
    uf.union(5, 3)
    uf.union(3, 9)
    assert uf.find(9) == uf.find(5)
    assert clusters([1, 2, 3, 4], [(4, 2), (2, 3)]) == {1: 1, 2: 2, 3: 2, 4: 2}
