"""Companies, their identifiers, and incremental alias linking on the writer thread.

Functions here take the writer's ``sqlite_utils.Database`` and run inside one write
transaction (called from ``Database.write``), so a company, its identifiers, its links and
its cluster ids are committed together or not at all.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from ..errors import Invalid, NotFound
from .linking import Key, LinkConfig, Record, band_of, score_pair
from .normalize import IdentifierError, Kind, keys_for

ACTIVE_LINK = "(decision = 'confirmed' OR (decision IS NULL AND proposed = 'auto'))"


def normalise_identifiers(
    identifiers: list[tuple[str, str]], *, need_name: bool = True
) -> list[tuple[str, str, str]]:
    """(kind, raw) pairs → (kind, raw, key) rows; Invalid naming the first bad identifier."""
    rows: list[tuple[str, str, str]] = []
    for kind, raw in identifiers:
        try:
            Kind(kind)
        except ValueError:
            raise Invalid(f"unknown identifier kind {kind!r}") from None
        try:
            keys = keys_for(kind, raw)
        except IdentifierError as exc:
            raise Invalid(str(exc)) from None
        rows.extend((str(k), raw, v) for k, v in keys)
    if need_name and not any(k == Kind.NAME for k, _, _ in rows):
        raise Invalid("a company needs at least one name")
    return list({(k, v): (k, raw, v) for k, raw, v in rows}.values())


def insert_company(
    db: sqlite_utils.Database,
    identifiers: list[tuple[str, str]],
    *,
    founded: str | None,
    actor: str,
    cfg: LinkConfig,
    false_positives: frozenset[Key],
) -> int:
    """Insert a company with its identifiers, link it, and return its id."""
    rows = normalise_identifiers(identifiers)
    display = next(raw for k, raw, _ in rows if k == Kind.NAME)
    cid = int(
        db.table("fraud_companies")  # type: ignore[arg-type]
        .insert(
            {
                "display_name": display.strip()[:200],
                "founded": founded,
                "created_ts": time.time(),
                "created_by": actor,
            }
        )
        .last_pk
    )
    db.execute("UPDATE fraud_companies SET cluster_id = id WHERE id = ?", [cid])
    _insert_identifiers(db, cid, rows)
    link_company(db, cid, cfg, false_positives)
    return cid


def add_identifiers(
    db: sqlite_utils.Database,
    cid: int,
    identifiers: list[tuple[str, str]],
    cfg: LinkConfig,
    false_positives: frozenset[Key],
) -> None:
    """Add identifiers to a known company and relink it."""
    require_company(db, cid)
    rows = normalise_identifiers(identifiers, need_name=False)
    _insert_identifiers(db, cid, rows)
    link_company(db, cid, cfg, false_positives)


def _insert_identifiers(
    db: sqlite_utils.Database, cid: int, rows: Iterable[tuple[str, str, str]]
) -> None:
    """Store (kind, raw, norm) identifiers of a company; one already known is kept as it is."""
    db.conn.executemany(
        "insert into fraud_identifiers (company_id, kind, raw, norm) values (?, ?, ?, ?) "
        "on conflict (company_id, kind, norm) do nothing",
        [(cid, str(k), raw, v) for k, raw, v in rows],
    )


def require_company(db: sqlite_utils.Database, cid: int) -> dict[str, Any]:
    """The company row, or NotFound."""
    rows = list(db.query("SELECT * FROM fraud_companies WHERE id = ?", [cid]))
    if not rows:
        raise NotFound(f"unknown company {cid}: register it (with its identifiers) first")
    return rows[0]


def record_of(db: sqlite_utils.Database, cid: int) -> Record:
    """The linker's view of a stored company."""
    names, keys = set(), set()
    for kind, norm in db.execute(
        "SELECT kind, norm FROM fraud_identifiers WHERE company_id = ?", [cid]
    ).fetchall():
        if kind == Kind.NAME:
            names.add(norm)
        else:
            keys.add((kind, norm))
    return Record(cid, frozenset(names), frozenset(keys))


