"""Rented houses and their landlords: a landlord registers each letting before tenants
can be registered at that address."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from ..errors import Conflict, NotFound
from .common import Access, Actor, Ctx, insert_row, zone_clause
from .ids import MAX_ADDRESS, RecordError, clean_text, clean_zone
from .records import refresh_closed


class Housing:
    """Letting registrations."""

    def __init__(self, ctx: Ctx, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    def register_letting(
        self, actor: Actor, data: dict[str, Any], purpose: str | None
    ) -> dict[str, Any]:
        """Register a rented house with its landlord (an existing, active person)."""
        address = clean_text("address", data.get("address"), MAX_ADDRESS)
        zone = clean_zone(data.get("zone"))
        rooms = data.get("rooms")
        if rooms is not None and (not isinstance(rooms, int) or not 1 <= rooms <= 500):
            raise RecordError("rooms", "must be a whole number from 1 to 500")
        self.access.check_zone(actor, zone, "house")
        landlord_id = data.get("landlord_id")
        rows = self.ctx.db.query("select * from pop_persons where id = ?", [landlord_id])
        if not rows or rows[0]["status"] != "active":
            raise RecordError("landlord_id", f"no active person {landlord_id}: register them first")
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> int:
            hid = insert_row(db, "pop_houses", dict(
                address=address, zone=zone, landlord_id=landlord_id, rooms=rooms,
                status="registered", registered_at=now))  # fmt: skip
            refresh_closed(db, rows[0]["id"], now)
            Ctx.entry(db, actor, "register_letting", "person", landlord_id, purpose, {"house": hid})
            return hid

        return self.get(actor, self.ctx.db.write(write), purpose, audit=False)

    def get(
        self, actor: Actor, house_id: int, purpose: str | None, *, audit: bool = True
    ) -> dict[str, Any]:
        """A house, its landlord (list view) and current tenants' registration ids."""
        rows = self.ctx.db.query("select * from pop_houses where id = ?", [house_id])
        if not rows:
            raise NotFound(f"no house {house_id}")
        h = rows[0]
        self.access.check_zone(actor, h["zone"], "house")
        h["landlord"] = self.ctx.db.query(
            "select id, name, name_latin, id_masked, phone from pop_persons where id = ?",
            [h["landlord_id"]],
        )[0]
        h["tenancies"] = self.ctx.db.query(
            "select r.id, r.person_id, p.name, r.status, r.valid_from, r.valid_to "
            "from pop_registrations r join pop_persons p on p.id = r.person_id "
            "where r.house_id = ? and r.status in ('draft','registered') order by r.id",
            [house_id],
        )
        if audit:
            ids = [h["landlord_id"]] + [t["person_id"] for t in h["tenancies"]]
            self.ctx.read(actor, "read_house", "person", ids, purpose, {"house": house_id})
        return h

    def list(
        self, actor: Actor, purpose: str | None, zone: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Houses in the officer's zones with the landlord's name and tenant count."""
        zc, params = zone_clause(self.access.zones(actor), "h.zone")
        if zone:
            zc += " and h.zone = ?"
            params.append(zone)
        rows = self.ctx.db.query(
            "select h.id, h.address, h.zone, h.status, h.rooms, h.landlord_id, p.name as landlord, "
            "(select count(*) from pop_registrations r where r.house_id = h.id "
            " and r.status = 'registered') as tenants "
            f"from pop_houses h join pop_persons p on p.id = h.landlord_id where {zc} "
            "order by h.id limit ?",
            [*params, max(1, min(limit, 1000))],
        )
        self.ctx.read(actor, "list_houses", "person", [r["landlord_id"] for r in rows], purpose)
        return rows

    def withdraw(self, actor: Actor, house_id: int, purpose: str | None) -> dict[str, Any]:
        """End a letting; refused while tenants are still registered there."""
        h = self.get(actor, house_id, purpose, audit=False)
        if h["status"] != "registered":
            raise Conflict(f"house {house_id} is already withdrawn")
        if any(t["status"] == "registered" for t in h["tenancies"]):
            raise Conflict("tenants are still registered at this house: move them out first")
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> None:
            db.execute("update pop_houses set status = 'withdrawn', withdrawn_at = ? where id = ?",
                       [now, house_id])  # fmt: skip
            refresh_closed(db, h["landlord_id"], now)
            Ctx.entry(db, actor, "withdraw_letting", "person", h["landlord_id"], purpose,
                      {"house": house_id})  # fmt: skip

        self.ctx.db.write(write)
        return self.get(actor, house_id, purpose, audit=False)
