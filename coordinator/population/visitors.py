"""Foreign visitors' accommodation registrations: reported within 24 h of arrival.

Late reports are stored and flagged (losing the record would be worse). A visa already
expired is refused unless the officer confirms with ``accept_expired_visa`` — then the
record is kept and flagged for the exit-entry office.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils

from ..errors import Conflict, NotFound
from .common import Access, Actor, Ctx, insert_row, zone_clause
from .ids import (
    MAX_ADDRESS,
    MAX_SHORT,
    RecordError,
    clean_text,
    clean_zone,
    parse_date,
    parse_datetime,
)
from .records import refresh_closed

REPORT_WITHIN_S = 24 * 3600
VISA_TYPES = frozenset(
    [
        "C",
        "D",
        "F",
        "G",
        "J1",
        "J2",
        "L",
        "M",
        "Q1",
        "Q2",
        "R",
        "S1",
        "S2",
        "X1",
        "X2",
        "Z",
        "residence_permit",
        "visa_free",
    ]
)


class Visitors:
    """Accommodation registrations of foreign visitors."""

    def __init__(self, ctx: Ctx, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    def report(self, actor: Actor, data: dict[str, Any], purpose: str | None) -> dict[str, Any]:
        """Register a stay; flags a report made more than 24 h after arrival."""
        rows = self.ctx.db.query("select * from pop_persons where id = ?", [data.get("person_id")])
        if not rows or rows[0]["status"] != "active":
            raise RecordError("person_id", f"no active person {data.get('person_id')}")
        person = rows[0]
        if person["nationality"] == "CN":
            raise RecordError("person_id", "a Chinese national is registered as a resident")
        visa_type = str(data.get("visa_type") or "")
        if visa_type not in VISA_TYPES:
            raise RecordError("visa_type", f"must be one of {', '.join(sorted(VISA_TYPES))}")
        expiry = parse_date("visa_expiry", data.get("visa_expiry"))
        host_kind = data.get("host_kind")
        if host_kind not in ("hotel", "host"):
            raise RecordError("host_kind", "must be hotel or host")
        house_id, host_id, host_name, address, zone = self._host(host_kind, data)
        now = self.ctx.now()
        arrived = parse_datetime("arrived_at", data.get("arrived_at")).timestamp()
        if arrived > now + 300:
            raise RecordError("arrived_at", "is in the future")
        planned = data.get("planned_departure")
        planned_d = parse_date("planned_departure", planned) if planned else None
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        flags = []
        if expiry < today:
            if not data.get("accept_expired_visa"):
                raise RecordError(
                    "visa_expiry",
                    f"the visa expired on {expiry}: refer the visitor to the exit-entry office, "
                    "or confirm with accept_expired_visa to record the stay flagged",
                )
            flags.append("visa_expired")
        elif planned_d and planned_d > expiry:
            flags.append("visa_expires_during_stay")
        late = now - arrived > REPORT_WITHIN_S
        if late:
            flags.append("reported_late")
        self.access.check_zone(actor, zone, "visitor registration")
        row = dict(person_id=person["id"], visa_type=visa_type, visa_expiry=expiry.isoformat(),
                   host_kind=host_kind, host_name=host_name, address=address, zone=zone,
                   house_id=house_id, host_person_id=host_id,
                   arrived_at=arrived, reported_at=now,
                   planned_departure=planned_d.isoformat() if planned_d else None,
                   late=int(late), flags=json.dumps(flags))  # fmt: skip

        def write(db: sqlite_utils.Database) -> int:
            vid = insert_row(db, "pop_visitors", row)
            refresh_closed(db, person["id"], now)
            Ctx.entry(db, actor, "visitor_report", "person", person["id"], purpose,
                      {"visit": vid, "flags": flags})  # fmt: skip
            return vid

        return self.get(actor, self.ctx.db.write(write), purpose, audit=False)

    def _host(self, host_kind: str, data: dict[str, Any]) -> tuple[Any, Any, str, str, str]:
        """(house id, host id, host name, address, zone): a private host is a registered
        house and a person on record (its landlord, or someone registered there), never
        free text; a hotel is named with its address."""
        if host_kind == "hotel":
            return (None, None, str(clean_text("host_name", data.get("host_name"), MAX_SHORT)),
                    str(clean_text("address", data.get("address"), MAX_ADDRESS)),
                    clean_zone(data.get("zone")))  # fmt: skip
        house_id = data.get("house_id")
        if house_id is None:
            raise RecordError("house_id", "a stay with a private host names the registered house")
        q = self.ctx.db.query
        houses = q("select * from pop_houses where id = ? and status = 'registered'", [house_id])
        if not houses:
            raise RecordError("house_id", f"house {house_id} is not a registered house")
        house = houses[0]
        host_id = data.get("host_person_id") or house["landlord_id"]
        lives = q("select 1 from pop_registrations where person_id = ? and house_id = ? "
                  "and status = 'registered'", [host_id, house_id])  # fmt: skip
        if host_id != house["landlord_id"] and not lives:
            raise RecordError("host_person_id", f"person {host_id} is neither the landlord of "
                              f"house {house_id} nor registered there")  # fmt: skip
        host = q("select name, status from pop_persons where id = ?", [host_id])
        if not host or host[0]["status"] != "active":
            raise RecordError("host_person_id", f"no active person {host_id}")
        return house_id, host_id, host[0]["name"], house["address"], house["zone"]

    def get(
        self, actor: Actor, visit_id: int, purpose: str | None, *, audit: bool = True
    ) -> dict[str, Any]:
        """One stay with the visitor's list view."""
        rows = self.ctx.db.query(
            "select v.*, p.name, p.name_latin, p.nationality, p.id_masked from pop_visitors v "
            "join pop_persons p on p.id = v.person_id where v.id = ?",
            [visit_id],
        )
        if not rows:
            raise NotFound(f"no visitor registration {visit_id}")
        v = rows[0]
        self.access.check_zone(actor, v["zone"], "visitor registration")
        v["flags"] = json.loads(v["flags"])
        if audit:
            self.ctx.read(actor, "read_visit", "person", [v["person_id"]], purpose,
                          {"visit": visit_id})  # fmt: skip
        return v

    def list(
        self, actor: Actor, purpose: str | None, *, flagged: bool = False,
        current: bool = True, limit: int = 100,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Stays in the officer's zones (current ones by default; flagged ones first)."""
        zc, params = zone_clause(self.access.zones(actor), "v.zone")
        if current:
            zc += " and v.departed_at is null"
        if flagged:
            zc += " and v.flags != '[]'"
        rows = self.ctx.db.query(
            "select v.*, p.name, p.name_latin, p.nationality, p.id_masked from pop_visitors v "
            f"join pop_persons p on p.id = v.person_id where {zc} "
            "order by (v.flags != '[]') desc, v.id desc limit ?",
            [*params, max(1, min(limit, 1000))],
        )
        today = dt.datetime.fromtimestamp(self.ctx.now(), dt.UTC).date().isoformat()
        for r in rows:
            r["flags"] = json.loads(r["flags"])
            if (
                r["departed_at"] is None
                and r["visa_expiry"] < today
                and "visa_expired" not in r["flags"]
            ):
                r["flags"].append("overstaying")
        self.ctx.read(actor, "list_visits", "person", [r["person_id"] for r in rows], purpose)
        return rows

    def depart(self, actor: Actor, visit_id: int, purpose: str | None) -> dict[str, Any]:
        """Record the departure (closes the stay)."""
        v = self.get(actor, visit_id, purpose, audit=False)
        if v["departed_at"] is not None:
            raise Conflict(f"visitor registration {visit_id} is already closed")
        now = self.ctx.now()

        def write(db: sqlite_utils.Database) -> None:
            db.execute("update pop_visitors set departed_at = ? where id = ?", [now, visit_id])
            refresh_closed(db, v["person_id"], now)
            Ctx.entry(db, actor, "visitor_departed", "person", v["person_id"], purpose,
                      {"visit": visit_id})  # fmt: skip

        self.ctx.db.write(write)
        return self.get(actor, visit_id, purpose, audit=False)