def link_company(
    db: sqlite_utils.Database, cid: int, cfg: LinkConfig, false_positives: frozenset[Key]
) -> list[int]:
    """Block on ``cid``'s usable identifiers, score each candidate, upsert links, recluster.

    Returns the ids of links created or changed.
    """
    rec = record_of(db, cid)
    wide: dict[Key, bool] = {}

    def excluded(key: Key) -> bool:
        if key in false_positives or key[0] not in cfg.weights:
            return True
        if key not in wide:
            n = db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM fraud_identifiers WHERE kind = ? AND norm = ?"
                " LIMIT ?)",
                [key[0], key[1], cfg.max_block + 1],
            ).fetchone()[0]
            wide[key] = n > cfg.max_block
        return wide[key]

    others: set[int] = set()
    for key in rec.keys:
        if excluded(key):
            continue
        others.update(
            r[0]
            for r in db.execute(
                "SELECT company_id FROM fraud_identifiers WHERE kind = ? AND norm = ?", list(key)
            ).fetchall()
        )
    others.discard(cid)
    changed = []
    now = time.time()
    for oid in sorted(others):
        ev = score_pair(rec, record_of(db, oid), cfg, excluded)
        band = band_of(ev.score, cfg)
        a, b = sorted((cid, oid))
        existing = db.execute("SELECT id FROM fraud_links WHERE a = ? AND b = ?", [a, b]).fetchone()
        if band is None and existing is None:
            continue
        evidence = json.dumps(ev.as_dict(), ensure_ascii=False)
        if existing is None:
            lid = int(
                db.table("fraud_links")  # type: ignore[arg-type]
                .insert(
                    {
                        "a": a,
                        "b": b,
                        "score": ev.score,
                        "evidence": evidence,
                        "proposed": band,
                        "created_ts": now,
                    }
                )
                .last_pk
            )
        else:
            lid = existing[0]
            # New evidence can raise or lower the proposal; an investigator's decision stays.
            db.execute(
                "UPDATE fraud_links SET score = ?, evidence = ?, proposed = ? WHERE id = ?",
                [ev.score, evidence, band or "none", lid],
            )
        changed.append(lid)
    recluster(db, [cid, *others])
    return changed


def component(db: sqlite_utils.Database, start: int) -> set[int]:
    """Companies reachable from ``start`` over active links."""
    seen = {start}
    todo = deque([start])
    while todo:
        x = todo.popleft()
        for (y,) in db.execute(
            f"SELECT b FROM fraud_links WHERE a = ? AND {ACTIVE_LINK} "
            f"UNION SELECT a FROM fraud_links WHERE b = ? AND {ACTIVE_LINK}",
            [x, x],
        ).fetchall():
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return seen


def recluster(db: sqlite_utils.Database, seeds: list[int]) -> set[int]:
    """Recompute cluster ids (smallest member id) of the components around ``seeds``."""
    done: set[int] = set()
    clusters = set()
    for s in seeds:
        if s in done:
            continue
        comp = component(db, s)
        done |= comp
        cl = min(comp)
        clusters.add(cl)
        db.execute(
            f"UPDATE fraud_companies SET cluster_id = ? WHERE id IN ({','.join('?' * len(comp))})",
            [cl, *sorted(comp)],
        )
    return clusters


def find_by_keys(db_query: Any, keys: list[tuple[Kind, str]], fps: frozenset[Key]) -> list[int]:
    """Company ids holding any of ``keys`` (false-positive identifiers identify nobody)."""
    out: list[int] = []
    for kind, norm in keys:
        if (str(kind), norm) in fps:
            continue
        out += [
            r["company_id"]
            for r in db_query(
                "SELECT DISTINCT company_id FROM fraud_identifiers WHERE kind = ? AND norm = ? "
                "LIMIT 50",
                [str(kind), norm],
            )
        ]
    return list(dict.fromkeys(out))
