"""Service requests: hotline, walk-in and web intake; SLA by category; status history."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from ..errors import Conflict, NotFound
from .common import Access, Actor, Ctx, insert_row, update_row, username, zone_clause
from .ids import MAX_SHORT, MAX_TEXT, RecordError, clean_name, clean_phone, clean_text, clean_zone

#: Category → hours until the request is due (the one place SLAs are defined).
SLA_HOURS: dict[str, int] = {
    "wage_arrears": 72,
    "housing_dispute": 72,
    "legal_aid": 120,
    "social_insurance": 120,
    "schooling": 168,
    "other": 120,
}
CHANNELS = ("hotline", "walk_in", "web")
OPEN = ("open", "assigned", "in_progress")
NEXT: dict[str, frozenset[str]] = {
    "open": frozenset({"assigned"}),
    "assigned": frozenset({"assigned", "in_progress", "resolved"}),
    "in_progress": frozenset({"assigned", "resolved"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
}


class Requests:
    """Intake, assignment, progress, resolution, satisfaction."""

    def __init__(self, ctx: Ctx, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    def create(self, actor: Actor, data: dict[str, Any], purpose: str | None) -> dict[str, Any]:
        """Take a request in; its due time follows the category's SLA."""
        channel = data.get("channel")
        if channel not in CHANNELS:
            raise RecordError("channel", f"must be one of {', '.join(CHANNELS)}")
        category = data.get("category")
        if category not in SLA_HOURS:
            raise RecordError("category", f"must be one of {', '.join(SLA_HOURS)}")
        description = clean_text("description", data.get("description"), MAX_TEXT)
        contact_name = data.get("contact_name")
        contact_name = clean_name(contact_name) if contact_name else None
        phone = clean_phone(data.get("contact_phone"))
        zone = clean_zone(data.get("zone"))
        person_id = data.get("person_id")
        if person_id is not None and not self.ctx.db.query(
            "select 1 from pop_persons where id = ? and status = 'active'", [person_id]
        ):
            raise RecordError("person_id", f"no active person {person_id}")
        self.access.check_zone(actor, zone, "service request")
        now = self.ctx.now()
        row = dict(channel=channel, category=category, description=description,
                   contact_name=contact_name, contact_phone=phone, person_id=person_id,
                   zone=zone, status="open", due_at=now + SLA_HOURS[category] * 3600,
                   created_at=now)  # fmt: skip

        def write(db: sqlite_utils.Database) -> int:
            rid = insert_row(db, "pop_requests", row)
            insert_row(db, "pop_request_history", dict(request_id=rid, ts=now, actor=username(actor),
                                                  from_status=None, to_status="open",
                                                  note=f"intake via {channel}"))  # fmt: skip
            Ctx.entry(db, actor, "request_create", "service_request", rid, purpose,
                      {"person": person_id})  # fmt: skip
            return rid

        return self.get(actor, self.ctx.db.write(write), purpose, audit=False)

    def _row(self, actor: Actor, request_id: int) -> dict[str, Any]:
        rows = self.ctx.db.query("select * from pop_requests where id = ?", [request_id])
        if not rows:
            raise NotFound(f"no service request {request_id}")
        self.access.check_zone(actor, rows[0]["zone"], "service request")
        return rows[0]

    def _decorate(self, r: dict[str, Any]) -> dict[str, Any]:
        r["overdue"] = r["status"] in OPEN and r["due_at"] < self.ctx.now()
        return r

    def get(
        self, actor: Actor, request_id: int, purpose: str | None, *, audit: bool = True
    ) -> dict[str, Any]:
        """One request with its status history (contact details included; audited)."""
        r = self._decorate(self._row(actor, request_id))
        r["history"] = self.ctx.db.query(
            "select ts, actor, from_status, to_status, note from pop_request_history "
            "where request_id = ? order by id",
            [request_id],
        )
        if audit:
            self.ctx.read(actor, "read", "service_request", [request_id], purpose)
        return r

    def categories(self) -> list[dict[str, Any]]:
        """The categories and their SLA in hours (no personal data)."""
        return [{"category": c, "sla_hours": h} for c, h in SLA_HOURS.items()]

    def list(
        self, actor: Actor, purpose: str | None, *, status: str | None = None,
        overdue: bool = False, assignee: str | None = None, limit: int = 100,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Requests in the officer's zones; overdue ones first, then by due time."""
        zc, params = zone_clause(self.access.zones(actor))
        if status:
            zc += " and status = ?"
            params.append(status)
        if assignee:
            zc += " and assignee = ?"
            params.append(assignee)
        if overdue:
            zc += " and status in ('open','assigned','in_progress') and due_at < ?"
            params.append(self.ctx.now())
        rows = self.ctx.db.query(
            "select id, channel, category, contact_name, zone, status, assignee, due_at, "
            f"created_at, resolved_at, satisfaction, person_id from pop_requests where {zc} "
            "order by (status in ('open','assigned','in_progress') and due_at < ?) desc, due_at "
            "limit ?",
            [*params, self.ctx.now(), max(1, min(limit, 1000))],
        )
        self.ctx.read(actor, "list", "service_request", [r["id"] for r in rows], purpose)
        return [self._decorate(r) for r in rows]

    def change(
        self, actor: Actor, request_id: int, to: str, purpose: str | None, *,
        assignee: str | None = None, note: str | None = None, resolution: str | None = None,
        satisfaction: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Move a request on: assign, start, resolve (with a resolution), close."""
        r = self._row(actor, request_id)
        if to not in NEXT:
            raise RecordError("status", f"unknown status {str(to)[:20]!r}")
        if to not in NEXT[r["status"]]:
            raise Conflict(f"a {r['status']} request cannot become {to}")
        note = clean_text("note", note, 1000, required=False)
        sets: dict[str, Any] = {"status": to}
        if to == "assigned":
            sets["assignee"] = clean_text("assignee", assignee, MAX_SHORT)
        if to == "resolved":
            sets["resolution"] = clean_text("resolution", resolution, MAX_TEXT)
            sets["resolved_at"] = self.ctx.now()
        if to == "closed":
            sets["closed_at"] = self.ctx.now()
        if satisfaction is not None:
            if to not in ("resolved", "closed"):
                raise RecordError("satisfaction", "is given when resolving or closing")
            if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
                raise RecordError("satisfaction", "must be a whole number from 1 to 5")
            sets["satisfaction"] = satisfaction
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> None:
            cur = db.execute("select status from pop_requests where id = ?", [request_id])
            if cur.fetchone()[0] != r["status"]:
                raise Conflict("the request changed meanwhile; reload and retry")
            update_row(db, "pop_requests", request_id, sets)
            insert_row(db, "pop_request_history", dict(
                request_id=request_id, ts=now, actor=username(actor), from_status=r["status"],
                to_status=to, note=note or sets.get("assignee") or sets.get("resolution")))  # fmt: skip
            Ctx.entry(db, actor, "request_" + to, "service_request", request_id, purpose)

        self.ctx.db.write(write)
        return self.get(actor, request_id, purpose, audit=False)
