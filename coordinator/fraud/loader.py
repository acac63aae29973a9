"""Bulk loading of a generated market, and full re-resolution of every stored company.

Incremental linking (one company at a time, as filings arrive) is what the service does;
these are the batch paths: the demo and the benchmark load a whole market at once, and
``re_resolve`` recomputes every link and cluster from scratch (after a change of weights or
of the false-positive list) while keeping investigators' decisions.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from typing import Any

from .generator import Market
from .linking import Key, LinkConfig, Record, resolve
from .normalize import IdentifierError, Kind, keys_for


def market_rows(market: Market) -> tuple[list[dict], list[dict], list[Key]]:
    """Company rows, identifier rows (normalised) and false-positive keys of a market."""
    companies, idents = [], []
    now = time.time()
    for c in market.companies:
        names = [raw for k, raw in c.identifiers if k == "name"]
        companies.append(
            {
                "id": c.id,
                "display_name": names[-1],
                "founded": c.founded.isoformat(),
                "cluster_id": c.id,
                "created_ts": now,
                "created_by": "generator",
            }
        )
        seen = set()
        for kind, raw in c.identifiers:
            try:
                keys = keys_for(kind, raw)
            except IdentifierError:
                continue
            for k, v in keys:
                if (k, v) not in seen:
                    seen.add((k, v))
                    idents.append({"company_id": c.id, "kind": str(k), "raw": raw, "norm": v})
    fps = [(str(k), v) for kind, raw in market.false_positives for k, v in keys_for(kind, raw)]
    return companies, idents, fps


def load_market(svc: Any, market: Market, *, today: dt.date | None = None) -> dict[str, Any]:
    """Write a generated market into an empty fraud database, resolve it, flag overdue."""
    today = today or svc.today()
    companies, idents, fps = market_rows(market)
    now = time.time()

    def tx(db: Any) -> None:
        db["fraud_merchants"].insert_all(
            (
                {
                    "id": m,
                    "name": f"Booth {m}",
                    "market": "International Trade City",
                    "booth": f"D{i % 5 + 1}-{100 + i}",
                    "created_ts": now,
                }
                for i, m in enumerate(market.merchants)
            ),
            batch_size=5000,
        )
        db["fraud_companies"].insert_all(companies, batch_size=5000)
        db["fraud_identifiers"].insert_all(idents, batch_size=5000, ignore=True)
        db["fraud_false_positives"].insert_all(
            (
                {
                    "kind": k,
                    "norm": v,
                    "raw": v,
                    "reason": "logistics agent / market hotline",
                    "added_by": "generator",
                    "ts": now,
                }
                for k, v in fps
            ),
            ignore=True,
        )
        db["fraud_filings"].insert_all(
            (
                {
                    "merchant_id": f.merchant,
                    "company_id": f.company,
                    "goods": "assorted goods",
                    "quantity": 100,
                    "amount_cents": int(f.amount_cny * 100),
                    "currency": "CNY",
                    "amount_cny_cents": int(f.amount_cny * 100),
                    "paid_cents": int(f.amount_cny * 100) if f.paid else 0,
                    "due_date": f.due.isoformat(),
                    "documents": "[]",
                    "status": "paid" if f.paid else "open",
                    "filed_ts": now,
                }
                for f in market.filings
            ),
            batch_size=10000,
        )

    svc.db.write(tx, timeout=None)
    svc._fps = svc._load_false_positives()  # noqa: SLF001 - the service caches the list
    stats = re_resolve(svc)
    svc.sweep_overdue(today)
    return stats


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
    res = resolve(recs, cfg, svc._fps, decisions)  # noqa: SLF001
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
