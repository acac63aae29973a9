"""Role-gated, audited CSV export of persons in the officer's jurisdiction."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlite_utils

from ..identity.audit import AuditService
from .common import Access, Actor, Ctx, zone_clause

EXPORT_COLUMNS = ("id", "name", "name_latin", "id_type", "id_masked", "dob", "sex",
                  "nationality", "origin", "zone", "status")  # fmt: skip
MAX_EXPORT = 100_000


class Export:
    """CSV export; one audit entry per exported person, written before the file is built."""

    def __init__(self, ctx: Ctx, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    def persons_csv(
        self, actor: Actor, purpose: str | None, *, zone: str | None = None,
        include_id_numbers: bool = False, limit: int = MAX_EXPORT,
    ) -> str:  # fmt: skip
        """Active persons of the caller's zones (optionally one zone) as CSV text."""
        zc, params = zone_clause(self.access.zones(actor))
        if zone:
            zc += " and zone = ?"
            params.append(zone)
        rows = self.ctx.db.query(
            f"select * from pop_persons where status = 'active' and {zc} order by id limit ?",
            [*params, max(1, min(limit, MAX_EXPORT))],
        )
        action = "export_with_ids" if include_id_numbers else "export"
        entries = [AuditService.entry(actor, action, "person", r["id"], purpose,
                                      {"zone": zone, "count": len(rows)}) for r in rows]  # fmt: skip

        def write(db: sqlite_utils.Database) -> None:
            AuditService.append_many(db, entries)
            if not entries:
                Ctx.entry(db, actor, action, "person", None, purpose, {"zone": zone, "count": 0})

        self.ctx.db.write(write)
        buf = io.StringIO()
        cols = list(EXPORT_COLUMNS) + (["id_number"] if include_id_numbers else [])
        w = csv.writer(buf)
        w.writerow(cols)
        for r in rows:
            out: dict[str, Any] = {c: r.get(c) for c in EXPORT_COLUMNS}
            if include_id_numbers:
                out["id_number"] = self.ctx.keyring.decrypt(r["id_type"], r["id_enc"])
            w.writerow([out[c] for c in cols])
        return buf.getvalue()
