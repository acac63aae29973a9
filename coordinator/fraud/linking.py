"""Alias ("vest") linking: blocking, weighted evidence, fuzzy names, union-find clusters.

Pure: records in, scored candidate links and clusters out. Identifiers carry the weight
(a registration code or bank account is nearly proof; a phone plus a contact person is a
strong sign); the name only adds a little, so a shared name alone never reaches even the
review band. Known-false-positive identifiers (shared logistics agents, market-wide phones)
and identifiers shared by more than ``max_block`` companies are not used for blocking, so
they can never chain unrelated companies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from .normalize import Kind

Key = tuple[str, str]  # (kind, normalised value)


class LinkConfig(BaseModel):
    """Evidence weights and thresholds of the linker (defined once, here)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, float] = Field(
        default_factory=lambda: {
            str(Kind.REG_CODE): 1.0,
            str(Kind.BANK): 1.0,
            str(Kind.EMAIL): 0.8,
            str(Kind.PHONE): 0.7,
            str(Kind.DOMAIN): 0.6,
            str(Kind.CONTACT): 0.5,
            str(Kind.ADDRESS): 0.5,
        },
        description="Score each shared identifier kind adds (counted once per kind)",
    )
    name_weight: float = Field(
        default=0.3, description="Score a perfect name match adds; kept below review_at on purpose"
    )
    name_min_similarity: float = Field(
        default=0.8, description="Name similarity (0-1) below which the name adds nothing"
    )
    auto_at: float = Field(default=1.0, description="Score at or above which a link is automatic")
    review_at: float = Field(
        default=0.6, description="Score at or above which a link goes to review"
    )
    max_block: int = Field(
        default=25, description="An identifier shared by more companies is treated as market-wide"
    )


@dataclass(frozen=True)
class Record:
    """One company as the linker sees it: normalised names and identifier keys."""

    id: int
    names: frozenset[str]
    keys: frozenset[Key]


@dataclass(frozen=True)
class Evidence:
    """Why two companies are linked: what they share and what each item weighed."""

    shared: tuple[tuple[str, str, float], ...]  # (kind, key, weight)
    name_similarity: float
    name_score: float
    score: float

    def as_dict(self) -> dict[str, object]:
        """JSON-able form (stored with the link, shown to investigators)."""
        return {
            "shared": [{"kind": k, "value": v, "weight": w} for k, v, w in self.shared],
            "name_similarity": round(self.name_similarity, 3),
            "name_score": round(self.name_score, 3),
            "score": round(self.score, 3),
        }


@dataclass(frozen=True)
class Candidate:
    """A scored pair (a < b) and the band it falls in ("auto" or "review")."""

    a: int
    b: int
    band: str
    evidence: Evidence


def name_similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """Best rapidfuzz ratio (0-1) between any name key of ``a`` and any of ``b``."""
    best = 0.0
    for x in a:
        for y in b:
            best = max(best, fuzz.ratio(x, y) / 100.0)
    return best


def score_pair(
    a: Record, b: Record, cfg: LinkConfig, excluded: Callable[[Key], bool] | frozenset[Key]
) -> Evidence:
    """Weighted evidence for one pair; each identifier kind counts once.

    ``excluded`` is a set of keys (or a predicate) that must not count as evidence.
    """
    is_excluded = excluded.__contains__ if isinstance(excluded, frozenset) else excluded
    shared: dict[str, tuple[str, str, float]] = {}
    for kind, value in a.keys & b.keys:
        w = cfg.weights.get(kind, 0.0)
        if w <= 0 or is_excluded((kind, value)):
            continue
        if kind not in shared or shared[kind][2] < w:
            shared[kind] = (kind, value, w)
    sim = name_similarity(a.names, b.names)
    name_score = cfg.name_weight * sim if sim >= cfg.name_min_similarity else 0.0
    total = sum(w for _, _, w in shared.values())
    # No shared identifier, no link: the name never counts on its own.
    score = total + name_score if shared else 0.0
    return Evidence(tuple(sorted(shared.values())), sim, name_score, score)


def band_of(score: float, cfg: LinkConfig) -> str | None:
    """ "auto", "review" or None for a score."""
    if score >= cfg.auto_at:
        return "auto"
    if score >= cfg.review_at:
        return "review"
    return None


