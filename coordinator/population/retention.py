"""Erasure and retention: anonymise a person on request, or once their records have been
closed for longer than ``settings.population_retention_days``.

Anonymising keeps what aggregate statistics need (zone, origin, nationality, sex, birth
year, statuses and dates) and removes everything that identifies: name, ID number
(ciphertext, hash and mask), phone, exact birth date, addresses, hosts, request texts.
The audit log keeps one ``erase`` entry per person; it never held the data itself.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlite_utils

from ..errors import Conflict, NotFound
from .common import Access, Actor, Ctx
from .names import address_text
from .records import unindex_person

log = logging.getLogger(__name__)
ANON = "[anonymised]"
BATCH = 500


def anonymise(db: sqlite_utils.Database, person: dict[str, Any], now: float) -> None:
    """Strip a person and their records of identifying data (inside a transaction)."""
    pid = person["id"]
    if person["status"] != "anonymised":
        unindex_person(db, person)
    db.execute(
        "update pop_persons set name = ?, name_latin = null, match_key = null, id_enc = null, "
        "id_hash = null, id_masked = null, phone = null, dob = substr(dob, 1, 4), "
        "status = 'anonymised', merged_into = null, updated_at = ?, "
        "closed_at = coalesce(closed_at, ?) where id = ?",
        [ANON, now, now, pid],
    )
    for rid, address in db.execute(
        "select id, address from pop_registrations where person_id = ? and address != ?",
        [pid, ANON],
    ).fetchall():
        # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
        db.execute(
            "insert into pop_address_fts(pop_address_fts, rowid, text) values ('delete', ?, ?)",
            [rid, address_text(address)],
        )
    db.execute("update pop_registrations set address = ? where person_id = ?", [ANON, pid])
    db.execute(
        "update pop_visitors set host_name = ?, address = ? where person_id = ?", [ANON, ANON, pid]
    )
    db.execute(
        "update pop_requests set contact_name = null, contact_phone = null, description = ?, "
        "resolution = case when resolution is null then null else ? end where person_id = ?",
        [ANON, ANON, pid],
    )
    db.execute(
        "update pop_dup_candidates set status = 'not_duplicate', decided_by = 'erasure', "
        "decided_at = ? where status = 'open' and (person_id = ? or other_id = ?)",
        [now, pid, pid],
    )


class Retention:
    """Erasure on request and the scheduled retention job."""

    def __init__(self, ctx: Ctx, access: Access, retention_days: float) -> None:
        self.ctx = ctx
        self.access = access
        self.retention_s = retention_days * 86400

    def erase(self, actor: Actor, person_id: int, reason: str, purpose: str | None) -> dict:
        """Anonymise one person now (a right-to-erasure request or a court order)."""
        rows = self.ctx.db.query("select * from pop_persons where id = ?", [person_id])
        if not rows:
            raise NotFound(f"no person {person_id}")
        self.access.check_person(actor, rows[0])
        if rows[0]["status"] == "anonymised":
            raise Conflict(f"person {person_id} is already anonymised")
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> None:
            anonymise(db, rows[0], now)
            Ctx.entry(db, actor, "erase", "person", person_id, purpose, {"reason": reason})

        self.ctx.db.write(write)
        return {"id": person_id, "status": "anonymised"}

    def run_once(self) -> dict[str, int]:
        """Anonymise persons closed longer than the retention period; strip old requests."""
        now = self.ctx.now()
        cutoff = now - self.retention_s
        persons = 0
        while True:

            def batch(db: sqlite_utils.Database) -> int:
                rows = [dict(zip(("id", "name", "name_latin", "status"), r, strict=True))
                        for r in db.execute(
                            "select id, name, name_latin, status from pop_persons where "
                            "closed_at is not null and closed_at < ? and status != 'anonymised' "
                            "limit ?", [cutoff, BATCH])]  # fmt: skip
                for r in rows:
                    anonymise(db, r, now)
                    Ctx.entry(db, "retention-job", "erase", "person", r["id"], "retention",
                              {"closed_before": cutoff})  # fmt: skip
                return len(rows)

            n = self.ctx.db.write(batch)
            persons += n
            if n < BATCH:
                break

        def requests(db: sqlite_utils.Database) -> int:
            ids = [r[0] for r in db.execute(
                "select id from pop_requests where status = 'closed' and closed_at < ? "
                "and description != ?", [cutoff, ANON])]  # fmt: skip
            for rid in ids:
                db.execute("update pop_requests set contact_name = null, contact_phone = null, "
                           "description = ?, resolution = ? where id = ?", [ANON, ANON, rid])  # fmt: skip
                Ctx.entry(db, "retention-job", "erase", "service_request", rid, "retention")
            return len(ids)

        return {"persons": persons, "requests": self.ctx.db.write(requests)}
