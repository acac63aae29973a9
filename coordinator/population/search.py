"""Search by name (FTS5 trigram + pinyin) and by address, within the officer's zones.

List views only: ID numbers masked, no phone. Every search is audited with the ids it
returned, before they are returned.
"""

from __future__ import annotations

from typing import Any

from .common import Access, Actor, Ctx, list_view, zone_clause
from .ids import RecordError
from .names import QueryError, address_query, fts_query

MAX_LIMIT = 200


class Search:
    """Name and address search."""

    def __init__(self, ctx: Ctx, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    def persons(
        self, actor: Actor, purpose: str | None, *, name: str | None = None,
        address: str | None = None, zone: str | None = None, limit: int = 50,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Active persons matching a name and/or an address, in the caller's zones."""
        if not name and not address:
            raise RecordError("query", "give a name or an address to search for")
        limit = max(1, min(int(limit), MAX_LIMIT))
        zc, params = zone_clause(self.access.zones(actor), "p.zone")
        where, args = [f"p.status = 'active' and {zc}"], list(params)
        if zone:
            where.append("p.zone = ?")
            args.append(zone)
        try:
            if name:
                # rowid: FTS5 keys its index by it (inherent to SQLite full-text search).
                where.append("p.id in (select rowid from pop_name_fts where pop_name_fts match ?)")
                args.append(fts_query(name))
            if address:
                where.append(
                    "p.id in (select r.person_id from pop_registrations r where r.id in "
                    "(select rowid from pop_address_fts where pop_address_fts match ?) "
                    "and r.status in ('draft','registered'))"
                )
                args.append(address_query(address))
        except QueryError as exc:
            raise RecordError("query", str(exc)) from None
        rows = self.ctx.db.query(
            f"select p.* from pop_persons p where {' and '.join(where)} order by p.id limit ?",
            [*args, limit],
        )
        out = [list_view(r) for r in rows]
        self.ctx.read(actor, "search", "person", [r["id"] for r in rows], purpose,
                      {"name": bool(name), "address": bool(address)})  # fmt: skip
        return out
