"""Duplicate detection and the review queue: exact ID match, fuzzy candidates, merges.

A new person is compared with (a) every record with the same ID-number hash, (b) records
born the same day, and (c) records with the same order-free Latin name key born the same
year (which catches a mistyped day or month). Blocking on indexed columns keeps the check to a few
dozen comparisons at city scale. Candidates are never merged automatically: a reviewer
merges or marks "not duplicate", and every merge can be undone.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils
from rapidfuzz import fuzz, process

from ..errors import Conflict, NotFound
from .common import Access, Actor, Ctx, insert_row, list_view, username
from .names import DOB_W, NAME_W, ORIGIN_W, NameRecord, duplicate_score

THRESHOLD = 0.8
#: The lowest name similarity that can still reach THRESHOLD with the birth date and the
#: origin equal (the score is rounded to 3 decimals, hence the half-thousandth).
MIN_NAME = (THRESHOLD - 0.0005 - DOB_W - ORIGIN_W) / NAME_W - 1e-6
BLOCK_LIMIT = 500
#: Most candidates recorded for one person (the same-ID query's LIMIT included).
SAME_ID_LIMIT = 20
#: Tables whose person_id a merge moves to the survivor (and an undo moves back).
OWNED = ("pop_registrations", "pop_visitors", "pop_permits", "pop_requests")


def _name_prefilter(me: NameRecord, block: list[tuple[Any, ...]]) -> list[int]:
    """Indexes of block rows whose name could reach the threshold, found in one C call per
    spelling instead of one Python call per row: the score weighs name, birth date and
    origin, so a row whose name similarity is below MIN_NAME cannot reach THRESHOLD."""
    keep: set[int] = set()
    cutoff = MIN_NAME * 100
    queries = (
        (me.name, 1, fuzz.ratio, None),
        (me.latin, 2, fuzz.token_sort_ratio, None),
        (me.latin.replace(" ", ""), 2, fuzz.ratio, lambda s: s.replace(" ", "")),
    )
    for query, col, scorer, prep in queries:
        if not query:
            continue
        choices = [r[col] or "" for r in block]
        for _match, _score, i in process.extract(
            query, choices, scorer=scorer, processor=prep, score_cutoff=cutoff, limit=None
        ):
            keep.add(i)
    return sorted(keep)


def find_candidates(
    db: sqlite_utils.Database, person_id: int, row: dict[str, Any], *, fuzzy: bool = True,
    earlier_than: int | None = None, limit: int = SAME_ID_LIMIT,
) -> list[dict[str, Any]]:  # fmt: skip
    """At most ``limit`` likely duplicates of ``row`` among active persons, best first
    (pure read).

    ``earlier_than`` limits the comparison to records with a smaller id: a bulk import
    inserts a whole batch first and then checks each row against those before it. The
    same-ID query takes the ``limit`` most recent records only: a file repeating one ID
    number n times would otherwise queue n²/2 pairs (each new copy is still linked to the
    latest ones, which a reviewer merges one after another).
    """
    out: dict[int, dict[str, Any]] = {}
    below = earlier_than if earlier_than is not None else 1 << 62
    if row.get("id_hash") is not None:
        for (oid,) in db.execute(
            "select id from pop_persons where id_hash = ? and id != ? and id < ? "
            "and status = 'active' order by id desc limit ?",
            [row["id_hash"], person_id, below, limit],
        ):
            out[oid] = {"other_id": oid, "score": 1.0, "reasons": ["same ID-document number"]}
    if not fuzzy:
        return list(out.values())[:limit]
    me = NameRecord(row["name"], row["name_latin"] or "", row["dob"] or "", row["origin"] or "")
    seen: set[int] = set(out)
    year = (row["dob"] or "")[:4]
    # Records with the same ID number are the same-ID group above (its latest ``limit``):
    # the blocks skip them, so a number repeated thousands of times costs nothing more.
    same = "and (id_hash is null or id_hash != ?) " if row.get("id_hash") else "and ? is null "
    blocks = (
        ("select id, name, name_latin, dob, origin from pop_persons where dob = ? "
         f"and status = 'active' {same}and id != ? and id < ? limit ?", [row["dob"]]),
        # same spelling, born the same year: catches a mistyped day or month without
        # comparing against every namesake in a city of millions
        ("select id, name, name_latin, dob, origin from pop_persons where match_key = ? "
         f"and dob between ? and ? and status = 'active' {same}and id != ? and id < ? limit ?",
         [row.get("match_key"), f"{year}-01-01", f"{year}-12-31"]),
    )  # fmt: skip
    for sql, args in blocks:
        if not all(args):
            continue
        params = [*args, row.get("id_hash"), person_id, below, BLOCK_LIMIT]
        block = [r for r in db.execute(sql, params).fetchall() if r[0] not in seen]
        seen.update(r[0] for r in block)
        for i in _name_prefilter(me, block):
            oid, name, latin, dob, origin = block[i]
            score, reasons = duplicate_score(
                me, NameRecord(name, latin or "", dob or "", origin or "")
            )
            if score >= THRESHOLD:
                out[oid] = {"other_id": oid, "score": score, "reasons": reasons}
    return sorted(out.values(), key=lambda c: -c["score"])[:limit]


def record_candidates(
    db: sqlite_utils.Database, person_id: int, row: dict[str, Any], now: float,
    *, fuzzy: bool = True, earlier_than: int | None = None, limit: int = SAME_ID_LIMIT,
) -> list[dict[str, Any]]:  # fmt: skip
    """Find at most ``limit`` candidates and queue them for review (inside the caller's
    transaction)."""
    cands = find_candidates(db, person_id, row, fuzzy=fuzzy, earlier_than=earlier_than,
                            limit=limit)  # fmt: skip
    for c in cands:
        cur = db.execute(
            "insert into pop_dup_candidates(person_id, other_id, score, reasons, created_at) "
            "values (?, ?, ?, ?, ?) on conflict do nothing",
            [person_id, c["other_id"], c["score"], json.dumps(c["reasons"]), now],
        )
        c["id"] = cur.lastrowid
    return cands


class Duplicates:
    """The review queue, merges and their undo."""

    def __init__(self, ctx: Ctx, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    def queue(
        self, actor: Actor, purpose: str | None, status: str = "open", limit: int = 50
    ) -> list[dict[str, Any]]:
        """Open candidates whose persons are both within the reviewer's jurisdiction."""
        zones = self.access.zones(actor)
        rows = self.ctx.db.query(
            "select c.*, a.zone as zone_a, b.zone as zone_b from pop_dup_candidates c "
            "join pop_persons a on a.id = c.person_id join pop_persons b on b.id = c.other_id "
            "where c.status = ? order by c.score desc, c.id limit ?",
            [status, max(1, min(limit, 500)) * (1 if zones is None else 5)],
        )
        rows = [r for r in rows if zones is None or {r["zone_a"], r["zone_b"]} <= zones][:limit]
        ids = sorted({i for r in rows for i in (r["person_id"], r["other_id"])})
        persons = {
            p["id"]: list_view(p)
            for p in self.ctx.db.query(
                f"select * from pop_persons where id in ({','.join('?' * len(ids))})", ids
            )
        } if ids else {}  # fmt: skip
        out = [self._view(r, persons) for r in rows]
        self.ctx.read(actor, "review_queue", "person", ids, purpose)
        return out

    def _view(self, c: dict[str, Any], persons: dict[int, dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": c["id"],
            "score": c["score"],
            "reasons": json.loads(c["reasons"]),
            "status": c["status"],
            "created_at": c["created_at"],
            "person": persons.get(c["person_id"]),
            "other": persons.get(c["other_id"]),
            "decided_by": c["decided_by"],
            "merge_id": self._merge_id(c),
        }

    def _merge_id(self, c: dict[str, Any]) -> int | None:
        if c["status"] != "merged":
            return None
        rows = self.ctx.db.query(
            "select id from pop_merges where candidate_id = ? and undone_at is null "
            "order by id desc limit 1",
            [c["id"]],
        )
        return int(rows[0]["id"]) if rows else None

    def compare(self, actor: Actor, cand_id: int, purpose: str | None) -> dict[str, Any]:
        """A pair side by side for the reviewer: both records (IDs masked), their current
        address and what hangs on each, the reasons, and which fields agree (audited)."""
        c = self._candidate(actor, cand_id)
        sides = [self._side(pid) for pid in (c["person_id"], c["other_id"])]
        fields = ("name", "name_latin", "id_type", "id_masked", "dob", "sex", "nationality",
                  "origin", "zone", "hukou_place")  # fmt: skip
        a, b = sides[0]["person"], sides[1]["person"]
        self.ctx.read(actor, "duplicate_compare", "person", [c["person_id"], c["other_id"]],
                      purpose, {"candidate": cand_id})  # fmt: skip
        return {
            "id": c["id"], "score": c["score"], "reasons": json.loads(c["reasons"]),
            "status": c["status"], "merge_id": self._merge_id(c), "left": sides[0],
            "right": sides[1], "same": [f for f in fields if a.get(f) == b.get(f)],
            "differ": [f for f in fields if a.get(f) != b.get(f)],
        }  # fmt: skip

    def _side(self, pid: int) -> dict[str, Any]:
        q = self.ctx.db.query
        row = q("select * from pop_persons where id = ?", [pid])[0]
        addr = q("select address from pop_registrations where person_id = ? "
                 "order by (status = 'registered') desc, id desc limit 1", [pid])  # fmt: skip
        n = q("select (select count(*) from pop_registrations where person_id = ?1) r, "
              "(select count(*) from pop_permits where person_id = ?1) p, "
              "(select count(*) from pop_houses where landlord_id = ?1) h", [pid])[0]  # fmt: skip
        return {"person": list_view(row), "created_at": row["created_at"],
                "address": addr[0]["address"] if addr else None,
                "registrations": n["r"], "permits": n["p"], "houses": n["h"]}  # fmt: skip

    def _candidate(self, actor: Actor, cand_id: int) -> dict[str, Any]:
        rows = self.ctx.db.query("select * from pop_dup_candidates where id = ?", [cand_id])
        if not rows:
            raise NotFound(f"no duplicate candidate {cand_id}")
        c = rows[0]
        for pid in (c["person_id"], c["other_id"]):
            self.access.check_person(
                actor, self.ctx.db.query("select * from pop_persons where id = ?", [pid])[0]
            )
        return c

    def not_duplicate(self, actor: Actor, cand_id: int, purpose: str | None) -> dict[str, Any]:
        """Close a candidate as two different people."""
        c = self._candidate(actor, cand_id)
        if c["status"] != "open":
            raise Conflict(f"candidate {cand_id} is already {c['status']}")
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> None:
            db.execute("update pop_dup_candidates set status = 'not_duplicate', decided_by = ?, "
                       "decided_at = ? where id = ?", [username(actor), now, cand_id])  # fmt: skip
            Ctx.entry(db, actor, "not_duplicate", "person", c["person_id"], purpose,
                      {"candidate": cand_id, "other": c["other_id"]})  # fmt: skip

        self.ctx.db.write(write)
        return {"id": cand_id, "status": "not_duplicate"}

    def merge(
        self, actor: Actor, cand_id: int, survivor_id: int | None, purpose: str | None
    ) -> dict[str, Any]:
        """Merge the pair: the other record's registrations etc. move to the survivor."""
        c = self._candidate(actor, cand_id)
        if c["status"] != "open":
            raise Conflict(f"candidate {cand_id} is already {c['status']}")
        survivor = survivor_id or c["other_id"]  # default: the older record survives
        if survivor not in (c["person_id"], c["other_id"]):
            raise Conflict("the survivor must be one of the candidate pair")
        merged = c["person_id"] if survivor == c["other_id"] else c["other_id"]
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> int:
            for pid in (survivor, merged):
                st = db.execute("select status from pop_persons where id = ?", [pid]).fetchone()
                if st[0] != "active":
                    raise Conflict(f"person {pid} is {st[0]}")
            moved: dict[str, list[int]] = {}
            for t in OWNED:
                ids = [
                    r[0] for r in db.execute(f"select id from {t} where person_id = ?", [merged])
                ]
                if ids:
                    db.execute(f"update {t} set person_id = ? where person_id = ?",
                               [survivor, merged])  # fmt: skip
                moved[t] = ids
            houses = [r[0] for r in db.execute(
                "select id from pop_houses where landlord_id = ?", [merged])]  # fmt: skip
            db.execute("update pop_houses set landlord_id = ? where landlord_id = ?",
                       [survivor, merged])  # fmt: skip
            moved["pop_houses"] = houses
            db.execute("update pop_persons set status = 'merged', merged_into = ?, updated_at = ? "
                       "where id = ?", [survivor, now, merged])  # fmt: skip
            db.execute("update pop_dup_candidates set status = 'merged', decided_by = ?, "
                       "decided_at = ? where id = ?", [username(actor), now, cand_id])  # fmt: skip
            mid = insert_row(db, "pop_merges", dict(
                candidate_id=cand_id, survivor_id=survivor, merged_id=merged,
                moved=json.dumps(moved), ts=now, actor=username(actor)))  # fmt: skip
            Ctx.entry(db, actor, "merge", "person", survivor, purpose,
                      {"merged": merged, "merge": mid, "candidate": cand_id})  # fmt: skip
            return mid

        mid = self.ctx.db.write(write)
        return {"merge_id": mid, "survivor_id": survivor, "merged_id": merged}

    def undo(self, actor: Actor, merge_id: int, purpose: str | None) -> dict[str, Any]:
        """Reverse a merge exactly: moved rows go back, the merged record is active again."""
        rows = self.ctx.db.query("select * from pop_merges where id = ?", [merge_id])
        if not rows:
            raise NotFound(f"no merge {merge_id}")
        m = rows[0]
        if m["undone_at"] is not None:
            raise Conflict(f"merge {merge_id} was already undone")
        surv = self.ctx.db.query("select * from pop_persons where id = ?", [m["survivor_id"]])[0]
        self.access.check_person(actor, surv)
        now = self.ctx.now()
        moved = json.loads(m["moved"])

        def write(db: sqlite_utils.Database) -> None:
            for t, ids in moved.items():
                col = "landlord_id" if t == "pop_houses" else "person_id"
                for rid in ids:
                    db.execute(f"update {t} set {col} = ? where id = ?", [m["merged_id"], rid])
            db.execute("update pop_persons set status = 'active', merged_into = null, "
                       "updated_at = ? where id = ?", [now, m["merged_id"]])  # fmt: skip
            db.execute("update pop_merges set undone_at = ?, undone_by = ? where id = ?",
                       [now, username(actor), merge_id])  # fmt: skip
            if m["candidate_id"]:
                db.execute("update pop_dup_candidates set status = 'open', decided_by = null, "
                           "decided_at = null where id = ?", [m["candidate_id"]])  # fmt: skip
            Ctx.entry(db, actor, "unmerge", "person", m["survivor_id"], purpose,
                      {"merged": m["merged_id"], "merge": merge_id})  # fmt: skip

        self.ctx.db.write(write)
        return {"merge_id": merge_id, "restored_id": m["merged_id"]}

    def check(self, actor: Actor, data_row: dict[str, Any], purpose: str | None) -> list[dict]:
        """Candidates for a prospective record, without storing it (used by the bench)."""
        with_read = self.ctx.db.read()
        cands = find_candidates(with_read, -1, data_row)
        self.ctx.read(actor, "duplicate_check", "person", [c["other_id"] for c in cands], purpose)
        return cands