@dataclass
class BlockIndex:
    """Inverted index identifier key → company ids, for blocking and incremental linking."""

    cfg: LinkConfig
    false_positives: frozenset[Key] = frozenset()
    postings: dict[Key, set[int]] = field(default_factory=lambda: defaultdict(set))
    records: dict[int, Record] = field(default_factory=dict)

    def usable(self, key: Key) -> bool:
        """A key may block unless it is a known false positive or market-wide."""
        return (
            key not in self.false_positives
            and key[0] in self.cfg.weights
            and len(self.postings.get(key, ())) <= self.cfg.max_block
        )

    def add(self, rec: Record) -> None:
        """Index ``rec`` (replacing an older version of the same id)."""
        self.remove(rec.id)
        self.records[rec.id] = rec
        for k in rec.keys:
            self.postings[k].add(rec.id)

    def remove(self, rid: int) -> None:
        """Drop a record from the index."""
        old = self.records.pop(rid, None)
        if old is not None:
            for k in old.keys:
                self.postings[k].discard(rid)

    def excluded(self) -> frozenset[Key]:
        """Keys that must not count as evidence (listed or shared too widely)."""
        wide = {k for k, ids in self.postings.items() if len(ids) > self.cfg.max_block}
        return self.false_positives | frozenset(wide)

    def candidates_for(self, rec: Record) -> list[Candidate]:
        """Score ``rec`` against every record sharing a usable key with it."""
        others: set[int] = set()
        for k in rec.keys:
            if self.usable(k):
                others |= self.postings.get(k, set())
        others.discard(rec.id)
        out = []
        for oid in sorted(others):
            ev = score_pair(rec, self.records[oid], self.cfg, lambda k: not self.usable(k))
            band = band_of(ev.score, self.cfg)
            if band:
                a, b = sorted((rec.id, oid))
                out.append(Candidate(a, b, band, ev))
        return out


@dataclass
class Resolution:
    """Result of a full resolution: candidates, clusters and how much blocking saved."""

    candidates: list[Candidate]
    clusters: dict[int, int]  # record id → cluster id (smallest member id)
    pairs_compared: int
    pairs_possible: int
    excluded_keys: frozenset[Key]


def resolve(
    records: Iterable[Record],
    cfg: LinkConfig | None = None,
    false_positives: Iterable[Key] = (),
    decisions: Mapping[tuple[int, int], str] | None = None,
) -> Resolution:
    """Link every record: block on usable identifier keys, score each pair once, cluster.

    ``decisions`` maps (a, b) to "confirmed" or "rejected" — investigators' word overrides
    the score in both directions.
    """
    cfg = cfg or LinkConfig()
    idx = BlockIndex(cfg, frozenset(false_positives))
    recs = list(records)
    for r in recs:
        idx.add(r)
    excl = idx.excluded()
    pairs: set[tuple[int, int]] = set()
    for key, ids in idx.postings.items():
        if key in excl or key[0] not in cfg.weights or len(ids) < 2:
            continue
        members = sorted(ids)
        for i, x in enumerate(members):
            for y in members[i + 1 :]:
                pairs.add((x, y))
    cands = []
    for a, b in pairs:
        ev = score_pair(idx.records[a], idx.records[b], cfg, excl)
        band = band_of(ev.score, cfg)
        if band:
            cands.append(Candidate(a, b, band, ev))
    cands.sort(key=lambda c: (c.a, c.b))
    decisions = decisions or {}
    active = [
        (c.a, c.b) for c in cands if decisions.get((c.a, c.b), c.band) in ("auto", "confirmed")
    ]
    active += [p for p, d in decisions.items() if d == "confirmed"]
    n = len(recs)
    return Resolution(
        cands, clusters([r.id for r in recs], active), len(pairs), n * (n - 1) // 2, excl
    )


class UnionFind:
    """Disjoint sets with path halving and union by size."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.size: dict[int, int] = {}

    def find(self, x: int) -> int:
        """Representative of ``x``'s set."""
        parent = self.parent
        if x not in parent:
            parent[x] = x
            self.size[x] = 1
            return x
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        """Merge the sets of ``a`` and ``b``."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


def clusters(ids: Iterable[int], edges: Iterable[tuple[int, int]]) -> dict[int, int]:
    """id → cluster id (the smallest id of its connected component)."""
    uf = UnionFind()
    for i in ids:
        uf.find(i)
    for a, b in edges:
        uf.union(a, b)
    smallest: dict[int, int] = {}
    for i in uf.parent:
        r = uf.find(i)
        smallest[r] = min(smallest.get(r, i), i)
    return {i: smallest[uf.find(i)] for i in uf.parent}
