"""Full re-resolution of every stored company (the batch path of alias linking).

Incremental linking (one company at a time, as filings arrive) is what the service does;
``re_resolve`` recomputes every link and cluster from scratch (after a change of weights or
of the false-positive list, or after a bulk load) while keeping investigators' decisions.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

from .linking import Key, LinkConfig, Record, resolve
from .normalize import Kind


def records_from_db(svc: Any) -> list[Record]:
    """Every stored company as a linker record."""
    names: dict[int, set[str]] = defaultdict(set)
    keys: dict[int, set[Key]] = defaultdict(set)
    for cid, kind, norm in (
        svc.db.read().execute("SELECT company_id, kind, norm FROM fraud_identifiers").fetchall()
    ):
        (names[cid].add(norm) if kind == Kind.NAME else keys[cid].add((kind, norm)))
    ids = [r[0] for r in svc.db.read().execute("SELECT id FROM fraud_companies").fetchall()]
    return [Record(i, frozenset(names[i]), frozenset(keys[i])) for i in ids]


def re_resolve(svc: Any, cfg: LinkConfig | None = None) -> dict[str, Any]:
    """Recompute every link and cluster; investigators' confirm/reject decisions are kept."""
    cfg = cfg or svc.link_cfg
    t0 = time.perf_counter()
    recs = records_from_db(svc)
    decisions = {
        (r["a"], r["b"]): r["decision"]
        for r in svc.db.query("SELECT a, b, decision FROM fraud_links WHERE decision IS NOT NULL")
    }
    t1 = time.perf_counter()
    res = resolve(recs, cfg, svc.false_positives, decisions)
    t2 = time.perf_counter()
    now = time.time()

    def tx(db: Any) -> None:
        # Rows with a decision keep it; the machine's proposals are rewritten.
        db.execute(
            "DELETE FROM fraud_links WHERE decision IS NULL AND id NOT IN "
            "(SELECT link_id FROM fraud_link_history)"
        )
        db.execute("UPDATE fraud_links SET proposed = 'none'")
        db.conn.executemany(
            "INSERT INTO fraud_links (a, b, score, evidence, proposed, created_ts) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(a, b) DO UPDATE SET score = excluded.score, "
            "evidence = excluded.evidence, proposed = excluded.proposed",
            [
                (
                    c.a,
                    c.b,
                    c.evidence.score,
                    json.dumps(c.evidence.as_dict(), ensure_ascii=False),
                    c.band,
                    now,
                )
                for c in res.candidates
            ],
        )
        db.conn.executemany(
            "UPDATE fraud_companies SET cluster_id = ? WHERE id = ?",
            [(cl, cid) for cid, cl in res.clusters.items()],
        )

    svc.db.write(tx, timeout=None)
    t3 = time.perf_counter()
    return {
        "companies": len(recs),
        "candidates": len(res.candidates),
        "auto": sum(c.band == "auto" for c in res.candidates),
        "review": sum(c.band == "review" for c in res.candidates),
        "pairs_compared": res.pairs_compared,
        "pairs_possible": res.pairs_possible,
        "load_s": t1 - t0,
        "resolve_s": t2 - t1,
        "write_s": t3 - t2,
    }
